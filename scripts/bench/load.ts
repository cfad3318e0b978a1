/**
 * Row 7: load, on 127.0.0.1 only, bounded in connections, requests and time.
 *   7a–d. 200 concurrent keep-alive connections for 30 s (Debian's `wrk`, one continuous run)
 *         on a cached small site page (`GET /` of a btpk:// site, index.html with btweb's page
 *         script). The engine runs in its own child process (Engine.open + its gateway, nothing
 *         else), so its RSS is its own. Reference: the same load against a plain node:http +
 *         fs.createReadStream server (also its own child) sending the very bytes the gateway
 *         sent. req/s is given per 1-s window of the run (the first and last, partial, windows
 *         dropped); latency p50/p99 and errors come from wrk; errors must be 0 (non-2xx, bodies
 *         of another length, timeouts at 10 s, socket errors). RSS: sampled every 100 ms and
 *         VmHWM (reset with clear_refs before the load), against the RSS just before.
 *   7e–g. 50 sites resolving at once: 50 small sites published on a private 20-node DHT; a
 *         fresh engine (child process) is asked for all 50 index pages through its gateway at
 *         once (50 connections): total time, per-site time, errors (0), engine memory.
 *         Reference: another fresh engine asked for the same 50 pages one after another. The
 *         first visitor stays open until the end (a closed one is a dead DHT node), so the
 *         second may also fetch from it.
 * The children are this file bundled by esbuild into .bench/load-child/ (no tsx loader in
 * them); they print `PORT <n>`, stop on SIGTERM and also when this process goes away (stdin).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { readFileSync, writeFileSync, writeSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { emitRow, log, main, now, rssMb, sleep, startPlainServer, summarize, tempDir, withTimeout, type Cleanup } from './lib.js'

const CONNECTIONS = 200
const DURATION_S = 30
const WRK_TIMEOUT_S = 10
const SITES = 50
const ENGINE = { bind: '127.0.0.1', utp: false, queryTimeoutMs: 500 } as const
const CHILD_ENV = 'BTWEB_BENCH_LOAD_CHILD'

if (process.env[CHILD_ENV]) {
  child(process.env[CHILD_ENV]!, JSON.parse(process.env.BTWEB_BENCH_LOAD_ARGS ?? '{}')).catch(err => {
    writeSync(2, `[bench load child] ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  })
} else {
  main(body, { deadlineMs: 4 * 60_000 })
}

async function body (cleanup: Cleanup): Promise<void> {
  // Only node: builtins and lib.ts are imported statically, so the plain-server child loads no btweb code.
  const { Engine } = await import('../../src/engine.js')
  const { startLocalDht } = await import('../../src/local-dht.js')
  const { publishFolder } = await import('../../src/publish-site.js')
  const { formatAddress, originHost, parseAddress } = await import('../../src/address.js')

  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk not found: apt-get install wrk (scripts/setup.sh installs it)')
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
  const childEntry = await bundleChild(root)
  const work = await tempDir(cleanup, 'load')

  const publishAll = async (publisher: Awaited<ReturnType<typeof Engine.open>>, folders: string[], prefix: string): Promise<string[]> => {
    const hosts: string[] = []
    for (let i = 0; i < folders.length; i += 10) {
      hosts.push(...await Promise.all(folders.slice(i, i + 10).map(async (folder, j) => {
        const { key } = await publisher.keys.loadOrCreate(`${prefix}-${i + j}`)
        const r = await publishFolder(publisher, { folder, key })
        return originHost(parseAddress(formatAddress(r.site)))
      })))
    }
    return hosts
  }

  // ---------------------------------------------------------------------------------------------
  // 7a–d: 200 connections for 30 s on a cached page

  {
    const dht = await startLocalDht(20)
    cleanup.add('DHT (7a)', () => dht.close())
    const publisher = await Engine.open({ dataDir: path.join(work, 'pub-a'), bootstrap: dht.bootstrap, gatewayPort: false, ...ENGINE })
    cleanup.add('publisher (7a)', () => publisher.close())
    const folder = path.join(work, 'page-site')
    await mkdir(folder, { recursive: true })
    const para = '<p>A small page of the BitTorrent web, served from the cache under load. Nothing here changes between requests.</p>\n'
    await writeFile(path.join(folder, 'index.html'), `<!doctype html>\n<html><head><meta charset="utf-8"><title>load</title><link rel="stylesheet" href="style.css"></head>\n<body><h1>Load</h1>\n${para.repeat(14)}</body></html>\n`)
    await writeFile(path.join(folder, 'style.css'), 'body { font: 16px sans-serif; margin: 2em; }\n')
    const [site] = await publishAll(publisher, [folder], 'page')

    const engine = await startChild(cleanup, childEntry, 'engine', { dataDir: path.join(work, 'visitor-a'), bootstrap: dht.bootstrap })
    const host = `${site}:${engine.port}`
    const first = await getBody(engine.port, host, '/')
    if (first.status !== 200 || !first.body.includes('<h1>Load</h1>')) throw new Error(`first GET of the page: HTTP ${first.status}`)
    for (let i = 0; i < 20; i++) {
      const again = await getBody(engine.port, host, '/')
      if (again.status !== 200 || !again.body.equals(first.body)) throw new Error('the gateway sent other bytes for the same page')
    }
    const pageBytes = first.body.length
    const plainRoot = path.join(work, 'plain')
    await mkdir(plainRoot)
    await writeFile(path.join(plainRoot, 'index.html'), first.body)
    const plain = await startChild(cleanup, childEntry, 'plain', { root: plainRoot })
    const plainHost = `127.0.0.1:${plain.port}`
    const check = await getBody(plain.port, plainHost, '/')
    if (check.status !== 200 || !check.body.equals(first.body)) throw new Error('the plain server sent other bytes')
    log(`page: ${pageBytes} bytes (index.html with the page script); gateway pid ${engine.pid}, plain server pid ${plain.pid}`)

    const script = path.join(work, 'count.lua')
    await writeFile(script, wrkScript(pageBytes))
    const gw = await loadRun(engine, host, script)
    log(`gateway: ${gw.wrk.requests} requests, ${fmtRate(gw.wrk)}, p50 ${ms(gw.wrk.p50)} ms, p99 ${ms(gw.wrk.p99)} ms, errors ${JSON.stringify(errorsOf(gw.wrk))}, RSS ${gw.before.toFixed(0)} → peak ${gw.peak.toFixed(0)} MB`)
    const ref = await loadRun(plain, plainHost, script)
    log(`plain:   ${ref.wrk.requests} requests, ${fmtRate(ref.wrk)}, p50 ${ms(ref.wrk.p50)} ms, p99 ${ms(ref.wrk.p99)} ms, errors ${JSON.stringify(errorsOf(ref.wrk))}, RSS ${ref.before.toFixed(0)} → peak ${ref.peak.toFixed(0)} MB`)

    const gwErr = errorsOf(gw.wrk)
    const refErr = errorsOf(ref.wrk)
    const errText = (e: Record<string, number>): string => Object.entries(e).map(([k, v]) => `${v} ${k}`).join(', ')
    emitRow({
      id: '7a',
      what: `Load: ${CONNECTIONS} concurrent keep-alive connections for ${DURATION_S} s on a cached small page (GET / of a btpk:// site, ${pageBytes} bytes), wrk`,
      unit: 'req/s',
      lowerIsBetter: false,
      btweb: { label: 'btweb gateway (engine alone in its process), per 1-s window', summary: summarize(gw.wrk.perSecond) },
      reference: { label: 'plain node:http + fs.createReadStream, same bytes, own process', summary: summarize(ref.wrk.perSecond) },
      note: `One continuous ${DURATION_S} s run each; median (min–max) of its 1-s windows. btweb: ${gw.wrk.requests} requests, errors: ${errText(gwErr)}. Plain: ${ref.wrk.requests} requests, errors: ${errText(refErr)}. wrk (1 thread) shares the 2 cores with the server.`
    })
    emitRow({
      id: '7b',
      what: `Load: latency p50 under ${CONNECTIONS} connections (as 7a)`,
      unit: 'ms',
      lowerIsBetter: true,
      btweb: { label: 'btweb gateway', summary: summarize([gw.wrk.p50 / 1000]) },
      reference: { label: 'plain node:http', summary: summarize([ref.wrk.p50 / 1000]) }
    })
    emitRow({
      id: '7c',
      what: `Load: latency p99 under ${CONNECTIONS} connections (as 7a)`,
      unit: 'ms',
      lowerIsBetter: true,
      btweb: { label: 'btweb gateway', summary: summarize([gw.wrk.p99 / 1000]) },
      reference: { label: 'plain node:http', summary: summarize([ref.wrk.p99 / 1000]) },
      note: `Slowest request: btweb ${ms(gw.wrk.max)} ms, plain ${ms(ref.wrk.max)} ms.`
    })
    emitRow({
      id: '7d',
      what: `Load: RSS of the gateway process, peak during the ${DURATION_S} s load vs just before it`,
      unit: 'MB',
      lowerIsBetter: true,
      btweb: { label: 'btweb engine + gateway: peak RSS under load', summary: summarize([gw.peak]) },
      reference: { label: 'the same process just before the load (page cached)', summary: summarize([gw.before]) },
      parts: [
        ...gw.marks.map(m => ({ label: `btweb: RSS at ${m.at} s of the load`, summary: summarize([m.rss]) })),
        { label: 'btweb: RSS 2 s after the load', summary: summarize([gw.after]) },
        { label: 'plain server: RSS before', summary: summarize([ref.before]) },
        { label: 'plain server: peak RSS under load', summary: summarize([ref.peak]) }
      ],
      note: gw.hwmReset ? undefined : 'VmHWM could not be reset: the peak is the 100 ms samples only.'
    })
    const failed = Object.values(gwErr).some(n => n > 0) || Object.values(refErr).some(n => n > 0) || gw.wrk.requests === 0
    await engine.stop()
    await plain.stop()
    await publisher.close()
    await dht.close()
    if (failed) throw new Error(`errors under load: btweb ${JSON.stringify(gwErr)}, plain ${JSON.stringify(refErr)}`)
  }

  // ---------------------------------------------------------------------------------------------
  // 7e–g: 50 sites resolving at once

  const dht = await startLocalDht(20)
  cleanup.add('DHT (7e)', () => dht.close())
  const publisher = await Engine.open({ dataDir: path.join(work, 'pub-e'), bootstrap: dht.bootstrap, gatewayPort: false, ...ENGINE })
  cleanup.add('publisher (7e)', () => publisher.close())
  const folders: string[] = []
  for (let s = 0; s < SITES; s++) {
    const folder = path.join(work, 'sites', `site-${s}`)
    await mkdir(folder, { recursive: true })
    await writeFile(path.join(folder, 'index.html'), `<!doctype html><title>site ${s}</title><link rel="stylesheet" href="style.css"><h1>Site ${s}</h1>\n<p>${randomBytes(512).toString('hex')}</p>\n`)
    await writeFile(path.join(folder, 'style.css'), `h1 { color: #${(s * 97 % 4096).toString(16).padStart(3, '0')}; }\n`)
    folders.push(folder)
  }
  const t0 = now()
  const hosts = await publishAll(publisher, folders, 'site')
  log(`published ${SITES} sites in ${(now() - t0).toFixed(0)} ms`)

  const fetchSite = async (port: number, s: number): Promise<{ ms: number, error?: string }> => {
    const t = now()
    try {
      const r = await getBody(port, `${hosts[s]}:${port}`, '/', 30_000)
      if (r.status !== 200) return { ms: now() - t, error: `site ${s}: HTTP ${r.status}` }
      if (!r.body.includes(`<h1>Site ${s}</h1>`)) return { ms: now() - t, error: `site ${s}: another page` }
      return { ms: now() - t }
    } catch (err) {
      return { ms: now() - t, error: `site ${s}: ${(err as Error).message}` }
    }
  }

  const visit = async (name: string, concurrent: boolean): Promise<{ total: number, perSite: number[], errors: string[], before: number, peak: number, after: number }> => {
    const engine = await startChild(cleanup, childEntry, 'engine', { dataDir: path.join(work, name), bootstrap: dht.bootstrap })
    await sleep(1000)
    const before = rssMb(engine.pid)
    const watch = watchRss(engine.pid)
    const t = now()
    let results: Array<{ ms: number, error?: string }>
    if (concurrent) {
      results = await Promise.all(hosts.map((_, s) => fetchSite(engine.port, s)))
    } else {
      results = []
      for (let s = 0; s < SITES; s++) results.push(await fetchSite(engine.port, s))
    }
    const total = now() - t
    await sleep(1000)
    const w = watch.stop()
    return { total, perSite: results.map(r => r.ms), errors: results.flatMap(r => r.error ? [r.error] : []), before, peak: w.peak, after: rssMb(engine.pid) }
  }
  const all = await visit('visitor-all', true)
  log(`${SITES} at once: ${all.total.toFixed(0)} ms, per site median ${summarize(all.perSite).median.toFixed(0)} ms, p95 ${p95(all.perSite).toFixed(0)} ms, ${all.errors.length} errors, RSS ${all.before.toFixed(0)} → peak ${all.peak.toFixed(0)} MB`)
  const seq = await visit('visitor-seq', false)
  log(`one by one: ${seq.total.toFixed(0)} ms, per site median ${summarize(seq.perSite).median.toFixed(0)} ms, p95 ${p95(seq.perSite).toFixed(0)} ms, ${seq.errors.length} errors, RSS ${seq.before.toFixed(0)} → peak ${seq.peak.toFixed(0)} MB`)
  const errNote = `Errors: ${all.errors.length} at once, ${seq.errors.length} one by one.`
  emitRow({
    id: '7e',
    what: `Load: ${SITES} sites resolving at once (fresh engine, 20-node DHT; all ${SITES} index pages requested through the gateway together) → the last page complete`,
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: `btweb: ${SITES} GET / at once, first request → last page complete`, summary: summarize([all.total]) },
    reference: { label: 'btweb: the same 50 one after another (another fresh engine)', summary: summarize([seq.total]) },
    note: `One run each; each page is resolve (BEP 46) + metadata + index.html from the publisher. ${errNote}`
  })
  emitRow({
    id: '7f',
    what: `Load: per-site time (request → page complete) with ${SITES} sites at once`,
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: `btweb, ${SITES} at once (median and range of the ${SITES} sites)`, summary: summarize(all.perSite) },
    reference: { label: 'btweb, one after another', summary: summarize(seq.perSite) },
    parts: [
      { label: `p95 of the ${SITES} sites, at once`, summary: summarize([p95(all.perSite)]) },
      { label: `p95 of the ${SITES} sites, one after another`, summary: summarize([p95(seq.perSite)]) }
    ]
  })
  emitRow({
    id: '7g',
    what: `Load: RSS of the engine process, peak while ${SITES} sites open at once vs the same process idle before`,
    unit: 'MB',
    lowerIsBetter: true,
    btweb: { label: `btweb engine + gateway: peak RSS, ${SITES} sites at once`, summary: summarize([all.peak]) },
    reference: { label: 'the same process idle, before the first request', summary: summarize([all.before]) },
    parts: [
      { label: 'at once: RSS 1 s after the last page', summary: summarize([all.after]) },
      { label: 'one after another: idle before', summary: summarize([seq.before]) },
      { label: 'one after another: peak RSS', summary: summarize([seq.peak]) }
    ]
  })
  if (all.errors.length || seq.errors.length) throw new Error(`site errors: ${[...all.errors, ...seq.errors].slice(0, 5).join('; ')}`)
}

// ---------------------------------------------------------------------------------------------
// wrk

interface WrkResult {
  requests: number
  durationUs: number
  connect: number
  read: number
  write: number
  status: number
  timeout: number
  /** Responses that were not 200 with the expected body length. */
  bad: number
  p50: number
  p99: number
  max: number
  /** Responses per whole second of the run (the partial first and last seconds dropped). */
  perSecond: number[]
}

