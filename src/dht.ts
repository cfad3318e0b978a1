/** A bittorrent-dht node set up the way btweb needs it: BEP 44 verification on, bounded timeouts, explicit bootstrap. */
import DHT from 'bittorrent-dht'
import { guardQueries } from './dht-guard.js'
import { verify } from './ed25519.js'
import { BtwebError } from './errors.js'

/** The mainline DHT routers: the default for real use. Tests always pass their own loopback nodes. */
export const MAINLINE_BOOTSTRAP = [
  'router.bittorrent.com:6881',
  'router.utorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'dht.libtorrent.org:25401'
]

export interface DhtOptions {
  /** host:port strings; [] means "start alone" (a test network adds nodes itself). */
  bootstrap: string[]
  /** UDP port, 0 = chosen by the OS. */
  port?: number
  /** Address to bind; tests use 127.0.0.1. */
  host?: string
  /** k-rpc per-query timeout. Each dead node costs this much in a lookup (DESIGN.md). */
  queryTimeoutMs?: number
}

export type Dht = DHT

/** bittorrent-dht passes Buffers; verification is ed25519 over the BEP 44 signed buffer. */
export function dhtVerify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return verify(signature, message, publicKey)
}

export function parseBootstrap (value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const list = value.split(',').map(s => s.trim()).filter(Boolean)
  for (const entry of list) {
    const m = /^(.+):(\d{1,5})$/.exec(entry)
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new BtwebError('BAD_ARGUMENT', `A bootstrap node is host:port; "${entry}" is not.`)
  }
  return list
}

/** Create a listening DHT node. Resolves once bound; bootstrapping goes on in the background. */
export async function createDht (opts: DhtOptions): Promise<Dht> {
  const dht = new DHT({
    bootstrap: opts.bootstrap.length ? opts.bootstrap : false,
    verify: dhtVerify,
    timeout: opts.queryTimeoutMs ?? 1000
  })
  guardQueries(dht) // a malformed KRPC query must not crash the process (dht-guard.ts)
  await new Promise<void>((resolve, reject) => {
    dht.once('error', reject)
    dht.listen(opts.port ?? 0, opts.host ?? '0.0.0.0', () => {
      dht.off('error', reject)
      resolve()
    })
  })
  return dht
}

export async function destroyDht (dht: Dht): Promise<void> {
  if (dht.destroyed) return
  await new Promise<void>(resolve => dht.destroy(() => resolve()))
}

/** Wait until the node has bootstrapped (or the signal fires: then carry on with what we have). */
export async function dhtReady (dht: Dht, signal?: AbortSignal): Promise<void> {
  if (dht.ready) return
  await new Promise<void>(resolve => {
    const done = () => { signal?.removeEventListener('abort', done); dht.off('ready', done); resolve() }
    dht.once('ready', done)
    signal?.addEventListener('abort', done, { once: true })
  })
}
