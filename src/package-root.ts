/** The folder btweb is installed in (holds package.json, dist/, ui/, assets/), found from this file's location. */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function packageRoot (): string {
  if (cached) return cached
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = path.join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'btweb') return (cached = dir)
    const up = path.dirname(dir)
    if (up === dir) throw new Error('cannot find the btweb package folder')
    dir = up
  }
}
