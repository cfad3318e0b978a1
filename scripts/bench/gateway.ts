/**
 * Row 3: the gateway serving a completed torrent on 127.0.0.1.
 *   3a. one 200 MB file, whole, one client: MB/s through the gateway vs the same bytes from a
 *       plain node:http + fs.createReadStream server (the ceiling).
 *   3b. a 2 KB file, 50 concurrent keep-alive clients, 2000 requests: requests/s, same pair.
 * The torrent is seeded in the engine from its snapshot (btweb's publisher path); requests use
 * the torrent's own origin http://<infohash>.btih.localhost:<port>/ (no DHT involved). Runs
 * alternate gateway / plain server, after one warm-up request each.
 */
import path from 'node:path'
import { Engine } from '../../src/engine.js'
import { RUNS, emitRow, expectOk, log, main, makeBigSite, requestsPerSecond, startPlainServer, summarize, tempDir, timedGet } from './lib.js'

const BIG = 200 * 2 ** 20
const CLIENTS = 50
const REQUESTS = 2000

main(async (cleanup) => {
  const work = await tempDir(cleanup, 'gateway')
  const site = await makeBigSite(work, BIG)
  const engine = await Engine.open({ dataDir: path.join(work, 'engine'), bootstrap: [], bind: '127.0.0.1', utp: false })
  cleanup.add('engine', () => engine.close())
  await engine.torrents.seed(site.torrent, { path: site.snapshot })
  const gw = { port: engine.gateway!.port, host: `${site.infohash}.btih.localhost:${engine.gateway!.port}` }
  const plain = await startPlainServer(site.root)
  cleanup.add('plain server', () => plain.close())
  const plainHost = `127.0.0.1:${plain.port}`

  const mbps = (ms: number): number => BIG / 2 ** 20 / (ms / 1000)
  expectOk(await timedGet(gw.port, gw.host, '/big.bin'), 'gateway warm-up', BIG)
  expectOk(await timedGet(plain.port, plainHost, '/big.bin'), 'plain warm-up', BIG)
  const gwBig: number[] = []
  const plainBig: number[] = []
  for (let run = 0; run < RUNS; run++) {
    gwBig.push(mbps(expectOk(await timedGet(gw.port, gw.host, '/big.bin'), 'gateway 200 MB', BIG).totalMs))
    plainBig.push(mbps(expectOk(await timedGet(plain.port, plainHost, '/big.bin'), 'plain 200 MB', BIG).totalMs))
    log(`200 MB run ${run + 1}/${RUNS}: gateway ${gwBig.at(-1)!.toFixed(0)} MB/s, plain ${plainBig.at(-1)!.toFixed(0)} MB/s`)
  }
  emitRow({
    id: '3a',
    what: 'Gateway throughput: one 200 MB completed file, one client',
    unit: 'MB/s',
    lowerIsBetter: false,
    btweb: { label: 'btweb gateway (webtorrent file stream)', summary: summarize(gwBig) },
    reference: { label: 'plain node:http + fs.createReadStream', summary: summarize(plainBig) }
  })

  const small = { clients: CLIENTS, total: REQUESTS, bytes: site.smallBytes }
  await requestsPerSecond(gw.port, gw.host, '/small.css', { ...small, total: 200 })
  await requestsPerSecond(plain.port, plainHost, '/small.css', { ...small, total: 200 })
  const gwRps: number[] = []
  const plainRps: number[] = []
  for (let run = 0; run < RUNS; run++) {
    gwRps.push(await requestsPerSecond(gw.port, gw.host, '/small.css', small))
    plainRps.push(await requestsPerSecond(plain.port, plainHost, '/small.css', small))
    log(`small files run ${run + 1}/${RUNS}: gateway ${gwRps.at(-1)!.toFixed(0)} req/s, plain ${plainRps.at(-1)!.toFixed(0)} req/s`)
  }
  emitRow({
    id: '3b',
    what: `Gateway: 2 KB file, ${CLIENTS} concurrent keep-alive clients, ${REQUESTS} requests`,
    unit: 'req/s',
    lowerIsBetter: false,
    btweb: { label: 'btweb gateway', summary: summarize(gwRps) },
    reference: { label: 'plain node:http + fs.createReadStream', summary: summarize(plainRps) },
    note: 'Client and servers share the 2 cores; the client is the same code for both.'
  })
}, { deadlineMs: 4 * 60_000 })
