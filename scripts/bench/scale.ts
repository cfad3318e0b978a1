/**
 * Row 6: scale.
 *   6a–c. Resolve time as the private DHT grows: 10, 50 and 200 bittorrent-dht nodes in this
 *         process (startLocalDht links each node of a large net to 8 others). btweb, each run: a
 *         fresh engine, timed from Engine.open to resolveSite's answer (the pointer). Reference:
 *         lt_dht get on the same net (process start + the whole libtorrent lookup). Visitor
 *         engines stay open until the size is done (a closed one would be a dead node that
 *         every later lookup waits for).
 *   6d.   Memory of a `btweb serve` process (engine + gateway, its own process) with 20 sites
 *         open (each site's pages fetched through the gateway), against the same process idle
 *         (before the first request). RSS from /proc/<pid>/status, PSS from smaps_rollup.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { formatAddress, originHost, parseAddress, type MutableAddress } from '../../src/address.js'
import { Engine } from '../../src/engine.js'
import { toHex } from '../../src/hex.js'
import { startLocalDht } from '../../src/local-dht.js'
import { publishFolder } from '../../src/publish-site.js'
import { putPointer } from '../../src/publisher.js'
import { ltDhtBinary, ltGet } from '../../test/helpers/libtorrent.js'
import { RUNS, emitRow, log, main, now, pssMb, rssMb, sleep, summarize, tempDir, withTimeout } from './lib.js'

const SIZES = [10, 50, 200]
const SITES = 20
/** libtorrent's get returns the best item so far when this runs out (its lookup waits 15 s per unanswering node). */
const LT_GET_BUDGET_MS = 5000
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const CLI = path.join(ROOT, 'dist', 'cli.js')

