/**
 * Test helpers that drive libtorrent-rasterbar as an independent BitTorrent implementation:
 *   - test/interop/lt_dht.cpp (C++ API): BEP 44/46 mutable put/get, plain DHT nodes
 *   - test/interop/lt_seed.py (python3-libtorrent): TCP seeder and reference downloader
 * Loopback only: callers pass explicit DHT nodes; libtorrent's public bootstrap is disabled.
 *
 * Quirks handled here (details in the comments of lt_dht.cpp and lt_seed.py):
 *   - A one-shot lt_dht process leaves its node in the other nodes' routing tables when it
 *     exits, and the next libtorrent lookup that meets that dead node waits libtorrent's fixed
 *     15 s RPC timeout. ltPut/ltGet therefore reuse the UDP port of the previous lt_dht run
 *     ("sticky port"): the stale entry then points at a live libtorrent node that answers at once.
 *     bittorrent-dht lookups made *between* lt_dht runs still meet a dead node: give those DHTs a
 *     short `timeout` (k-rpc's default is 2 s per dead node).
 *   - Through the same stale entries a put may be acknowledged by the putting process itself, so
 *     `stored` can over-count; check the value with a get rather than trusting `stored` alone.
 *   - Debian's python3-libtorrent is importable only by /usr/bin/python3 (a pyenv python3 may
 *     come first on PATH). LT_PYTHON overrides the interpreter.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

const INTEROP_DIR = fileURLToPath(new URL('../interop/', import.meta.url))
const LT_DHT_SRC = path.join(INTEROP_DIR, 'lt_dht.cpp')
const LT_DHT_BIN = path.join(INTEROP_DIR, 'build', 'lt_dht')
const LT_SEED_PY = path.join(INTEROP_DIR, 'lt_seed.py')

export interface HostPort { host: string, port: number }

// ---------------------------------------------------------------------------------------------
// process plumbing

const live = new Set<ChildProcess>()
process.once('exit', () => {
  // last resort: never leave libtorrent processes behind the test runner
  for (const c of live) {
    try { c.kill('SIGKILL') } catch { /* already gone */ }
  }
})

interface Exit { code: number | null, signal: NodeJS.Signals | null }

/** A spawned tool: collects its JSON stdout lines and its stderr. */
class Tool {
  readonly label: string
  readonly child: ChildProcess
  readonly exited: Promise<Exit>
  private out = ''
  private err = ''
  private readonly json: unknown[] = []
  private waiters: Array<() => void> = []
  private exit: Exit | null = null
  private spawnError: Error | null = null

