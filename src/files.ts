/** Crash-safe file writes: a reader sees the old file or the new one, never half of one. */
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

async function writeTemp (file: string, data: string | Uint8Array, mode: number): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await fs.open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return tmp
}

async function syncDir (dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await fs.open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/** Atomically replace `file` with `data` (write temp, fsync, rename, fsync dir). */
export async function writeFileAtomic (file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(file, data, mode)
  try {
    await fs.rename(tmp, file)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
  await syncDir(path.dirname(file))
}

/**
 * Atomically create `file` with `data`, failing with EEXIST if it already exists: used for
 * files that must never be overwritten (keys). link() is atomic and refuses to replace.
 */
export async function createFileExclusive (file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(file, data, mode)
  try {
    await fs.link(tmp, file)
  } finally {
    await fs.rm(tmp, { force: true })
  }
  await syncDir(path.dirname(file))
}

export async function readFileOrNull (file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/**
 * Remove temp files (`*.tmp`) older than `olderThanMs` that a killed process left in `dir`.
 * Only old ones: another process sharing the data dir may be writing a fresh one right now.
 */
export async function removeStaleTemps (dir: string, olderThanMs = 3_600_000): Promise<number> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw err
  }
  let removed = 0
  for (const name of names.filter(n => n.endsWith('.tmp'))) {
    const file = path.join(dir, name)
    const stat = await fs.stat(file).catch(() => null)
    if (stat && Date.now() - stat.mtimeMs > olderThanMs) {
      await fs.rm(file, { force: true })
      removed++
    }
  }
  return removed
}
