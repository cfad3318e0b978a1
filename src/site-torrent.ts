/**
 * A folder → a deterministic torrent. btweb writes the .torrent itself rather than through
 * create-torrent so that the result depends on nothing but the files: sorted paths, a piece
 * length that depends only on the total size, no creation date, no trackers.
 *
 * Files are copied into a snapshot (btweb then seeds the snapshot, not the user's folder, so
 * editing the folder while a version is being served cannot corrupt it, and the previous
 * version stays available during its grace period). Copy and hashing happen in one pass.
 *
 * What goes in: regular files. Hidden files and folders (names starting with ".") are left out
 * unless includeHidden; symbolic links are never followed (a link could point anywhere on the
 * disk); both are reported in `skipped`.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import bencode from 'bencode'
import { BtwebError } from './errors.js'

export interface SiteFile { relPath: string[], size: number, source: string }

export interface SiteTorrent {
  torrent: Uint8Array
  infohash: string
  name: string
  files: SiteFile[]
  totalBytes: number
  pieceLength: number
  skipped: string[]
}

function publishError (message: string, cause?: unknown): BtwebError {
  return new BtwebError('PUBLISH_ERROR', message, { cause })
}

/** List the files that a site folder publishes, sorted by path (bytewise). */
export async function listSiteFiles (dir: string, { includeHidden = false }: { includeHidden?: boolean } = {}): Promise<{ files: SiteFile[], skipped: string[] }> {
  let stat
  try {
    stat = await fs.stat(dir)
  } catch (err) {
    throw publishError(`The folder ${dir} does not exist.`, err)
  }
  if (!stat.isDirectory()) throw publishError(`${dir} is not a folder.`)
  const files: SiteFile[] = []
  const skipped: string[] = []
  async function walk (abs: string, rel: string[]): Promise<void> {
    let entries
    try {
      entries = await fs.readdir(abs, { withFileTypes: true })
    } catch (err) {
      throw publishError(`Cannot read the folder ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, err)
    }
    for (const e of entries) {
      const relPath = [...rel, e.name]
      const shown = relPath.join('/')
      if (!includeHidden && e.name.startsWith('.')) { skipped.push(`${shown} (hidden)`); continue }
      if (e.isSymbolicLink()) { skipped.push(`${shown} (symbolic link)`); continue }
      // webtorrent's disk store rewrites these characters, so such a file could never be seeded.
      if (/[<>:"\\|?*\u0000-\u001f]/.test(e.name)) throw publishError(`"${shown}" has a character BitTorrent clients cannot store (< > : " \\ | ? * or a control character); rename it.`)
      const full = path.join(abs, e.name)
      if (e.isDirectory()) await walk(full, relPath)
      else if (e.isFile()) files.push({ relPath, size: (await fs.stat(full)).size, source: full })
      else skipped.push(`${shown} (not a regular file)`)
    }
  }
  await walk(dir, [])
  files.sort((a, b) => Buffer.compare(Buffer.from(a.relPath.join('/')), Buffer.from(b.relPath.join('/'))))
  if (files.length === 0) throw publishError(`The folder ${dir} has no files to publish${skipped.length ? ` (skipped: ${skipped.slice(0, 3).join(', ')})` : ''}.`)
  return { files, skipped }
}

/** A power of two ≥ total/1000 pieces, from 16 KiB to 4 MiB: a function of the size alone. */
export function pieceLengthFor (totalBytes: number): number {
  let p = 16 * 1024
  while (p < 4 * 1024 * 1024 && totalBytes / p > 1000) p *= 2
  return p
}

/**
 * Copy `files` into `snapshotDir/<name>/…` while hashing pieces; return the torrent.
 * onProgress(bytesDone, totalBytes) is called as data goes through.
 */
export async function buildSiteTorrent (
  files: SiteFile[],
  { name, snapshotDir, onProgress, signal }: { name: string, snapshotDir: string, onProgress?: (done: number, total: number) => void, signal?: AbortSignal }
): Promise<SiteTorrent> {
  const totalBytes = files.reduce((n, f) => n + f.size, 0)
  const pieceLength = pieceLengthFor(totalBytes)
  const pieces: Buffer[] = []
  let piece = createHash('sha1')
  let inPiece = 0
  let done = 0
  for (const file of files) {
    signal?.throwIfAborted()
    const target = path.join(snapshotDir, name, ...file.relPath)
    await fs.mkdir(path.dirname(target), { recursive: true })
    const out = await fs.open(target, 'wx', 0o644)
    let written = 0
    try {
      const stream = createReadStream(file.source, { highWaterMark: 1 << 20, signal })
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (written + chunk.length > file.size) throw publishError(`${file.relPath.join('/')} changed while it was being published; try again.`)
        await out.write(chunk)
        written += chunk.length
        let at = 0
        while (at < chunk.length) {
          const take = Math.min(pieceLength - inPiece, chunk.length - at)
          piece.update(chunk.subarray(at, at + take))
          inPiece += take
          at += take
          if (inPiece === pieceLength) { pieces.push(piece.digest()); piece = createHash('sha1'); inPiece = 0 }
        }
        done += chunk.length
        onProgress?.(done, totalBytes)
      }
    } catch (err) {
      if (err instanceof BtwebError || (err as Error).name === 'AbortError') throw err
      throw publishError(`Cannot read ${file.source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, err)
    } finally {
      await out.close()
    }
    if (written !== file.size) throw publishError(`${file.relPath.join('/')} changed while it was being published; try again.`)
  }
  if (inPiece > 0) pieces.push(piece.digest())
  const info = {
    files: files.map(f => ({ length: f.size, path: f.relPath.map(p => Buffer.from(p)) })),
    name: Buffer.from(name),
    'piece length': pieceLength,
    pieces: Buffer.concat(pieces)
  }
  const infoBytes = bencode.encode(info)
  const torrent = new Uint8Array(bencode.encode({ 'created by': Buffer.from('btweb'), info }))
  return {
    torrent,
    infohash: createHash('sha1').update(infoBytes).digest('hex'),
    name,
    files,
    totalBytes,
    pieceLength,
    skipped: []
  }
}
