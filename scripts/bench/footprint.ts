/**
 * Row 5: memory and launch → page time of a window, under a private Xvfb (software rendering).
 *
 *   btweb     `node dist/cli.js demo --data-dir <fresh>`: demo network in a child process, the
 *             window opens demo site 1. PSS = the btweb process (main thread + engine worker)
 *             + its WebKitWebProcess / WebKitNetworkProcess children. The demo-network child
 *             (DHT + publisher: the stand-in for the internet) is left out and shown apart.
 *   chromium  Debian's chromium --app=<site 1 through a btweb gateway> with a fresh profile;
 *             PSS of every chromium process. The gateway (`btweb demo --no-window`, one for all
 *             chromium runs, content warm) is shown apart: a user of btweb serve + chromium
 *             pays both.
 *   floor     a bare webview-nodejs window (a few lines of JS, same WebKit settings as btweb:
 *             WEBKIT_DISABLE_COMPOSITING_MODE=1) showing the same page from a plain static server.
 *
 * Time: a small X client (.bench/xprobe, compiled from the C below) samples the screen every
 * 25 ms (one pixel in 8×8); "visually complete" is the first sample that matches ≥ 99 % of the
 * settled screen (so a blinking caret does not count), timed from the spawn of the browser.
 * For btweb the clock also starts again when the demo prints its network line (window launch
 * without the demo network's start-up); that is the time compared with chromium's.
 * PSS is read (smaps_rollup) once the screen has been settled for 2.5 s.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { originHost, parseAddress } from '../../src/address.js'
import { RUNS, commandLine, descendants, emitRow, log, main, processName, pssMb, sleep, summarize, tempDir, withTimeout } from './lib.js'

const run = promisify(execFile)
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const CLI = path.join(ROOT, 'dist', 'cli.js')
const BENCH_DIR = path.join(ROOT, '.bench')
const SETTLE_MS = 2500
const LAUNCH_LIMIT_MS = 45_000
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6

const XPROBE_C = String.raw`
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double mono_ms(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6; }
int main(void) {
  const int stride = 8, interval = 25, cap = 3000;
  Display *d = NULL;
  for (int i = 0; i < 40 && !(d = XOpenDisplay(NULL)); i++) usleep(50000); /* the server may be between clients */
  if (!d) { fprintf(stderr, "xprobe: cannot open display\n"); return 1; }
  Window root = DefaultRootWindow(d);
  XWindowAttributes a; XGetWindowAttributes(d, root, &a);
  int nx = a.width / stride, ny = a.height / stride, n = nx * ny, nf = 0;
  uint32_t **frames = calloc(cap, sizeof *frames); double *times = calloc(cap, sizeof *times);
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    struct pollfd p = { 0, POLLIN, 0 };
    if (poll(&p, 1, nf == 0 ? 0 : interval) > 0) {
      char buf[64]; if (read(0, buf, sizeof buf) <= 0) break;
      double first = -1, complete = -1; uint32_t *last = frames[nf - 1];
      for (int i = 0; i < nf; i++) {
        int same = 0, moved = 0;
        for (int k = 0; k < n; k++) { same += frames[i][k] == last[k]; moved += frames[i][k] != frames[0][k]; }
        if (first < 0 && moved > n / 100) first = times[i];
        if (complete < 0 && same >= n * 0.99) complete = times[i];
      }
      printf("{\"frames\":%d,\"firstPaint\":%.1f,\"complete\":%.1f,\"now\":%.1f}\n", nf, first, complete, mono_ms());
      continue;
    }
    XImage *img = XGetImage(d, root, 0, 0, a.width, a.height, AllPlanes, ZPixmap);
    double t = mono_ms();
    if (!img) continue;
    uint32_t *s = malloc(n * 4);
    for (int y = 0; y < ny; y++) for (int x = 0; x < nx; x++) s[y * nx + x] = XGetPixel(img, x * stride + stride / 2, y * stride + stride / 2) & 0xffffff;
    XDestroyImage(img);
    if (nf > 0 && memcmp(s, frames[nf - 1], n * 4) == 0) { free(s); continue; }
    if (nf == cap) { free(frames[nf - 1]); nf--; }
    frames[nf] = s; times[nf] = t; nf++;
    if (nf == 1) printf("{\"ready\":true}\n");
  }
  return 0;
}
`

async function buildProbe (): Promise<string> {
  await mkdir(BENCH_DIR, { recursive: true })
  const src = path.join(BENCH_DIR, 'xprobe.c')
  const bin = path.join(BENCH_DIR, 'xprobe')
  if (existsSync(bin) && (await readFile(src, 'utf8').catch(() => '')) === XPROBE_C) return bin
  await writeFile(src, XPROBE_C)
  await run('cc', ['-O2', '-o', bin, src, '-lX11'])
  return bin
}

interface Xvfb { display: string, child: ChildProcess }

async function startXvfb (): Promise<Xvfb> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] })
  const display = await withTimeout(new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdio[3]!.on('data', (d: Buffer) => { out += d; if (out.includes('\n')) resolve(':' + out.trim()) })
    child.once('exit', code => reject(new Error(`Xvfb exited (${code})`)))
    child.once('error', reject)
  }), 10_000, 'Xvfb')
  return { display, child }
}

/** SIGTERM, then SIGKILL after `graceMs`; then SIGKILL any of `extra` pids still there. */
async function stop (child: ChildProcess, extra: number[] = [], graceMs = 8000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const done = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await done
    clearTimeout(t)
  }
  for (const pid of extra) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
  // wait until they are gone: a dying window's pages would still be shared with the next one
  const until = Date.now() + 5000
  while (extra.some(isAlive) && Date.now() < until) await sleep(50)
}

function isAlive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

interface Probe { report (): Promise<{ firstPaint: number, complete: number, now: number, frames: number }>, close (): Promise<void> }

async function startProbe (bin: string, display: string): Promise<Probe> {
  const child = spawn(bin, [], { env: { ...process.env, DISPLAY: display }, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const queue: Array<(v: string) => void> = []
  const buffered: string[] = []
  lines.on('line', l => { const f = queue.shift(); if (f) f(l); else buffered.push(l) })
  const next = (): Promise<string> => buffered.length ? Promise.resolve(buffered.shift()!) : new Promise(resolve => queue.push(resolve))
  await withTimeout(next(), 5000, 'xprobe start')
  return {
    async report () {
      child.stdin!.write('R\n')
      return JSON.parse(await withTimeout(next(), 5000, 'xprobe report'))
    },
    close: () => stop(child, [], 1000)
  }
}

/**
 * WebKit and chromium processes that are not ours: they share library pages with the measured
 * processes and so lower their PSS (PSS splits a shared page among all processes mapping it).
 */
function strangers (ours: Set<number>): string[] {
  const out: string[] = []
  for (const pid of descendants(1)) {
    if (ours.has(pid) || pid === process.pid) continue
    const name = processName(pid)
    if (/^(WebKit|chrom)/i.test(name)) out.push(`${name}(${pid})`)
  }
  return out
}
const strangersSeen = new Set<string>()
let disturbedRuns = 0

interface Launch { pssMb: number, parts: Record<string, number>, completeMs: number, firstPaintMs: number, marks: Record<string, number> }

/**
 * Spawns a browser, waits until the screen has settled, reads PSS of `pick(pids)`, stops it.
 * `onLine` sees the browser's stdout lines (for marks such as the demo's network line).
 */
/** measureLaunch, once more if the first attempt fails (a launch under Xvfb can fail for reasons outside btweb). */
async function measure (o: Parameters<typeof measureLaunch>[0]): Promise<Launch> {
  try {
    return await measureLaunch(o)
  } catch (err) {
    log(`${path.basename(o.cmd)} launch failed, retrying once: ${(err as Error).message}`)
    return await measureLaunch(o)
  }
}

async function measureLaunch (o: { probeBin: string, display: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string, group: (pid: number, root: number) => string | null, related?: () => number[], onLine?: (line: string, at: number, marks: Record<string, number>) => void }): Promise<Launch> {
  const probe = await startProbe(o.probeBin, o.display)
  let child: ChildProcess | null = null
  const seen = new Set<number>()
  try {
    const marks: Record<string, number> = {}
    const t0 = monoMs()
    child = spawn(o.cmd, o.args, { cwd: o.cwd, env: { ...o.env, DISPLAY: o.display }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
    createInterface({ input: child.stdout! }).on('line', l => o.onLine?.(l, monoMs() - t0, marks))
    const exited = new Promise<void>(resolve => child!.once('exit', () => resolve()))
    let settled: { firstPaint: number, complete: number } | null = null
    while (monoMs() - t0 < LAUNCH_LIMIT_MS) {
      await Promise.race([sleep(500), exited])
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${path.basename(o.cmd)} exited early (${child.exitCode ?? child.signalCode}): ${stderr.trim().slice(-1500)}`)
      for (const p of [...descendants(child.pid!), ...(o.related?.() ?? [])]) seen.add(p)
      const r = await probe.report()
      if (r.firstPaint > 0 && r.complete > 0 && r.now - r.complete >= SETTLE_MS && monoMs() - t0 > 2000) {
        settled = r
        break
      }
    }
    if (!settled) throw new Error(`${path.basename(o.cmd)}: the screen did not settle within ${LAUNCH_LIMIT_MS} ms`)
    const parts: Record<string, number> = {}
    const mine = new Set([child.pid!, ...descendants(child.pid!), ...(o.related?.() ?? [])])
    for (const pid of mine) {
      seen.add(pid)
      const g = o.group(pid, child.pid!)
      if (g !== null) parts[g] = (parts[g] ?? 0) + pssMb(pid)
    }
    const others = strangers(mine)
    for (const s of others) strangersSeen.add(s)
    if (others.length) disturbedRuns++
    const total = Object.entries(parts).filter(([k]) => !k.startsWith('(')).reduce((n, [, v]) => n + v, 0)
    return { pssMb: total, parts, completeMs: settled.complete - t0, firstPaintMs: settled.firstPaint - t0, marks }
  } finally {
    if (child) await stop(child, [...seen])
    await probe.close()
  }
}