/** Counts responses per wall-clock second and checks each one (status 200, body length); prints one JSON line at the end. */
function wrkScript (bytes: number): string {
  return `-- written by scripts/bench/load.ts
local threads = {}
function setup (thread) table.insert(threads, thread) end
counts = {}
bad = 0
function response (status, headers, body)
  local s = os.time()
  counts[s] = (counts[s] or 0) + 1
  if status ~= 200 or #body ~= ${bytes} then bad = bad + 1 end
end
function done (summary, latency, requests)
  local per, nbad = {}, 0
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    for s, n in pairs(t:get("counts")) do per[s] = (per[s] or 0) + n end
  end
  local secs = {}
  for s in pairs(per) do table.insert(secs, s) end
  table.sort(secs)
  local out = {}
  for i = 2, #secs - 1 do table.insert(out, tostring(per[secs[i]])) end
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"bad":%d,"p50":%d,"p99":%d,"max":%d,"perSecond":[%s]}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, nbad,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(out, ",")))
end
`
}

function runWrk (port: number, host: string, script: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, `--timeout`, `${WRK_TIMEOUT_S}s`, '-s', script, '-H', `Host: ${host}`, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
    const timer = setTimeout(() => p.kill('SIGKILL'), (DURATION_S + 30) * 1000)
    p.on('error', reject)
    p.on('close', code => {
      clearTimeout(timer)
      const line = out.split('\n').find(l => l.startsWith('WRK_JSON '))
      if (code !== 0 || !line) { reject(new Error(`wrk exited ${code}: ${out.slice(-500)}`)); return }
      resolve(JSON.parse(line.slice(9)) as WrkResult)
    })
  })
}

