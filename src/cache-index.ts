/**
 * The torrent cache's bookkeeping: for each cached torrent (by infohash hex), its name, how many
 * bytes it holds on disk and when it was last used. Kept in memory, written atomically to
 * `<cacheDir>/index.json` (debounced, and on flush). A lost or corrupt index is rebuilt from the
 * folders on disk by the TorrentStore, so the file is a hint, never the truth.
 */
import { promises as fs } from 'node:fs'
import { readFileOrNull, writeFileAtomic } from './files.js'
import { log, logRejection } from './log.js'

export interface CacheRecord {
  name: string
  bytes: number
  lastUsed: number
}

const SAVE_DELAY_MS = 2000

export class CacheIndex {
  readonly #file: string
  readonly #records = new Map<string, CacheRecord>()
  #timer: NodeJS.Timeout | null = null
  #saving: Promise<void> = Promise.resolve()

  private constructor (file: string) {
    this.#file = file
  }

  static async load (file: string): Promise<CacheIndex> {
    const index = new CacheIndex(file)
    const raw = await readFileOrNull(file)
    if (raw) {
      try {
        const parsed = JSON.parse(raw.toString('utf8')) as { torrents?: Record<string, CacheRecord> }
        for (const [hex, r] of Object.entries(parsed.torrents ?? {})) {
          if (!/^[0-9a-f]{40}$/.test(hex) || typeof r !== 'object' || r === null) continue
          index.#records.set(hex, { name: String(r.name ?? ''), bytes: Math.max(0, Number(r.bytes) || 0), lastUsed: Number(r.lastUsed) || 0 })
        }
      } catch (err) {
        log('cache', `ignoring unreadable cache index ${file}: ${(err as Error).message}`)
      }
    }
    return index
  }

  get (hex: string): CacheRecord | undefined { return this.#records.get(hex) }
  has (hex: string): boolean { return this.#records.has(hex) }
  entries (): IterableIterator<[string, CacheRecord]> { return this.#records.entries() }

  totalBytes (): number {
    let n = 0
    for (const r of this.#records.values()) n += r.bytes
    return n
  }

  set (hex: string, record: Partial<CacheRecord>): void {
    const old = this.#records.get(hex) ?? { name: '', bytes: 0, lastUsed: 0 }
    this.#records.set(hex, { ...old, ...record })
    this.#scheduleSave()
  }

  delete (hex: string): void {
    if (this.#records.delete(hex)) this.#scheduleSave()
  }

  #scheduleSave (): void {
    if (this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#save().catch(logRejection('cache'))
    }, SAVE_DELAY_MS)
    this.#timer.unref()
  }

  #save (): Promise<void> {
    const data = JSON.stringify({ version: 1, torrents: Object.fromEntries(this.#records) }, null, 1) + '\n'
    // Writes are serialised so that an older snapshot can never land after a newer one.
    this.#saving = this.#saving.then(() => writeFileAtomic(this.#file, data, 0o600))
    return this.#saving
  }

  /** Write now (pending changes included) and stop the timer. */
  async flush (): Promise<void> {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null }
    await this.#save()
  }

  /** Size in bytes of the files under `dir` (for folders the index does not know). */
  static async du (dir: string): Promise<number> {
    let total = 0
    let entries
    try { entries = await fs.readdir(dir, { withFileTypes: true }) } catch { return 0 }
    for (const e of entries) {
      const p = `${dir}/${e.name}`
      if (e.isDirectory()) total += await CacheIndex.du(p)
      else if (e.isFile()) total += (await fs.stat(p)).blocks * 512
    }
    return total
  }
}