/** node + WebKit processes of a btweb window; the demo-network subtree apart, in parentheses (not summed). */
function btwebGroups (networkPids: () => Set<number>) {
  return (pid: number, root: number): string | null => {
    if (networkPids().has(pid)) return '(demo network: DHT + publisher, not counted)'
    if (pid === root) return 'node (window + engine worker)'
    const name = processName(pid)
    if (/^WebKit/.test(name) || /WebKit/.test(commandLine(pid))) return name
    return `other: ${name}`
  }
}

/** Pids of the demo-network child (and its children) of `root`. */
function demoNetworkPids (root: number): Set<number> {
  const out = new Set<number>()
  for (const pid of descendants(root)) {
    if (commandLine(pid).includes('demo-network')) { out.add(pid); for (const c of descendants(pid)) out.add(c) }
  }
  return out
}

/** Pids whose command line contains `text`. */
function pidsWithArg (text: string): number[] {
  return descendants(1).filter(pid => pid !== process.pid && commandLine(pid).includes(text))
}

function crashpadPids (): number[] {
  return descendants(1).filter(pid => processName(pid).startsWith('chrome_crashpad'))
}

/** A static server with the content types a page needs (for the floor window). */
async function staticServer (root: string): Promise<{ port: number, close: () => Promise<void> }> {
  const types: Record<string, string> = { html: 'text/html; charset=utf-8', css: 'text/css', svg: 'image/svg+xml', js: 'text/javascript' }
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '') || 'index.html'
    const file = path.join(root, rel)
    if (!file.startsWith(root + path.sep)) { res.writeHead(403).end(); return }
    readFile(file).then(body => {
      res.writeHead(200, { 'Content-Type': types[path.extname(file).slice(1)] ?? 'application/octet-stream' }).end(body)
    }, () => res.writeHead(404).end())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