function errorsOf (w: WrkResult): Record<string, number> {
  return { 'non-2xx or wrong body': w.bad, 'HTTP ≥ 400 (wrk)': w.status, timeouts: w.timeout, 'connect errors': w.connect, 'read errors': w.read, 'write errors': w.write }
}

const ms = (us: number): string => (us / 1000).toFixed(1)
const fmtRate = (w: WrkResult): string => `${(w.requests / (w.durationUs / 1e6)).toFixed(0)} req/s overall, median 1-s window ${summarize(w.perSecond).median.toFixed(0)}`

/** wrk against one child, with its RSS before, every 100 ms (peak, at 10/20/30 s), and 2 s after. */
async function loadRun (target: Child, host: string, script: string): Promise<{ wrk: WrkResult, before: number, peak: number, after: number, marks: Array<{ at: number, rss: number }>, hwmReset: boolean }> {
  await sleep(1000)
  const before = rssMb(target.pid)
  let hwmReset = true
  try { writeFileSync(`/proc/${target.pid}/clear_refs`, '5') } catch { hwmReset = false }
  const watch = watchRss(target.pid)
  const marks: Array<{ at: number, rss: number }> = []
  const markTimers = [10, 20, 30].map(at => setTimeout(() => marks.push({ at, rss: rssMb(target.pid) }), at * 1000 - 50))
  try {
    const wrk = await runWrk(target.port, host, script)
    const w = watch.stop()
    const peak = Math.max(w.peak, hwmReset ? hwmMb(target.pid) : 0)
    await sleep(2000)
    return { wrk, before, peak, after: rssMb(target.pid), marks, hwmReset }
  } finally {
    watch.stop()
    for (const t of markTimers) clearTimeout(t)
  }
}

