import { promises as fs } from 'node:fs'
import path from 'node:path'

/** Every file under `dir`, as absolute paths ([] if dir is missing). */
export async function walk (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...await walk(p))
    else out.push(p)
  }
  return out
}
