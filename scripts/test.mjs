// Runs every test/**/*.test.ts in its own Node process (native addons, sockets and windows
// never leak from one file into the next), then prints uvu's totals summed over all files and
// the closing line CI counts: "N passed, N failed".
//   node scripts/test.mjs [pattern]     only files whose path contains pattern
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const pattern = process.argv[2] ?? ''
const FILE_TIMEOUT_MS = 5 * 60_000

const built = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' })
if (built.status !== 0) { console.log('0 passed, 1 failed'); process.exit(1) }

function find (dir) {
  return readdirSync(dir).flatMap(name => {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) return name === 'node_modules' || name.startsWith('.') ? [] : find(p)
    return name.endsWith('.test.ts') ? [p] : []
  })
}
const files = find(path.join(root, 'test')).filter(f => f.includes(pattern)).sort()

function runFile (file) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d; process.stdout.write(d) })
    child.stderr.on('data', d => { process.stderr.write(d) })
    const timer = setTimeout(() => { out += '\n[test runner] timed out\n'; child.kill('SIGKILL') }, FILE_TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
      const num = (label) => Number((new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(plain) ?? [])[1] ?? NaN)
      const total = num('Total'); const passed = num('Passed'); const skipped = num('Skipped')
      let failed = total - passed - (Number.isNaN(skipped) ? 0 : skipped)
      // A file that crashed or hung before printing its totals counts as one failure.
      if (Number.isNaN(total) || (code !== 0 && failed === 0)) failed = Math.max(failed || 0, 1)
      resolve({ file: path.relative(root, file), passed: Number.isNaN(passed) ? 0 : passed, failed, skipped: Number.isNaN(skipped) ? 0 : skipped, ms: Date.now() - started, code, signal })
    })
  })
}

const results = []
for (const file of files) {
  process.stdout.write(`\n### ${path.relative(root, file)}\n`)
  results.push(await runFile(file))
}
const sum = (k) => results.reduce((n, r) => n + r[k], 0)
console.log('\nfile                                   passed failed   time')
for (const r of results) console.log(`${r.file.padEnd(38)} ${String(r.passed).padStart(6)} ${String(r.failed).padStart(6)} ${(r.ms / 1000).toFixed(1).padStart(6)}s${r.code !== 0 ? `  (exit ${r.code ?? r.signal})` : ''}`)
const skipped = sum('skipped')
console.log(`\n${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(sum('failed') > 0 || results.length === 0 ? 1 : 0)
