// Build with esbuild: the CLI and the engine worker for Node (dependencies stay in node_modules),
// the shell page and the page script for the webview. Entries that do not exist yet are skipped.
import { build } from 'esbuild'
import { existsSync, mkdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
const existing = (list) => list.filter(f => existsSync(path.join(root, f)))

rmSync(dist, { recursive: true, force: true })

await build({
  absWorkingDir: root,
  entryPoints: existing(['src/cli.ts', 'src/window/worker.ts']),
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  banner: { js: '#!/usr/bin/env node' },
  define: { BTWEB_VERSION: JSON.stringify(version) },
  logLevel: 'warning'
})

const ui = existing(['ui/shell.ts', 'ui/inject.ts'])
if (ui.length) {
  await build({
    absWorkingDir: root,
    entryPoints: ui,
    outdir: 'dist/ui',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning'
  })
}
mkdirSync(path.join(dist, 'ui'), { recursive: true })
for (const f of existing(['ui/shell.html', 'ui/shell.css'])) copyFileSync(path.join(root, f), path.join(dist, 'ui', path.basename(f)))
