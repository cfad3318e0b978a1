/**
 * Row 4: 200 MB from a libtorrent seeder (TCP, 127.0.0.1) into btweb vs into a second
 * libtorrent session.
 *
 * btweb, each run: a fresh engine (fresh data dir, no DHT) is told the seeder's address
 * (torrents.addPeer) and the file is read whole through the gateway from the torrent's origin,
 * starting from the infohash alone: metadata from the peer, then the pieces, as a visitor's
 * browser would read them. Timed from the request to the last byte.
 * Reference, each run: lt_seed.py --download with the infohash and the same peer; libtorrent's
 * own time from adding the torrent to having every piece (process start excluded).
 * Runs alternate; both write to a fresh folder under the OS temp dir.
 */
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { Engine } from '../../src/engine.js'
import { fromHex } from '../../src/hex.js'
import { ltDownload, startLtSeeder } from '../../test/helpers/libtorrent.js'
import { RUNS, emitRow, expectOk, log, main, makeBigSite, now, summarize, tempDir, timedGet, withTimeout } from './lib.js'

const BIG = 200 * 2 ** 20

main(async (cleanup) => {
  const work = await tempDir(cleanup, 'download')
  const site = await makeBigSite(work, BIG)
  const seeder = await startLtSeeder({ torrentFile: site.torrentFile, savePath: site.snapshot })
  cleanup.add('libtorrent seeder', () => seeder.close())
  if (seeder.infohash !== site.infohash) throw new Error(`libtorrent seeds ${seeder.infohash}, expected ${site.infohash}`)
  const peer = `127.0.0.1:${seeder.port}`
  log(`libtorrent seeds ${site.infohash} on ${peer}`)

  const btweb: number[] = []
  const lt: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const dataDir = path.join(work, `btweb-${run}`)
    const engine = await Engine.open({ dataDir, bootstrap: [], bind: '127.0.0.1', utp: false, seed: false })
    try {
      const port = engine.gateway!.port
      const t0 = now()
      engine.torrents.addPeer(fromHex(site.infohash)!, peer)
      expectOk(await withTimeout(timedGet(port, `${site.infohash}.btih.localhost:${port}`, '/big.bin', { timeoutMs: 120_000 }), 120_000, 'btweb download'), 'btweb download', BIG)
      btweb.push(now() - t0)
    } finally {
      await engine.close()
      await rm(dataDir, { recursive: true, force: true })
    }
    const save = path.join(work, `lt-${run}`)
    await mkdir(save)
    try {
      lt.push((await ltDownload({ torrent: site.infohash, peer: { host: '127.0.0.1', port: seeder.port }, savePath: save, timeoutMs: 120_000 })).ms)
    } finally {
      await rm(save, { recursive: true, force: true })
    }
    log(`run ${run + 1}/${RUNS}: btweb ${btweb.at(-1)!.toFixed(0)} ms, libtorrent ${lt.at(-1)!.toFixed(0)} ms`)
  }
  emitRow({
    id: '4',
    what: 'Download 200 MB from a libtorrent seeder (TCP, infohash + peer given)',
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: 'btweb: gateway GET of the file, request → last byte', summary: summarize(btweb) },
    reference: { label: 'libtorrent session: add torrent → all pieces', summary: summarize(lt) }
  })
}, { deadlineMs: 5 * 60_000 })
