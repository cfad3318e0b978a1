/**
 * Publishing a folder as a site, the part shared by `btweb publish` and `btweb demo`:
 * folder → snapshot + deterministic torrent → seed → BEP 46 pointer with the next seq → record.
 */
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { formatAddress, formatMagnet, type MutableAddress } from './address.js'
import { dataPaths } from './data-dir.js'
import { dhtReady } from './dht.js'
import type { Engine } from './engine.js'
import { BtwebError } from './errors.js'
import { fromHex, toHex } from './hex.js'
import type { KeyPair } from './keys.js'
import { log, logRejection } from './log.js'
import { PublishedSites, type PublishedSite } from './published.js'
import { putPointer } from './publisher.js'
import { buildSiteTorrent, listSiteFiles, type SiteFile } from './site-torrent.js'
import type { Pointer } from './pointer-store.js'

export interface PublishOptions {
  folder: string
  key: KeyPair
  salt?: Uint8Array
  includeHidden?: boolean
  /** Refuse folders larger than this (the cache cap). */
  maxBytes?: number
  onProgress?: (done: number, total: number) => void
  onSkipped?: (what: string) => void
  signal?: AbortSignal
}

export interface PublishResult {
  site: MutableAddress
  record: PublishedSite
  pointer: Pointer
  stored: number
  /** The DHT held this version already (republished, same seq). */
  unchanged: boolean
  infohash: string
  files: SiteFile[]
  totalBytes: number
}

/** Validate the folder and list its files, before anything is changed. */
export async function checkFolder (folder: string, { includeHidden = false, maxBytes = Infinity } = {}): Promise<{ files: SiteFile[], skipped: string[], totalBytes: number }> {
  const { files, skipped } = await listSiteFiles(folder, { includeHidden })
  const totalBytes = files.reduce((n, f) => n + f.size, 0)
  if (totalBytes > maxBytes) throw new BtwebError('PUBLISH_ERROR', `The folder holds ${(totalBytes / 2 ** 20).toFixed(1)} MB, more than the cache cap of ${(maxBytes / 2 ** 20).toFixed(0)} MB (--cache-size).`)
  return { files, skipped, totalBytes }
}

export async function publishFolder (engine: Engine, o: PublishOptions): Promise<PublishResult> {
  const salt = o.salt ?? new Uint8Array(0)
  const folder = path.resolve(o.folder)
  const { files, skipped, totalBytes } = await checkFolder(folder, { includeHidden: o.includeHidden, maxBytes: o.maxBytes })
  for (const s of skipped) o.onSkipped?.(s)
  const sites = new PublishedSites(dataPaths(engine.options.dataDir).published)
  const name = path.basename(folder) || 'site'
  const tmp = path.join(sites.dir, 'data', `.tmp-${randomBytes(6).toString('hex')}`)
  let built
  try {
    built = await buildSiteTorrent(files, { name, snapshotDir: tmp, onProgress: o.onProgress, signal: o.signal })
    await fs.writeFile(path.join(tmp, '.torrent'), built.torrent) // to seed this version again later (grace period)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw err
  }
  const snapshot = sites.snapshotDir(built.infohash)
  try {
    await fs.rename(tmp, snapshot)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }) // same content published before: keep that snapshot
    if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err
  }
  await engine.torrents.seed(built.torrent, { path: snapshot, signal: o.signal })
  await dhtReady(engine.dht, AbortSignal.timeout(10_000))
  const { pointer, stored, unchanged } = await putPointer({ dht: engine.dht, store: engine.store, resolver: engine.resolver }, o.key, fromHex(built.infohash)!, { salt, signal: o.signal ?? AbortSignal.timeout(60_000) })
  const site: MutableAddress = { kind: 'mutable', publicKey: o.key.publicKey, salt, path: '/', query: '', fragment: '' }
  const record = (await sites.get(site.publicKey, salt)) ?? {
    url: formatAddress(site), magnet: formatMagnet(site), keyName: o.key.name, publicKey: toHex(o.key.publicKey), salt: toHex(salt), folder, versions: []
  }
  record.folder = folder
  record.keyName = o.key.name
  const last = record.versions.at(-1)
  if (last?.infohash !== built.infohash || last?.seq !== pointer.seq) record.versions.push({ seq: pointer.seq, infohash: built.infohash, publishedAt: new Date().toISOString() })
  await sites.save(site.publicKey, salt, record)
  return { site, record, pointer, stored, unchanged, infohash: built.infohash, files, totalBytes }
}

/**
 * Keep seeding versions superseded less than `graceMs` ago (visitors mid-download are not
 * stranded), then stop and delete their snapshots. Older snapshots are deleted now.
 */
export async function seedPreviousVersions (engine: Engine, record: PublishedSite, graceMs: number): Promise<void> {
  const sites = new PublishedSites(dataPaths(engine.options.dataDir).published)
  const current = record.versions.at(-1)?.infohash
  for (let i = 0; i < record.versions.length - 1; i++) {
    const v = record.versions[i]
    if (v.infohash === current) continue
    const left = Date.parse(record.versions[i + 1].publishedAt) + graceMs - Date.now()
    const dir = sites.snapshotDir(v.infohash)
    if (left <= 0) {
      await fs.rm(dir, { recursive: true, force: true })
      continue
    }
    const torrent = await fs.readFile(path.join(dir, '.torrent')).catch(() => null)
    if (!torrent) continue
    await engine.torrents.seed(torrent, { path: dir }).catch(logRejection('publish'))
    log('publish', `seeding previous version ${v.infohash} for ${Math.round(left / 1000)} s more`)
    setTimeout(() => {
      engine.torrents.remove(v.infohash).then(() => fs.rm(dir, { recursive: true, force: true })).catch(logRejection('publish'))
    }, left).unref()
  }
}
