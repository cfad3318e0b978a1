/**
 * Putting BEP 46 pointers into the DHT and keeping them there.
 *
 * seq = max(highest seq on disk, highest seq in the DHT) + 1, so a publisher never goes back,
 * even after a restart or when another machine published with the same key. The new pointer
 * is written to the pointer store BEFORE it is put: a crash between the two can never lead to
 * a second, different pointer with the same seq.
 */
import type { Dht } from './dht.js'
import { encodePointerValue, signItem, checkSalt } from './bep44.js'
import { BtwebError, abortError } from './errors.js'
import { toHex } from './hex.js'
import type { KeyPair } from './keys.js'
import { log, logRejection } from './log.js'
import type { Pointer, PointerStore } from './pointer-store.js'
import type { Resolution, Resolver } from './resolver.js'

export interface PutResult {
  pointer: Pointer
  /** How many DHT nodes stored the item (0 with `unchanged` when they all held it already). */
  stored: number
  /** The DHT already held this very pointer: it was re-put, no new seq was used. */
  unchanged: boolean
}

/** Put one signed item (new or echoed) to the nodes closest to its target. */
export async function putItem (dht: Dht, pointer: Pointer, { cas, signal, echo = false }: { cas?: number, signal?: AbortSignal, echo?: boolean } = {}): Promise<number> {
  signal?.throwIfAborted()
  return await new Promise<number>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal!, 'Putting the pointer'))
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      dht.put({
        k: Buffer.from(pointer.publicKey),
        salt: pointer.salt.length ? Buffer.from(pointer.salt) : undefined,
        seq: pointer.seq,
        v: decodeForPut(pointer),
        sig: Buffer.from(pointer.signature),
        ...(cas !== undefined ? { cas } : {})
      }, (err, _target, n) => {
        signal?.removeEventListener('abort', onAbort)
        // Re-putting an item the nodes already hold: bittorrent-dht answers 302 for an equal seq
        // (BEP 44 says it should reset the expiry instead); the item is there, which is the point.
        if (err && echo && err.code === 302) resolve(0)
        else if (err) reject(new BtwebError('DHT_ERROR', `The DHT did not store the pointer: ${err.message}`, { cause: err }))
        else resolve(n)
      })
    } catch (err) {
      signal?.removeEventListener('abort', onAbort)
      reject(new BtwebError('DHT_ERROR', `The DHT did not take the pointer: ${(err as Error).message}`, { cause: err }))
    }
  })
}

// bittorrent-dht bencodes `v` itself: hand it the dict so that the bytes on the wire are ours.
function decodeForPut (pointer: Pointer): { ih: Buffer } {
  return { ih: Buffer.from(pointer.infohash) }
}

export interface PutPointerOptions {
  salt?: Uint8Array
  signal?: AbortSignal
}

/** Sign and put {ih: infohash} under `key` with the next seq. */
export async function putPointer (
  deps: { dht: Dht, store: PointerStore, resolver: Resolver },
  key: KeyPair,
  infohash: Uint8Array,
  { salt = new Uint8Array(0), signal }: PutPointerOptions = {}
): Promise<PutResult> {
  checkSalt(salt)
  const site = { publicKey: key.publicKey, salt }
  const onDisk = await deps.store.get(key.publicKey, salt)
  let inDht: Resolution | null = null
  try {
    inDht = await deps.resolver.resolve(site, { signal })
  } catch (err) {
    if (!(err instanceof BtwebError && err.code === 'NO_SUCH_SITE')) throw err
  }
  const current = Math.max(onDisk?.seq ?? -1, inDht?.seq ?? -1)
  if (inDht && !inDht.stale && current === inDht.seq && toHex(inDht.infohash) === toHex(infohash)) {
    // Same content as the DHT already has: re-put it (resets expiry) rather than burning a seq.
    return { pointer: inDht, stored: await putItem(deps.dht, inDht, { signal, echo: true }), unchanged: true }
  }
  const seq = current + 1
  const item = signItem(key.seed, key.publicKey, salt, seq, encodePointerValue(infohash))
  const pointer: Pointer = { ...item, infohash }
  await deps.store.save(pointer)
  const cas = inDht && !inDht.stale ? inDht.seq : undefined
  const stored = await putItem(deps.dht, pointer, { cas, signal })
  log('publisher', `put ${toHex(key.publicKey).slice(0, 12)}… seq ${seq} → ${toHex(infohash)} on ${stored} nodes`)
  return { pointer, stored, unchanged: false }
}

/**
 * Keeps pointers alive: BEP 44 items may expire after 2 hours and should be re-put hourly.
 * Re-puts the newest stored pointer (same seq, same signature) every `intervalMs`.
 */
export class Republisher {
  readonly #dht: Dht
  readonly #store: PointerStore
  readonly #intervalMs: number
  readonly #sites = new Map<string, { publicKey: Uint8Array, salt: Uint8Array }>()
  #timer: NodeJS.Timeout | null = null
  #closed = false
  /** Counts re-puts that reached at least one node: for status output and tests. */
  republished = 0

  constructor (opts: { dht: Dht, store: PointerStore, intervalMs?: number }) {
    this.#dht = opts.dht
    this.#store = opts.store
    this.#intervalMs = opts.intervalMs ?? 30 * 60_000
  }

  add (site: { publicKey: Uint8Array, salt: Uint8Array }): void {
    this.#sites.set(toHex(site.publicKey) + '/' + toHex(site.salt), site)
    if (!this.#timer && !this.#closed) {
      this.#timer = setInterval(() => { this.republishAll().catch(logRejection('republisher')) }, this.#intervalMs)
      this.#timer.unref()
    }
  }

  async republishAll (): Promise<void> {
    for (const site of this.#sites.values()) {
      if (this.#closed) return
      const pointer = await this.#store.get(site.publicKey, site.salt)
      if (!pointer) continue
      try {
        const n = await putItem(this.#dht, pointer, { signal: AbortSignal.timeout(60_000), echo: true })
        this.republished++
        log('republisher', `re-put ${toHex(site.publicKey).slice(0, 12)}… seq ${pointer.seq} on ${n} nodes`)
      } catch (err) {
        log('republisher', `re-put failed: ${(err as Error).message}`)
      }
    }
  }

  close (): void {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }
}
