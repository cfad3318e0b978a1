/** An in-memory site for the pure gateway handler (no torrent, no network), and a body reader. */
import { Readable } from 'node:stream'
import type { DirEntry, SiteContent, SiteFile } from '../../src/torrents.js'
import type { SiteEngine } from '../../src/gateway/site.js'
import type { GatewayResponse } from '../../src/gateway/types.js'

export function fakeSiteEngine (files: Record<string, Uint8Array>, { seq = 3 as number | null, infohash = 'f'.repeat(40) } = {}): SiteEngine {
  const dirs = new Map<string, Map<string, DirEntry>>([['', new Map()]])
  for (const [p, data] of Object.entries(files)) {
    const parts = p.split('/')
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      if (!dirs.has(dir)) dirs.set(dir, new Map())
      dirs.get(dir)!.set(parts[i], { name: parts[i], dir: i < parts.length - 1, length: data.length })
    }
  }
  const content: SiteContent = {
    infohash,
    name: 'site',
    file (p): SiteFile | null {
      const data = Object.hasOwn(files, p) ? files[p] : undefined
      if (!data) return null
      return {
        path: p,
        length: data.length,
        createReadStream: (r) => {
          const start = r?.start ?? 0
          const end = r?.end ?? data.length - 1
          // The handler must never ask for bytes outside the file.
          if (start < 0 || end >= data.length || start > end + 1) throw new RangeError(`read ${start}-${end} of ${data.length}`)
          return Readable.from([Buffer.from(data.subarray(start, end + 1))])
        }
      }
    },
    isDir: (p) => dirs.has(p),
    list: (p) => dirs.has(p) ? [...dirs.get(p)!.values()].sort((x, y) => (x.name < y.name ? -1 : 1)) : null
  }
  return {
    resolveSite: async () => ({ site: 'btpk://x', infohash: new Uint8Array(20), seq, stale: false }),
    torrents: { get: async () => content }
  }
}

export async function bodyOf (b: GatewayResponse['body']): Promise<Buffer> {
  if (b == null) return Buffer.alloc(0)
  if (typeof b === 'string' || b instanceof Uint8Array) return Buffer.from(b)
  const chunks: Buffer[] = []
  for await (const c of b) chunks.push(Buffer.from(c as Uint8Array))
  return Buffer.concat(chunks)
}