  constructor (label: string, cmd: string, args: string[], keepStdinOpen: boolean) {
    this.label = label
    // long-running tools exit when their stdin closes, so they die with this process too
    this.child = spawn(cmd, args, { stdio: [keepStdinOpen ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    live.add(this.child)
    this.child.stdout!.setEncoding('utf8')
    this.child.stderr!.setEncoding('utf8')
    this.child.stdout!.on('data', (chunk: string) => {
      this.out += chunk
      let nl: number
      while ((nl = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, nl).trim()
        this.out = this.out.slice(nl + 1)
        if (!line.startsWith('{')) continue
        try {
          this.json.push(JSON.parse(line))
        } catch {
          this.err += `[unparsable stdout line] ${line}\n`
        }
        this.wake()
      }
    })
    this.child.stderr!.on('data', (chunk: string) => {
      this.err += chunk
      if (this.err.length > 64_000) this.err = this.err.slice(-32_000)
    })
    this.child.stdin?.on('error', () => { /* EPIPE once the child is gone */ })
    this.exited = new Promise<Exit>(resolve => {
      const done = (exit: Exit): void => {
        if (this.exit) return
        live.delete(this.child)
        this.exit = exit
        this.wake()
        resolve(exit)
      }
      this.child.once('error', e => { this.spawnError = e; done({ code: -1, signal: null }) })
      this.child.once('close', (code, signal) => done({ code, signal }))
    })
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  failure (what: string): Error {
    const e = this.exit
    const how = this.spawnError
      ? `could not start: ${this.spawnError.message}`
      : e?.signal != null ? `killed by ${e.signal}` : e ? `exit code ${e.code}` : 'still running'
    const last = this.json.length > 0 ? ` Last output: ${JSON.stringify(this.json[this.json.length - 1])}.` : ''
    const tail = this.err.trim().slice(-4000)
    return new Error(`${this.label}: ${what} (${how}).${last}${tail ? `\nstderr:\n${tail}` : ''}`)
  }

  /** The first JSON line matching `pred`; rejects if the process exits first or on abort. */
  async nextJson<T> (pred: (v: unknown) => boolean, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const hit = this.json.find(pred)
      if (hit !== undefined) return hit as T
      if (this.exit) throw this.failure('exited before reporting')
      if (signal?.aborted) throw abortReason(signal)
      await new Promise<void>(resolve => {
        const onAbort = (): void => resolve()
        signal?.addEventListener('abort', onAbort, { once: true })
        this.waiters.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
      })
    }
  }

  lastJson (): unknown {
    return this.json[this.json.length - 1]
  }

  /** Closes stdin and sends SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. */
  async close (graceMs = 3000): Promise<void> {
    if (this.exit) return
    try { this.child.stdin?.end() } catch { /* ignore */ }
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    try {
      await this.exited
    } finally {
      clearTimeout(t)
    }
  }
}

function abortReason (signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new Error(`aborted${r === undefined ? '' : `: ${String(r)}`}`)
}

/** Runs a one-shot tool to completion and returns its last JSON line; kills it on abort/timeout. */
async function runOnce (label: string, cmd: string, args: string[], o: { signal?: AbortSignal, killAfterMs: number }): Promise<Record<string, unknown>> {
  o.signal?.throwIfAborted()
  const tool = new Tool(label, cmd, args, false)
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; void tool.close(500) }, o.killAfterMs)
  const onAbort = (): void => { void tool.close(500) }
  o.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const exit = await tool.exited
    if (o.signal?.aborted) throw abortReason(o.signal)
    if (timedOut) throw tool.failure(`no result within ${o.killAfterMs} ms, killed`)
    const last = tool.lastJson()
    if (exit.code !== 0 || typeof last !== 'object' || last === null) throw tool.failure('failed')
    return last as Record<string, unknown>
  } finally {
    clearTimeout(timer)
    o.signal?.removeEventListener('abort', onAbort)
  }
}

/** Starts a long-running tool and waits for its first JSON line that has a numeric `port`. */
async function startService<T extends { port: number }> (label: string, cmd: string, args: string[], signal?: AbortSignal): Promise<T & { close: () => Promise<void> }> {
  signal?.throwIfAborted()
  const tool = new Tool(label, cmd, args, true)
  const close = (): Promise<void> => {
    signal?.removeEventListener('abort', onAbort)
    return tool.close()
  }
  const onAbort = (): void => { void close() }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const r = await tool.nextJson<T>(v => typeof (v as { port?: unknown }).port === 'number', signal)
    return { ...r, close }
  } catch (e) {
    await close()
    throw e
  }
}

function nodeArgs (nodes: HostPort[]): string[] {
  return nodes.flatMap(n => ['--node', `${n.host}:${n.port}`])
}

