/**
 * Shared plumbing of the bench modules (scripts/bench/<row>.ts): statistics, the row format the
 * entry script (scripts/bench.mjs) collects, teardown that runs even on failure, loopback HTTP
 * timing, temp dirs and process memory.
 *
 * A module prints each finished row as one line `BENCH_ROW <json>` on stdout; everything else
 * (progress) goes to stderr. Rows are printed as soon as they are measured, so a module that
 * fails half-way still delivers the rows it has.
 */
import { pssKb, rssKb } from '../../test/helpers/procs.js'
import { randomBytes } from 'node:crypto'
import { createReadStream, writeSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

export const now = (): number => performance.now()

/** Runs per measurement: BENCH_RUNS (default 5, never fewer than 5 for the table). */
export const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5) || 5)

export interface Summary { median: number, min: number, max: number, n: number, samples: number[] }

export function summarize (samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length, samples }
}

export interface Side { label: string, summary: Summary }

export interface Row {
  id: string
  what: string
  /** ms, MB/s, req/s, MB, … */
  unit: string
  /** true when a smaller number is better (times, memory). */
  lowerIsBetter: boolean
  btweb: Side
  reference: Side | null
  /** Extra measured parts (e.g. the two halves of the cold-open reference). */
  parts?: Side[]
  note?: string
}

export function log (msg: string): void {
  writeSync(2, `[bench ${path.basename(process.argv[1] ?? '', '.ts')}] ${msg}\n`)
}

export function emitRow (row: Row): void {
  writeSync(1, `BENCH_ROW ${JSON.stringify(row)}\n`)
}

/** Teardown in reverse order of registration; each step bounded so one hung close cannot block the rest. */
export class Cleanup {
  readonly #steps: Array<{ what: string, fn: () => unknown }> = []
  #ran = false

  add (what: string, fn: () => unknown): void { this.#steps.push({ what, fn }) }

  async run (): Promise<void> {
    if (this.#ran) return
    this.#ran = true
    for (const { what, fn } of this.#steps.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(fn), 20_000, `closing ${what}`)
      } catch (err) {
        log(`cleanup of ${what} failed: ${(err as Error).message}`)
      }
    }
  }
}

/**
 * Runs a bench module's body with teardown guaranteed (also on SIGINT/SIGTERM and on a hard
 * deadline); exits 0 on success, 1 on failure.
 */
export function main (body: (cleanup: Cleanup) => Promise<void>, { deadlineMs = 10 * 60_000 } = {}): void {
  const cleanup = new Cleanup()
  let code = 0
  const finish = async (): Promise<void> => {
    await cleanup.run()
    process.exit(code)
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { log(`${sig}: cleaning up`); code = 130; void finish() })
  }
  const deadline = setTimeout(() => { log(`deadline of ${deadlineMs} ms reached: giving up`); code = 1; void finish() }, deadlineMs)
  deadline.unref()
  body(cleanup).catch(err => {
    code = 1
    log(`FAILED: ${(err as Error)?.stack ?? String(err)}`)
  }).finally(() => { void finish() })
}

export async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

