/**
 * Rows 1 and 2: cold open and warm revisit of a small site (index.html + a 5 MB file) published
 * on a private DHT of 20 bittorrent-dht nodes on 127.0.0.1.
 *
 * btweb, each run: a fresh engine (fresh data dir) is opened and one GET for `/` goes to its
 * gateway with the site's Host header; timed from Engine.open to the first body byte (resolve
 * the key in the DHT, find the seeder, fetch the metadata and the pieces of index.html).
 * The engine's 'status' event with phase 'metadata' marks the end of the resolve part.
 * Reference, each run: libtorrent resolves the same pointer (lt_dht get: process start,
 * bootstrap, the whole dht_get_item lookup) and then downloads the same torrent from the same
 * seeder, given as a peer, starting from the infohash (libtorrent's own time from adding the
 * torrent to having every piece). Runs alternate btweb / libtorrent so drift hits both.
 *
 * Warm revisit: the same URL again on the same engine (pointer and content cached): time to
 * first byte, against a plain node:http + fs.createReadStream server sending the same file.
 * Revisit after restart: a new engine on the same data dir (pointer on disk, content in the
 * cache), against the cold open.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { originHost, parseAddress } from '../../src/address.js'
import { Engine, type SiteStatus } from '../../src/engine.js'
import { toHex } from '../../src/hex.js'
import { startLocalDht } from '../../src/local-dht.js'
import { publishFolder } from '../../src/publish-site.js'
import { ltDhtBinary, ltDownload, ltGet } from '../../test/helpers/libtorrent.js'
import { RUNS, emitRow, expectOk, log, main, now, startPlainServer, summarize, tempDir, timedGet, withTimeout, writeRandomFile } from './lib.js'

const DHT_NODES = 20
/** libtorrent's get returns the best item so far when this runs out (its lookup waits 15 s per unanswering node). */
const LT_GET_BUDGET_MS = 5000
const INDEX_HTML = '<!doctype html><html><head><title>bench</title></head><body><h1>btweb bench site</h1><p>index.html + big.bin (5 MB)</p></body></html>\n'

