/** The built shell page and page script: dist/ui/*, made by scripts/build.mjs from ui/*. */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { BtwebError } from '../errors.js'
import { packageRoot } from '../package-root.js'

export const UI_FILES = ['shell.html', 'shell.js', 'shell.css', 'inject.js'] as const
export type UiFile = typeof UI_FILES[number]

let dir: string | null = null
const cache = new Map<UiFile, string>()

export function uiDir (): string {
  if (dir) return dir
  const candidate = path.join(packageRoot(), 'dist', 'ui')
  if (!existsSync(path.join(candidate, 'shell.js'))) throw new BtwebError('BAD_ARGUMENT', 'The browser UI is not built: run "npm run build".')
  return (dir = candidate)
}

/** A built UI file's text, read once (they do not change while btweb runs). */
export function uiFile (name: UiFile): string {
  let text = cache.get(name)
  if (text === undefined) {
    text = readFileSync(path.join(uiDir(), name), 'utf8')
    cache.set(name, text)
  }
  return text
}

/**
 * The page script the gateway puts first in every HTML page it serves, as a ready
 * `<script>…</script>` element. The script ends any `</script` sequence safely (esbuild
 * escapes them in string literals), so it can be inlined as is.
 */
export function injectScriptTag (): string {
  return `<script>${uiFile('inject.js')}</script>`
}
