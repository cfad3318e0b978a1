/**
 * What this data dir publishes: one record per site (key + salt) with the folder it comes from
 * and its versions, newest last. Snapshots of each version live in published/data/<infohash>/.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { mutableTarget } from './bep44.js'
import { readFileOrNull, writeFileAtomic } from './files.js'
import { toHex } from './hex.js'

export interface PublishedVersion {
  seq: number
  infohash: string
  publishedAt: string
}

export interface PublishedSite {
  url: string
  magnet: string
  keyName: string
  publicKey: string
  salt: string
  folder: string
  versions: PublishedVersion[]
}

export class PublishedSites {
  readonly dir: string
  constructor (dir: string) { this.dir = dir }

  snapshotDir (infohash: string): string {
    return path.join(this.dir, 'data', infohash)
  }

  #file (publicKey: Uint8Array, salt: Uint8Array): string {
    return path.join(this.dir, toHex(mutableTarget(publicKey, salt)) + '.json')
  }

  async get (publicKey: Uint8Array, salt: Uint8Array): Promise<PublishedSite | null> {
    const raw = await readFileOrNull(this.#file(publicKey, salt))
    return raw ? JSON.parse(raw.toString('utf8')) as PublishedSite : null
  }

  async save (publicKey: Uint8Array, salt: Uint8Array, site: PublishedSite): Promise<void> {
    await writeFileAtomic(this.#file(publicKey, salt), JSON.stringify(site, null, 2) + '\n', 0o644)
  }

  async list (): Promise<PublishedSite[]> {
    let names: string[]
    try {
      names = (await fs.readdir(this.dir)).filter(n => n.endsWith('.json')).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: PublishedSite[] = []
    for (const n of names) {
      const raw = await readFileOrNull(path.join(this.dir, n))
      if (raw) out.push(JSON.parse(raw.toString('utf8')) as PublishedSite)
    }
    return out
  }
}