main(async (cleanup) => {
  await ltDhtBinary()
  const work = await tempDir(cleanup, 'cold')
  const dht = await startLocalDht(DHT_NODES)
  cleanup.add('private DHT', () => dht.close())
  const nodes = dht.bootstrap.map(b => ({ host: '127.0.0.1', port: Number(b.split(':')[1]) }))

  const siteDir = path.join(work, 'site')
  await mkdir(siteDir)
  await writeFile(path.join(siteDir, 'index.html'), INDEX_HTML)
  await writeRandomFile(path.join(siteDir, 'big.bin'), 5 * 2 ** 20)

  const publisher = await Engine.open({ dataDir: path.join(work, 'publisher'), bootstrap: dht.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500 })
  cleanup.add('publisher engine', () => publisher.close())
  const { key } = await publisher.keys.loadOrCreate('bench')
  const published = await publishFolder(publisher, { folder: siteDir, key })
  const address = parseAddress(published.record.url)
  const seeder = { host: '127.0.0.1', port: publisher.torrents.port }
  log(`published ${published.record.url} (ih ${published.infohash}, ${published.totalBytes} bytes), seeder on ${seeder.port}`)

  const plain = await startPlainServer(siteDir)
  cleanup.add('plain server', () => plain.close())

  const cold: number[] = []
  const resolvePart: number[] = []
  const fetchPart: number[] = []
  const warm: number[] = []
  const plainTtfb: number[] = []
  const restart: number[] = []
  const ltGetMs: number[] = []
  const ltDlMs: number[] = []
  const ltSum: number[] = []
  let ltCutShort = 0

  for (let run = 0; run < RUNS; run++) {
    // --- btweb: fresh engine, fresh data dir
    const dataDir = path.join(work, `visitor-${run}`)
    const t0 = now()
    let engine: Engine | null = await Engine.open({ dataDir, bootstrap: dht.bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500 })
    try {
      let resolvedAt = -1
      engine.on('status', (s: SiteStatus) => { if (s.phase === 'metadata' && resolvedAt < 0) resolvedAt = now() - t0 })
      const port = engine.gateway!.port
      const host = `${originHost(address)}:${port}`
      const tReq = now()
      const first = expectOk(await withTimeout(timedGet(port, host, '/'), 60_000, 'cold open'), 'cold open')
      const openMs = tReq - t0 + first.firstByteMs // from Engine.open to the first byte
      cold.push(openMs)
      resolvePart.push(resolvedAt)
      fetchPart.push(openMs - resolvedAt)
      // warm revisit on the same engine, then the plain server, alternating
      for (let i = 0; i < 3; i++) {
        warm.push(expectOk(await timedGet(port, host, '/'), 'warm revisit').firstByteMs)
        plainTtfb.push(expectOk(await timedGet(plain.port, `127.0.0.1:${plain.port}`, '/index.html'), 'plain server').firstByteMs)
      }
      await engine.close() // the restarted engine below takes over its data dir (and its place in the DHT)
      engine = null
      // revisit after a restart: same data dir, new engine
      const t1 = now()
      engine = await Engine.open({ dataDir, bootstrap: dht.bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500 })
      const tReq2 = now()
      const again = expectOk(await withTimeout(timedGet(engine.gateway!.port, `${originHost(address)}:${engine.gateway!.port}`, '/'), 60_000, 'restart revisit'), 'restart revisit')
      restart.push(tReq2 - t1 + again.firstByteMs)
    } finally {
      // Kept open until the end: a closed engine leaves a dead node in the other nodes' routing
      // tables, and every later lookup (libtorrent's above all: 15 s per dead node) would wait for it.
      if (engine) { const e = engine; cleanup.add(`visitor engine ${run}`, () => e.close()) }
    }

    // --- libtorrent: get the pointer, then download the torrent from the same seeder
    const g0 = now()
    const got = await ltGet({ nodes, publicKeyHex: toHex(key.publicKey), timeoutMs: LT_GET_BUDGET_MS })
    if (!got?.authoritative) ltCutShort++
    const getMs = now() - g0
    if (!got || got.infohash !== published.infohash) throw new Error(`libtorrent resolved ${JSON.stringify(got)}, expected ${published.infohash}`)
    const save = path.join(work, `lt-${run}`)
    await mkdir(save)
    const dl = await ltDownload({ torrent: got.infohash, peer: seeder, savePath: save, timeoutMs: 60_000 })
    await rm(save, { recursive: true, force: true })
    ltGetMs.push(getMs)
    ltDlMs.push(dl.ms)
    ltSum.push(getMs + dl.ms)
    log(`run ${run + 1}/${RUNS}: btweb ${cold.at(-1)!.toFixed(0)} ms (resolve ${resolvedAtText(resolvePart.at(-1)!)}), libtorrent ${getMs.toFixed(0)} + ${dl.ms.toFixed(0)} ms; restart revisit ${restart.at(-1)!.toFixed(0)} ms`)
  }

  emitRow({
    id: '1',
    what: `Cold open: fresh engine → first byte of index.html (site: index.html + 5 MB, ${DHT_NODES}-node DHT)`,
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: 'btweb (Engine.open → resolve → peers → metadata → first byte)', summary: summarize(cold) },
    reference: { label: 'libtorrent: dht_get_item + download of the whole torrent (sum)', summary: summarize(ltSum) },
    parts: [
      { label: 'btweb: Engine.open → pointer resolved', summary: summarize(resolvePart) },
      { label: 'btweb: pointer → first byte of index.html', summary: summarize(fetchPart) },
      { label: 'libtorrent: lt_dht get (process start + lookup to its end)', summary: summarize(ltGetMs) },
      { label: 'libtorrent: download 5 MB torrent from infohash, peer given', summary: summarize(ltDlMs) }
    ],
    note: `${ltCutShort} of ${RUNS} libtorrent lookups did not end within ${LT_GET_BUDGET_MS} ms (answered with the item found by then). ` +
      'libtorrent downloads the whole torrent (index.html + 5 MB); btweb stops at the first byte of index.html, which needs the metadata and index.html\'s piece.'
  })
  emitRow({
    id: '2',
    what: 'Warm revisit: same URL, same engine, pointer and content cached → first byte',
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: 'btweb gateway', summary: summarize(warm) },
    reference: { label: 'plain node:http + fs.createReadStream, same file', summary: summarize(plainTtfb) }
  })
  emitRow({
    id: '2b',
    what: 'Revisit after restart: new engine, same data dir (pointer on disk, content cached) → first byte',
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: 'btweb, restarted', summary: summarize(restart) },
    reference: { label: 'btweb cold open (row 1)', summary: summarize(cold) }
  })
}, { deadlineMs: 5 * 60_000 })

function resolvedAtText (ms: number): string {
  return ms < 0 ? 'n/a' : `${ms.toFixed(0)} ms`
}
