/**
 * A publisher for gateway tests: an Engine (no gateway) on a loopback DHT that builds a site
 * torrent from files given in memory, seeds it over TCP on 127.0.0.1 and puts its BEP 46
 * pointer. Visitors find it through the DHT (announce / get_peers; see torrents.ts for how the
 * TorrentStore closes the "both looked up before either announced" gap).
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Engine } from '../../src/engine.js'
import { fromHex } from '../../src/hex.js'
import type { KeyPair } from '../../src/keys.js'
import { putPointer } from '../../src/publisher.js'
import { buildSiteTorrent, listSiteFiles } from '../../src/site-torrent.js'
import { dhtReady } from '../../src/dht.js'

export interface Published {
  infohash: string
  seq: number
  torrent: Uint8Array
  /** The folder that holds `<name>/…` (what a seeder's save path is). */
  snapshot: string
}

export interface SitePublisher {
  engine: Engine
  key: KeyPair
  /** Write `files` (site path → content) as a new version, seed it, put the pointer (next seq). */
  publish (files: Record<string, string | Uint8Array>): Promise<Published>
  /** Seed without putting a pointer (for bittorrent:// sites). */
  seedOnly (files: Record<string, string | Uint8Array>): Promise<Published>
  close (): Promise<void>
}

export async function startPublisher (o: { dir: string, bootstrap: string[] }): Promise<SitePublisher> {
  const engine = await Engine.open({ dataDir: path.join(o.dir, 'publisher'), bootstrap: o.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500, lookupTimeoutMs: 5000 })
  let version = 0
  const { key } = await engine.keys.loadOrCreate('site')
  async function build (files: Record<string, string | Uint8Array>): Promise<Published> {
    const n = ++version
    const src = path.join(o.dir, `src-${n}`)
    for (const [p, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(src, p)), { recursive: true })
      await fs.writeFile(path.join(src, p), content)
    }
    const snapshot = path.join(o.dir, `snapshot-${n}`)
    const built = await buildSiteTorrent((await listSiteFiles(src)).files, { name: 'site', snapshotDir: snapshot })
    await engine.torrents.seed(built.torrent, { path: snapshot })
    return { infohash: built.infohash, seq: -1, torrent: built.torrent, snapshot }
  }
  return {
    engine,
    key,
    seedOnly: build,
    async publish (files) {
      const p = await build(files)
      await dhtReady(engine.dht, AbortSignal.timeout(5000))
      const { pointer } = await putPointer({ dht: engine.dht, store: engine.store, resolver: engine.resolver }, key, fromHex(p.infohash)!)
      return { ...p, seq: pointer.seq }
    },
    close: () => engine.close()
  }
}