export async function tempDir (cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `btweb-bench-${prefix}-`))
  cleanup.add(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Writes `bytes` random bytes to `file` in 4 MB chunks. */
export async function writeRandomFile (file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w')
  try {
    const chunk = randomBytes(4 << 20)
    for (let left = bytes; left > 0; left -= chunk.length) await fh.write(chunk, 0, Math.min(left, chunk.length))
  } finally {
    await fh.close()
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback

export interface Timing { status: number, firstByteMs: number, totalMs: number, bytes: number }

/** One GET to 127.0.0.1:port with this Host header, timed from the call: first body byte and end. */
export function timedGet (port: number, host: string, target: string, { agent, timeoutMs = 60_000 }: { agent?: http.Agent, timeoutMs?: number } = {}): Promise<Timing> {
  const t0 = now()
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, headers: { host }, agent: agent ?? false, timeout: timeoutMs }, res => {
      let first = -1
      let bytes = 0
      res.on('data', (c: Buffer) => {
        if (first < 0) first = now() - t0
        bytes += c.length
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, firstByteMs: first < 0 ? now() - t0 : first, totalMs: now() - t0, bytes }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${target} timed out after ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

export function expectOk (t: Timing, what: string, bytes?: number): Timing {
  if (t.status !== 200) throw new Error(`${what}: HTTP ${t.status}`)
  if (bytes !== undefined && t.bytes !== bytes) throw new Error(`${what}: ${t.bytes} bytes, expected ${bytes}`)
  return t
}

/** The ceiling: a plain node:http server sending files of `root` with fs.createReadStream. */
export async function startPlainServer (root: string): Promise<{ port: number, close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '') || 'index.html'
    const file = path.join(root, rel)
    if (!file.startsWith(root + path.sep)) { res.writeHead(403).end(); return }
    const stream = createReadStream(file)
    stream.once('open', () => {
      res.writeHead(200, { 'Content-Type': rel.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream' })
      stream.pipe(res)
    })
    stream.once('error', () => { if (!res.headersSent) res.writeHead(404); res.end() })
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/**
 * `total` GETs with `clients` running at once on keep-alive connections; returns requests/s.
 * Every response must be 200 with `bytes` bytes.
 */
export async function requestsPerSecond (port: number, host: string, target: string, o: { clients: number, total: number, bytes: number }): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients })
  try {
    let issued = 0
    const t0 = now()
    await Promise.all(Array.from({ length: o.clients }, async () => {
      while (issued < o.total) {
        issued++
        expectOk(await timedGet(port, host, target, { agent, timeoutMs: 30_000 }), `GET ${target}`, o.bytes)
      }
    }))
    return o.total / ((now() - t0) / 1000)
  } finally {
    agent.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// processes and memory

export { descendants } from '../../test/helpers/procs.js'

/** PSS / RSS in MB (0 if the process is gone). */
export const pssMb = (pid: number): number => pssKb(pid) / 1024
export const rssMb = (pid: number): number => rssKb(pid) / 1024
export { comm as processName, cmdline as commandLine } from '../../test/helpers/procs.js'

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// a big site torrent (rows 3 and 4)

export interface BigSite {
  /** Folder holding `<name>/…`: a seeder's save path. */
  snapshot: string
  /** The site's files themselves (snapshot/<name>). */
  root: string
  torrent: Uint8Array
  torrentFile: string
  infohash: string
  bigBytes: number
  smallBytes: number
}

/** A site of big.bin (`bytes` random bytes), small.css (2 KB) and index.html, as a torrent built by btweb's publisher code. */
export async function makeBigSite (work: string, bytes: number): Promise<BigSite> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  const { buildSiteTorrent, listSiteFiles } = await import('../../src/site-torrent.js')
  const src = path.join(work, 'src')
  await mkdir(src)
  await writeRandomFile(path.join(src, 'big.bin'), bytes)
  const small = Buffer.alloc(2048, 'body { color: #222; }\n')
  await writeFile(path.join(src, 'small.css'), small)
  await writeFile(path.join(src, 'index.html'), '<!doctype html><title>big</title><a href="big.bin">big.bin</a>\n')
  const snapshot = path.join(work, 'snapshot')
  const built = await buildSiteTorrent((await listSiteFiles(src)).files, { name: 'site', snapshotDir: snapshot })
  await rm(src, { recursive: true, force: true }) // the snapshot holds a copy
  const torrentFile = path.join(work, 'site.torrent')
  await writeFile(torrentFile, built.torrent)
  return { snapshot, root: path.join(snapshot, 'site'), torrent: built.torrent, torrentFile, infohash: built.infohash, bigBytes: bytes, smallBytes: small.length }
}
