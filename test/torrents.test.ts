/** TorrentStore on its own: cache cap with LRU eviction of whole torrents, saved metadata, close. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { fromHex } from '../src/hex.js'
import { buildSiteTorrent, listSiteFiles } from '../src/site-torrent.js'
import { TorrentStore } from '../src/torrents.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { tempDir } from './helpers/tmp.js'

const MB = 2 ** 20
let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
let seeder: TorrentStore

const open = (name: string, maxCacheBytes = 1e9) => TorrentStore.open({
  cacheDir: path.join(tmp.dir, name),
  maxCacheBytes,
  dht: { bootstrap: net.bootstrap, queryTimeoutMs: 500 },
  bind: '127.0.0.1',
  torrentPort: 0,
  utp: false,
  seed: true,
  metadataTimeoutMs: 5000
})

test.before(async () => {
  tmp = await tempDir('btweb-torrents-')
  net = await startDhtNet(8)
  seeder = await open('seeder')
})
test.after(async () => {
  await seeder?.close()
  await net?.close()
  await tmp?.cleanup()
})

async function seedSite (n: number, bytes: number): Promise<{ infohash: string, data: Buffer }> {
  const src = path.join(tmp.dir, `src-${n}`)
  await fs.mkdir(src, { recursive: true })
  const data = randomBytes(bytes)
  await fs.writeFile(path.join(src, 'data.bin'), data)
  const snapshot = path.join(tmp.dir, `snap-${n}`)
  const built = await buildSiteTorrent((await listSiteFiles(src)).files, { name: `site${n}`, snapshotDir: snapshot })
  await seeder.seed(built.torrent, { path: snapshot })
  return { infohash: built.infohash, data }
}

async function readAll (store: TorrentStore, infohash: string): Promise<Buffer> {
  const content = await store.get(fromHex(infohash)!, { signal: AbortSignal.timeout(10_000) })
  const chunks: Buffer[] = []
  for await (const c of content.file('data.bin')!.createReadStream()) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

test('the cache stays under its cap by evicting the least recently used torrent', async () => {
  const sites = [await seedSite(1, MB), await seedSite(2, MB), await seedSite(3, MB)]
  const visitor = await open('visitor', 2.5 * MB)
  try {
    for (const s of sites) {
      visitor.addPeer(fromHex(s.infohash)!, `127.0.0.1:${seeder.port}`) // skip the DHT round: this test is about the cache
      assert.ok((await readAll(visitor, s.infohash)).equals(s.data))
    }
    const dataDir = (ih: string) => path.join(tmp.dir, 'visitor', 'data', ih)
    const deadline = Date.now() + 5000
    while (existsSync(dataDir(sites[0].infohash)) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    assert.not.ok(existsSync(dataDir(sites[0].infohash)), 'the oldest torrent was not evicted')
    assert.not.ok(existsSync(path.join(tmp.dir, 'visitor', 'torrents', sites[0].infohash + '.torrent')))
    assert.ok(existsSync(dataDir(sites[2].infohash)))
    assert.ok(existsSync(path.join(tmp.dir, 'visitor', 'torrents', sites[2].infohash + '.torrent')))
    assert.ok(visitor.cacheBytes() <= 2.5 * MB, `cache holds ${visitor.cacheBytes()} bytes`)
    // An evicted site is fetched again on the next visit.
    visitor.addPeer(fromHex(sites[0].infohash)!, `127.0.0.1:${seeder.port}`)
    assert.ok((await readAll(visitor, sites[0].infohash)).equals(sites[0].data))
  } finally {
    await visitor.close()
    await visitor.close() // idempotent
  }
  // The index survives a restart.
  const index = JSON.parse(await fs.readFile(path.join(tmp.dir, 'visitor', 'index.json'), 'utf8'))
  assert.ok(index.torrents[sites[0].infohash])
})

test('seed() refuses files that do not match the torrent; get() honours its signal', async () => {
  const src = path.join(tmp.dir, 'src-bad')
  await fs.mkdir(src, { recursive: true })
  await fs.writeFile(path.join(src, 'a.txt'), 'original')
  const snapshot = path.join(tmp.dir, 'snap-bad')
  const built = await buildSiteTorrent((await listSiteFiles(src)).files, { name: 'bad', snapshotDir: snapshot })
  await fs.writeFile(path.join(snapshot, 'bad', 'a.txt'), 'tampered')
  try {
    await seeder.seed(built.torrent, { path: snapshot })
    assert.unreachable('seeded mismatching files')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'PUBLISH_ERROR')
  }
  const visitor = await open('visitor2')
  try {
    const t0 = Date.now()
    await visitor.get(randomBytes(20), { signal: AbortSignal.timeout(1500) }).then(() => assert.unreachable(), (err) => assert.is(err.code, 'TIMEOUT'))
    assert.ok(Date.now() - t0 < 2500)
  } finally {
    await visitor.close()
  }
})

test.run()