main(async (cleanup) => {
  await ltDhtBinary()
  const work = await tempDir(cleanup, 'scale')

  for (const [i, size] of SIZES.entries()) {
    const dht = await startLocalDht(size)
    const engines: Engine[] = []
    try {
      const publisher = await Engine.open({ dataDir: path.join(work, `pub-${size}`), bootstrap: dht.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500 })
      engines.push(publisher)
      const { key } = await publisher.keys.loadOrCreate('scale')
      const ih = randomBytes(20)
      await putPointer({ dht: publisher.dht, store: publisher.store, resolver: publisher.resolver }, key, ih)
      const site: MutableAddress = { kind: 'mutable', publicKey: key.publicKey, salt: new Uint8Array(0), path: '/', query: '', fragment: '' }
      const nodes = dht.bootstrap.map(b => ({ host: '127.0.0.1', port: Number(b.split(':')[1]) }))
      const btweb: number[] = []
      const lt: number[] = []
      let cutShort = 0
      for (let run = 0; run < RUNS; run++) {
        const t0 = now()
        const engine = await Engine.open({ dataDir: path.join(work, `v-${size}-${run}`), bootstrap: dht.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500 })
        engines.push(engine)
        const v = await withTimeout(engine.resolveSite(site), 30_000, 'resolve')
        btweb.push(now() - t0)
        if (toHex(v.infohash) !== toHex(ih)) throw new Error('btweb resolved a wrong infohash')
        const g0 = now()
        const got = await ltGet({ nodes, publicKeyHex: toHex(key.publicKey), timeoutMs: LT_GET_BUDGET_MS })
        if (!got?.authoritative) cutShort++
        lt.push(now() - g0)
        if (got?.infohash !== toHex(ih)) throw new Error(`libtorrent resolved ${JSON.stringify(got)}`)
      }
      log(`${size} nodes: btweb ${btweb.map(x => x.toFixed(0)).join(' ')} ms; libtorrent ${lt.map(x => x.toFixed(0)).join(' ')} ms`)
      emitRow({
        id: `6${'abc'[i]}`,
        what: `Scale: resolve a key in a ${size}-node DHT (fresh engine → pointer)`,
        unit: 'ms',
        lowerIsBetter: true,
        btweb: { label: 'btweb: Engine.open → resolveSite', summary: summarize(btweb) },
        reference: { label: 'libtorrent lt_dht get (process start + whole lookup)', summary: summarize(lt) },
        note: cutShort ? `${cutShort} of ${RUNS} libtorrent lookups did not end within ${LT_GET_BUDGET_MS} ms (answered with the item found by then).` : undefined
      })
    } finally {
      await Promise.all(engines.map(e => e.close()))
      await dht.close()
    }
  }

  // --- memory with 20 sites open
  const dht = await startLocalDht(20)
  cleanup.add('DHT (memory)', () => dht.close())
  const publisher = await Engine.open({ dataDir: path.join(work, 'pub-mem'), bootstrap: dht.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500 })
  cleanup.add('publisher (memory)', () => publisher.close())
  const hosts: string[] = []
  for (let s = 0; s < SITES; s++) {
    const folder = path.join(work, 'sites', `site-${s}`)
    await mkdir(folder, { recursive: true })
    await writeFile(path.join(folder, 'index.html'), `<!doctype html><title>site ${s}</title><link rel="stylesheet" href="style.css"><h1>Site ${s}</h1><img src="picture.bin">\n`)
    await writeFile(path.join(folder, 'style.css'), Buffer.alloc(4096, `h1 { color: #${s}${s}${s}; }\n`))
    await writeFile(path.join(folder, 'picture.bin'), randomBytes(256 * 1024))
    const { key } = await publisher.keys.loadOrCreate(`site-${s}`)
    const r = await publishFolder(publisher, { folder, key })
    hosts.push(originHost(parseAddress(formatAddress(r.site))))
  }
  log(`published ${SITES} sites`)

  const idle: { rss: number, pss: number }[] = []
  const open: { rss: number, pss: number }[] = []
  for (let run = 0; run < RUNS; run++) {
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', path.join(work, `serve-${run}`), '--bootstrap', dht.bootstrap.join(','), '--bind', '127.0.0.1', '--no-utp'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const stopChild = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const done = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await done
      clearTimeout(t)
    }
    try {
      const port = await withTimeout(new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', l => { const m = /gateway on http:\/\/btweb\.localhost:(\d+)\//.exec(l); if (m) resolve(Number(m[1])) })
        child.once('exit', code => reject(new Error(`btweb serve exited (${code})`)))
      }), 30_000, 'btweb serve')
      await sleep(1000)
      idle.push({ rss: rssMb(child.pid!), pss: pssMb(child.pid!) })
      for (let s = 0; s < SITES; s += 5) {
        await Promise.all(hosts.slice(s, s + 5).flatMap(h => ['/', '/style.css', '/picture.bin'].map(p => get(port, `${h}:${port}`, p))))
      }
      await sleep(2000)
      open.push({ rss: rssMb(child.pid!), pss: pssMb(child.pid!) })
      log(`serve run ${run + 1}/${RUNS}: idle ${idle.at(-1)!.rss.toFixed(0)} MB RSS, ${SITES} sites open ${open.at(-1)!.rss.toFixed(0)} MB RSS (${open.at(-1)!.pss.toFixed(0)} MB PSS)`)
    } finally {
      await stopChild()
    }
  }
  emitRow({
    id: '6d',
    what: `Scale: memory (RSS) of a btweb serve process with ${SITES} sites open (each ~260 KB, fetched through the gateway)`,
    unit: 'MB',
    lowerIsBetter: true,
    btweb: { label: `btweb serve, ${SITES} sites open`, summary: summarize(open.map(m => m.rss)) },
    reference: { label: 'the same process idle, before the first request', summary: summarize(idle.map(m => m.rss)) },
    parts: [
      { label: `PSS with ${SITES} sites open`, summary: summarize(open.map(m => m.pss)) },
      { label: 'PSS idle', summary: summarize(idle.map(m => m.pss)) }
    ]
  })
}, { deadlineMs: 8 * 60_000 })

function get (port: number, host: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, headers: { host }, timeout: 60_000 }, res => {
      res.resume()
      res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(`${host}${target}: HTTP ${res.statusCode}`)))
    })
    req.on('timeout', () => req.destroy(new Error(`${host}${target} timed out`)))
    req.on('error', reject)
  })
}