const FLOOR_JS = `
import { createRequire } from 'node:module'
const require = createRequire(process.cwd() + '/')
const { Webview } = require('webview-nodejs')
const w = new Webview(false)
w.title('floor'); w.size(1024, 768); w.navigate(process.argv[1]); w.show()
`

main(async (cleanup) => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build')
  const probeBin = await buildProbe()
  const x = await startXvfb()
  cleanup.add('Xvfb', () => stop(x.child, [], 3000))
  const work = await tempDir(cleanup, 'footprint')
  const env = { ...process.env, WEBKIT_DISABLE_COMPOSITING_MODE: '1', NO_AT_BRIDGE: '1' }

  // A gateway with the demo sites for chromium: `btweb demo --no-window`.
  const gwDir = path.join(work, 'gateway')
  const gateway = spawn(process.execPath, [CLI, 'demo', '--no-window', '--data-dir', gwDir], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const gwPids = new Set<number>()
  cleanup.add('btweb demo --no-window', () => stop(gateway, [...gwPids]))
  const gw = await withTimeout(new Promise<{ site1: string, port: number }>((resolve, reject) => {
    let site1 = ''
    createInterface({ input: gateway.stdout! }).on('line', l => {
      site1 ||= /site 1: (\S+)/.exec(l)?.[1] ?? ''
      const m = /Gateway: http:\/\/btweb\.localhost:(\d+)\//.exec(l)
      if (m && site1) resolve({ site1, port: Number(m[1]) })
    })
    gateway.once('exit', code => reject(new Error(`btweb demo --no-window exited (${code})`)))
  }), 60_000, 'btweb demo --no-window')
  const siteUrl = `http://${originHost(parseAddress(gw.site1))}:${gw.port}/`
  // warm the gateway: pointer and content cached before chromium asks
  for (const p of ['/', '/style.css', '/logo.svg']) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: gw.port, path: p, headers: { host: `${originHost(parseAddress(gw.site1))}:${gw.port}` } }, res => { res.resume(); res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(`gateway ${p}: HTTP ${res.statusCode}`))) }).on('error', reject)
    })
  }
  log(`gateway for chromium: ${siteUrl}`)

  // The floor's page: demo site 1's files from a static server.
  const floorRoot = path.join(work, 'floor-site')
  await cp(path.join(ROOT, 'assets', 'demo', 'site1'), floorRoot, { recursive: true })
  const floorServer = await staticServer(floorRoot)
  cleanup.add('static server', () => floorServer.close())
  const floorUrl = `http://127.0.0.1:${floorServer.port}/index.html`

  const btweb: Launch[] = []
  const chromium: Launch[] = []
  const floor: Launch[] = []
  const gatewayPss: number[] = []
  for (let i = 0; i < RUNS; i++) {
    let root = 0
    let net: Set<number> = new Set()
    const dataDir = path.join(work, `btweb-${i}`)
    btweb.push(await measure({
      probeBin,
      display: x.display,
      cmd: process.execPath,
      args: [CLI, 'demo', '--data-dir', dataDir],
      env,
      group: (pid, r) => { if (root !== r) { root = r; net = demoNetworkPids(r) } return btwebGroups(() => net)(pid, r) },
      onLine: (line, at, marks) => { if (line.startsWith('Demo network')) marks.networkReady = at }
    }))
    if (CHROMIUM) {
      const profile = path.join(work, `chromium-${i}`)
      const crashpadBefore = new Set(crashpadPids())
      chromium.push(await measure({
        probeBin,
        display: x.display,
        cmd: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--password-store=basic', '--window-size=1024,768', '--window-position=0,0', `--user-data-dir=${profile}`, `--app=${siteUrl}`],
        env,
        group: () => 'chromium',
        // chrome_crashpad_handler is double-forked (not a descendant) and does not name the profile
        related: () => [...pidsWithArg(profile), ...crashpadPids().filter(p => !crashpadBefore.has(p))]
      }))
      for (const p of descendants(gateway.pid!)) gwPids.add(p)
      const net = demoNetworkPids(gateway.pid!)
      gatewayPss.push([gateway.pid!, ...descendants(gateway.pid!)].filter(p => !net.has(p)).reduce((n, p) => n + pssMb(p), 0))
    }
    floor.push(await measure({
      probeBin,
      display: x.display,
      cmd: process.execPath,
      args: ['--input-type=module', '-e', FLOOR_JS, floorUrl],
      cwd: ROOT,
      env,
      group: (pid, r) => pid === r ? 'node' : processName(pid)
    }))
    const b = btweb.at(-1)!
    log(`run ${i + 1}/${RUNS}: btweb ${b.pssMb.toFixed(0)} MB ${JSON.stringify(roundAll(b.parts))}, complete ${b.completeMs.toFixed(0)} ms (window ${(b.completeMs - (b.marks.networkReady ?? NaN)).toFixed(0)} ms); ` +
      `chromium ${chromium.at(-1)?.pssMb.toFixed(0)} MB, ${chromium.at(-1)?.completeMs.toFixed(0)} ms; floor ${floor.at(-1)!.pssMb.toFixed(0)} MB ${JSON.stringify(roundAll(floor.at(-1)!.parts))}, ${floor.at(-1)!.completeMs.toFixed(0)} ms`)
  }

  const partSummaries = (label: string, runs: Launch[]) => {
    const keys = [...new Set(runs.flatMap(r => Object.keys(r.parts)))].sort()
    return keys.map(k => ({ label: `${label}: ${k}`, summary: summarize(runs.map(r => r.parts[k] ?? 0)) }))
  }
  const chromiumSide = CHROMIUM ? { label: 'Debian chromium --app (all its processes)', summary: summarize(chromium.map(r => r.pssMb)) } : null
  emitRow({
    id: '5a',
    what: 'Footprint: PSS with the demo site open (Xvfb, software rendering)',
    unit: 'MB',
    lowerIsBetter: true,
    btweb: { label: 'btweb demo: node (window + engine) + WebKit processes', summary: summarize(btweb.map(r => r.pssMb)) },
    reference: chromiumSide,
    parts: [
      ...partSummaries('btweb', btweb),
      ...(CHROMIUM ? [{ label: 'btweb demo --no-window gateway serving chromium (not in chromium\'s number)', summary: summarize(gatewayPss) }] : []),
      { label: 'floor: bare webview-nodejs window, static page (node + WebKit)', summary: summarize(floor.map(r => r.pssMb)) },
      ...partSummaries('floor', floor)
    ],
    note: [
      CHROMIUM ? '' : 'chromium is not installed (apt-get install -y chromium): no reference.',
      strangersSeen.size ? `In ${disturbedRuns} of ${RUNS * (CHROMIUM ? 3 : 2)} launches other WebKit/chromium processes were running (${[...strangersSeen].slice(0, 4).join(', ')}): they share library pages, so those launches read a lower PSS than a quiet machine would.` : ''
    ].filter(Boolean).join(' ') || undefined
  })
  emitRow({
    id: '5b',
    what: 'Footprint floor: btweb vs a bare webview-nodejs window (same WebKit settings, static page)',
    unit: 'MB',
    lowerIsBetter: true,
    btweb: { label: 'btweb demo (as 5a)', summary: summarize(btweb.map(r => r.pssMb)) },
    reference: { label: 'bare webview-nodejs window', summary: summarize(floor.map(r => r.pssMb)) }
  })
  const windowMs = btweb.map(r => r.completeMs - (r.marks.networkReady ?? NaN)).filter(Number.isFinite)
  emitRow({
    id: '5c',
    what: 'Launch → page visually complete (screen samples ≥ 99 % equal to the settled screen)',
    unit: 'ms',
    lowerIsBetter: true,
    btweb: { label: 'btweb window: demo network up → site 1 shown (cold: resolve + fetch inside)', summary: summarize(windowMs) },
    reference: chromiumSide && { label: 'chromium --app, fresh profile, page from a warm gateway', summary: summarize(chromium.map(r => r.completeMs)) },
    parts: [
      { label: 'btweb demo: process spawn → demo network up', summary: summarize(btweb.map(r => r.marks.networkReady ?? NaN)) },
      { label: 'btweb demo: process spawn → site 1 shown', summary: summarize(btweb.map(r => r.completeMs)) },
      { label: 'btweb demo: process spawn → first paint of anything', summary: summarize(btweb.map(r => r.firstPaintMs)) },
      { label: 'chromium: spawn → first paint of anything', summary: summarize(chromium.map(r => r.firstPaintMs)) },
      { label: 'floor: bare webview-nodejs, spawn → page visually complete', summary: summarize(floor.map(r => r.completeMs)) }
    ]
  })
}, { deadlineMs: 8 * 60_000 })

function roundAll (o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]))
}
