// `npm run bench`: btweb side by side with reference implementations, on 127.0.0.1 only.
//
//   node scripts/bench.mjs [module …] [--runs N]
//     modules: cold-open gateway download footprint scale load (default: all, in that order)
//
// Builds dist/ first, then runs every scripts/bench/<module>.ts in its own Node process (each
// opens and closes its own DHTs, engines, seeders, windows), collects the rows they print
// (`BENCH_ROW <json>`), and prints ONE Markdown table: btweb's median (min–max) over ≥ 5 runs,
// the reference's, and the ratio btweb ÷ reference. The same results, with every sample and the
// machine, go to .bench/results.json. Exit code 1 if any module failed (its rows so far are kept).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ALL = ['cold-open', 'gateway', 'download', 'footprint', 'scale', 'load']
const MODULE_TIMEOUT_MS = { 'cold-open': 5 * 60_000, gateway: 4 * 60_000, download: 5 * 60_000, footprint: 8 * 60_000, scale: 8 * 60_000, load: 4 * 60_000 }

const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : undefined
if (runs !== undefined && !(Number.isInteger(runs) && runs >= 5)) { console.error('--runs takes an integer ≥ 5'); process.exit(2) }
const unknown = args.filter(a => !ALL.includes(a))
if (unknown.length) { console.error(`unknown bench module(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}`); process.exit(2) }
const selected = args.length ? ALL.filter(m => args.includes(m)) : ALL

const started = Date.now()
const built = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] })
if (built.status !== 0) { console.error('bench: npm run build failed'); process.exit(1) }

function runModule (name) {
  return new Promise(resolve => {
    const t0 = Date.now()
    const env = { ...process.env, FORCE_COLOR: '0', ...(runs ? { BENCH_RUNS: String(runs) } : {}) }
    delete env.DEBUG
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench', `${name}.ts`)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
    const rows = []
    let buf = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', chunk => {
      buf += chunk
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.startsWith('BENCH_ROW ')) rows.push(JSON.parse(line.slice(10)))
        else if (line.trim()) process.stderr.write(`[${name} stdout] ${line}\n`)
      }
    })
    let timedOut = false
    // The module has its own deadline and cleans up; this is the last resort.
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 30_000).unref() }, MODULE_TIMEOUT_MS[name] + 30_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ name, ok: code === 0 && !timedOut, code, signal, timedOut, seconds: (Date.now() - t0) / 1000, rows })
    })
  })
}

const modules = []
for (const name of selected) {
  process.stderr.write(`\n== bench ${name}\n`)
  const r = await runModule(name)
  process.stderr.write(`== bench ${name}: ${r.ok ? 'done' : 'FAILED'} in ${r.seconds.toFixed(0)} s, ${r.rows.length} row(s)\n`)
  modules.push(r)
}

// ---------------------------------------------------------------------------------------------
// the table

function num (v, unit) {
  if (!Number.isFinite(v)) return 'n/a'
  const a = Math.abs(v)
  const digits = unit === 'req/s' || a >= 100 ? 0 : a >= 10 ? 1 : 2
  return v.toFixed(digits)
}
const stat = (s, unit) => `${num(s.median, unit)} (${num(s.min, unit)}–${num(s.max, unit)})`

function ratioText (row) {
  if (!row.reference) return '—'
  const r = row.btweb.summary.median / row.reference.summary.median
  if (!Number.isFinite(r)) return 'n/a'
  const better = row.lowerIsBetter ? r < 0.95 : r > 1.05
  const worse = row.lowerIsBetter ? r > 1.05 : r < 0.95
  return `${r.toFixed(2)}×${better ? ' better' : worse ? ' **worse**' : ' ≈'}`
}

const esc = s => String(s).replaceAll('|', '\\|')
const allRows = modules.flatMap(m => m.rows)
const lines = [
  '| # | what | unit | btweb median (min–max) | reference | reference median (min–max) | btweb ÷ ref |',
  '| --- | --- | --- | --- | --- | --- | --- |'
]
for (const row of allRows) {
  lines.push(`| ${row.id} | ${esc(row.what)}<br>*btweb: ${esc(row.btweb.label)}* | ${row.unit} | ${stat(row.btweb.summary, row.unit)} | ${esc(row.reference?.label ?? '—')} | ${row.reference ? stat(row.reference.summary, row.unit) : '—'} | ${ratioText(row)} |`)
  for (const p of row.parts ?? []) lines.push(`| ${row.id} ↳ | ${esc(p.label)} | ${row.unit} | ${stat(p.summary, row.unit)} | | | |`)
  if (row.note) lines.push(`| ${row.id} ↳ | *note: ${esc(row.note)}* | | | | | |`)
}
for (const m of modules) if (!m.ok) lines.push(`| ✘ | module **${m.name}** failed (${m.timedOut ? 'timed out' : `exit ${m.code ?? m.signal}`}): see the log above | | | | | |`)
const table = lines.join('\n')

function sh (cmd, argv) {
  try { return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trimEnd() } catch { return null }
}
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const machine = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memory: sh('free', ['-h']),
  kernel: `${os.type()} ${os.release()} ${os.arch()}`,
  os: sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
  node: process.version,
  libtorrent: sh(python, ['-c', 'import libtorrent; print(libtorrent.__version__)']),
  webkitgtk: sh('sh', ['-c', 'pkg-config --modversion webkit2gtk-4.1 2>/dev/null || pkg-config --modversion webkit2gtk-4.0']),
  chromium: sh('chromium', ['--version'])
}
const totalSeconds = (Date.now() - started) / 1000
mkdirSync(path.join(root, '.bench'), { recursive: true })
writeFileSync(path.join(root, '.bench', 'results.json'), JSON.stringify({
  machine,
  totalSeconds,
  runs: runs ?? 5,
  modules: modules.map(({ rows, ...m }) => ({ ...m, rows: rows.map(r => r.id) })),
  rows: allRows,
  table
}, null, 2) + '\n')

console.log(`\n${table}\n`)
console.log(`${machine.date} · ${machine.nproc} × ${machine.cpu} · ${os.totalmem() / 2 ** 30 | 0} GiB · Node ${machine.node} · libtorrent ${machine.libtorrent ?? '?'} · WebKitGTK ${machine.webkitgtk ?? '?'} · ${machine.chromium ?? 'no chromium'}`)
console.log(`total ${Math.floor(totalSeconds / 60)} min ${Math.round(totalSeconds % 60)} s · results: .bench/results.json`)
process.exit(modules.every(m => m.ok) ? 0 : 1)