// ---------------------------------------------------------------------------------------------
// memory

function watchRss (pid: number): { stop: () => { peak: number } } {
  let peak = rssMb(pid)
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, 100)
  return { stop: () => { clearInterval(timer); return { peak } } }
}

/** VmHWM (peak RSS since start or since the last clear_refs 5) in MB. */
function hwmMb (pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

function p95 (samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b)
  return s[Math.max(0, Math.ceil(s.length * 0.95) - 1)] ?? NaN
}

// ---------------------------------------------------------------------------------------------
// HTTP

function getBody (port: number, host: string, target: string, timeoutMs = 30_000): Promise<{ status: number, body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, headers: { host }, agent: false, timeout: timeoutMs }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${target} timed out after ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

// ---------------------------------------------------------------------------------------------
// the child processes

interface Child { pid: number, port: number, stop: () => Promise<void> }

/** This file bundled for plain Node (the children run without the tsx loader, whose hooks thread would count in their RSS). */
async function bundleChild (root: string): Promise<string> {
  const { build } = await import('esbuild')
  const outdir = path.join(root, '.bench', 'load-child')
  await build({
    absWorkingDir: root,
    entryPoints: { 'load-child': fileURLToPath(import.meta.url) },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    external: ['esbuild'],
    logLevel: 'warning'
  })
  return path.join(outdir, 'load-child.js')
}