function checkHex (name: string, v: string, bytes?: number): void {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(v) || (bytes !== undefined && v.length !== bytes * 2)) {
    throw new TypeError(`${name} must be ${bytes === undefined ? '' : `${bytes} bytes of `}hex, got ${JSON.stringify(v)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// lt_dht

let building: Promise<string> | null = null

async function mtimeMs (p: string): Promise<number> {
  try { return (await stat(p)).mtimeMs } catch { return -1 }
}

/**
 * Compiles test/interop/lt_dht.cpp into test/interop/build/lt_dht (once; again only when the
 * .cpp is newer than the binary) and returns the binary's path. Compiling takes ~4 s.
 */
export async function ltDhtBinary (): Promise<string> {
  if (building == null) {
    building = (async () => {
      const [src, bin] = await Promise.all([mtimeMs(LT_DHT_SRC), mtimeMs(LT_DHT_BIN)])
      if (src < 0) throw new Error(`missing ${LT_DHT_SRC}`)
      if (bin >= src) return LT_DHT_BIN
      let flags: string[]
      try {
        const { stdout } = await execFileP('pkg-config', ['--cflags', '--libs', 'libtorrent-rasterbar'])
        flags = stdout.trim().split(/\s+/).filter(Boolean)
      } catch (err) {
        throw new Error(`pkg-config libtorrent-rasterbar failed (needs libtorrent-rasterbar-dev and pkg-config): ${(err as Error).message}`)
      }
      await mkdir(path.dirname(LT_DHT_BIN), { recursive: true })
      // build under a private name, then rename: safe when several test processes build at once
      const tmp = `${LT_DHT_BIN}.${process.pid}.tmp`
      try {
        await execFileP('g++', ['-O1', '-std=c++17', '-o', tmp, LT_DHT_SRC, ...flags], { maxBuffer: 16 << 20 })
        await rename(tmp, LT_DHT_BIN)
      } catch (err) {
        await rm(tmp, { force: true })
        throw new Error(`compiling lt_dht.cpp failed: ${(err as Error).message}\n${(err as { stderr?: string }).stderr ?? ''}`)
      }
      return LT_DHT_BIN
    })()
    building.catch(() => { building = null }) // allow a retry after a failed build
  }
  return await building
}

// UDP port of the previous one-shot lt_dht run (see the note at the top of this file)
let stickyPort = 0

export interface LtPutOptions {
  nodes: HostPort[]
  /** 32-byte ed25519 seed (RFC 8032 private key), hex */
  seedHex: string
  saltHex?: string
  seq: number
  /** 20-byte infohash, hex: the BEP 46 value is {ih: <these 20 bytes>} */
  infohashHex: string
  /** how long lt_dht waits for the put to finish; default 20000 (covers one dead-node timeout) */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface LtPutResult {
  /** nodes that acknowledged the put (libtorrent's num_success; may count itself, see above) */
  stored: number
  /** hex ed25519 public key that libtorrent derived from the seed */
  publicKey: string
  /** seq the lookup found in the network before this put, -1 if none */
  networkSeq: number
}

/** Puts the BEP 46 item {ih} with libtorrent; rejects if the put does not complete. */
export async function ltPut (o: LtPutOptions): Promise<LtPutResult> {
  checkHex('seedHex', o.seedHex, 32)
  checkHex('infohashHex', o.infohashHex, 20)
  if (o.saltHex !== undefined) checkHex('saltHex', o.saltHex)
  if (!Number.isSafeInteger(o.seq) || o.seq < 0) throw new TypeError(`bad seq ${o.seq}`)
  if (o.nodes.length === 0) throw new TypeError('ltPut needs at least one DHT node')
  const bin = await ltDhtBinary()
  const timeoutMs = o.timeoutMs ?? 20_000
  const args = [
    '--port', String(stickyPort), ...nodeArgs(o.nodes),
    'put', '--seed', o.seedHex, '--seq', String(o.seq), '--ih', o.infohashHex, '--timeout-ms', String(timeoutMs),
    ...(o.saltHex ? ['--salt', o.saltHex] : [])
  ]
  const r = await runOnce('lt_dht put', bin, args, { signal: o.signal, killAfterMs: timeoutMs + 10_000 })
  if (r.ok !== true) throw new Error(`lt_dht put: ${JSON.stringify(r)}`)
  if (typeof r.port === 'number' && r.port > 0) stickyPort = r.port
  return { stored: Number(r.stored), publicKey: String(r.publicKey), networkSeq: Number(r.networkSeq ?? -1) }
}

export interface LtGetOptions {
  nodes: HostPort[]
  publicKeyHex: string
  saltHex?: string
  /** lookup budget; when it runs out the best value seen so far is returned. Default 10000. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface LtGetResult {
  seq: number
  /** hex of the 20-byte `ih` of the BEP 46 value */
  infohash: string
  publicKey: string
  saltHex: string
  /** true when libtorrent's lookup ran to its end (false: cut short by timeoutMs) */
  authoritative: boolean
}

/**
 * Looks up a BEP 46 item with libtorrent (which checks target and signature and keeps the
 * highest seq). Resolves null when nothing was found; rejects on tool failure.
 */
export async function ltGet (o: LtGetOptions): Promise<LtGetResult | null> {
  checkHex('publicKeyHex', o.publicKeyHex, 32)
  if (o.saltHex !== undefined) checkHex('saltHex', o.saltHex)
  if (o.nodes.length === 0) throw new TypeError('ltGet needs at least one DHT node')
  const bin = await ltDhtBinary()
  const timeoutMs = o.timeoutMs ?? 10_000
  const args = [
    '--port', String(stickyPort), ...nodeArgs(o.nodes),
    'get', '--key', o.publicKeyHex, '--timeout-ms', String(timeoutMs),
    ...(o.saltHex ? ['--salt', o.saltHex] : [])
  ]
  const r = await runOnce('lt_dht get', bin, args, { signal: o.signal, killAfterMs: timeoutMs + 10_000 })
  if (typeof r.port === 'number' && r.port > 0) stickyPort = r.port
  if (r.found !== true) return null
  return {
    seq: Number(r.seq),
    infohash: String(r.ih),
    publicKey: String(r.publicKey),
    saltHex: String(r.salt ?? ''),
    authoritative: r.authoritative === true
  }
}

export interface LtNode {
  /** UDP port of its DHT on 127.0.0.1 */
  port: number
  close: () => Promise<void>
}

/** Runs a libtorrent DHT node on 127.0.0.1 (OS-chosen port unless `port`) until close(). */
export async function startLtNode (o: { nodes: HostPort[], port?: number, signal?: AbortSignal }): Promise<LtNode> {
  const bin = await ltDhtBinary()
  const args = ['--port', String(o.port ?? 0), ...nodeArgs(o.nodes), 'node']
  const { port, close } = await startService<{ port: number }>('lt_dht node', bin, args, o.signal)
  return { port, close }
}

// ---------------------------------------------------------------------------------------------
// lt_seed.py

function python (): string {
  if (process.env.LT_PYTHON) return process.env.LT_PYTHON
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
}

export interface LtSeeder {
  /** TCP port on 127.0.0.1 */
  port: number
  /** v1 infohash, hex */
  infohash: string
  close: () => Promise<void>
}

/**
 * Seeds `torrentFile` from `savePath` (the directory that contains the torrent's name) with
 * libtorrent, TCP on 127.0.0.1, after a hash check (none with seedMode). Resolves once it is
 * seeding; rejects, with stderr, if the data does not match.
 */
export async function startLtSeeder (o: { torrentFile: string, savePath: string, port?: number, seedMode?: boolean, signal?: AbortSignal }): Promise<LtSeeder> {
  const args = [LT_SEED_PY, '--torrent', o.torrentFile, '--save-path', o.savePath, '--port', String(o.port ?? 0)]
  if (o.seedMode === true) args.push('--seed-mode')
  const { port, infohash, close } = await startService<{ port: number, infohash: string }>('lt_seed.py', python(), args, o.signal)
  return { port, infohash, close }
}

/**
 * Reference downloader: libtorrent fetches `torrent` (a .torrent path, a magnet or a hex
 * infohash) from `peer` over TCP into `savePath`. `ms` is libtorrent's own time from adding the
 * torrent to having every piece (process start-up excluded).
 */
export async function ltDownload (o: { torrent: string, peer: HostPort, savePath: string, timeoutMs?: number, signal?: AbortSignal }): Promise<{ ms: number }> {
  const timeoutMs = o.timeoutMs ?? 120_000
  const args = [
    LT_SEED_PY, '--download', o.torrent, '--peer', `${o.peer.host}:${o.peer.port}`,
    '--save-path', o.savePath, '--timeout-ms', String(timeoutMs), '--no-stdin'
  ]
  const r = await runOnce('lt_seed.py --download', python(), args, { signal: o.signal, killAfterMs: timeoutMs + 10_000 })
  if (r.done !== true) throw new Error(`lt_seed.py --download: ${JSON.stringify(r)}`)
  return { ms: Number(r.ms) }
}