async function startChild (cleanup: Cleanup, entry: string, mode: 'engine' | 'plain', args: Record<string, unknown>): Promise<Child> {
  const p: ChildProcess = spawn(process.execPath, [entry], {
    env: { ...process.env, [CHILD_ENV]: mode, BTWEB_BENCH_LOAD_ARGS: JSON.stringify(args) },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  let stopped: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (p.exitCode !== null || p.signalCode !== null) return
      const done = new Promise(resolve => p.once('exit', resolve))
      p.kill('SIGTERM')
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000)
      await done
      clearTimeout(t)
    })()
    return stopped
  }
  cleanup.add(`${mode} child ${p.pid}`, stop)
  const port = await withTimeout(new Promise<number>((resolve, reject) => {
    createInterface({ input: p.stdout! }).on('line', l => { const m = /^PORT (\d+)$/.exec(l); if (m) resolve(Number(m[1])) })
    p.once('exit', code => reject(new Error(`${mode} child exited (${code})`)))
    p.once('error', reject)
  }), 30_000, `${mode} child`)
  return { pid: p.pid!, port, stop }
}

async function child (mode: string, a: { dataDir?: string, bootstrap?: string[], root?: string }): Promise<void> {
  let port: number
  let close: () => Promise<void>
  if (mode === 'engine') {
    const { Engine } = await import('../../src/engine.js')
    const engine = await Engine.open({ dataDir: a.dataDir!, bootstrap: a.bootstrap!, ...ENGINE })
    port = engine.gateway!.port
    close = () => engine.close()
  } else if (mode === 'plain') {
    const server = await startPlainServer(a.root!)
    port = server.port
    close = server.close
  } else {
    throw new Error(`unknown child mode ${mode}`)
  }
  let closing = false
  const stop = (): void => {
    if (closing) return
    closing = true
    setTimeout(() => process.exit(1), 15_000).unref()
    close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.stdin.on('end', stop).on('error', stop).resume() // the parent went away
  writeSync(1, `PORT ${port}\n`)
}
