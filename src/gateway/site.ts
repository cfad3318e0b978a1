/**
 * The site handler: one request for a site origin → one response. Pure apart from the engine it
 * is given (resolveSite + torrents.get), so tests drive it with fakes and no network.
 *
 *   GET and HEAD only (405 otherwise)
 *   /, dir/      → dir/index.html, else a directory listing;  /dir → 301 /dir/
 *   Range        → 206 for one range; several ranges → 200 whole (see http-range.ts); bad → 416
 *   ETag         → hash of infohash + path (+ page script): it changes with every version
 *   Cache-Control → bittorrent:// sites never change: immutable; btpk:// sites: no-cache, so the
 *                  browser revalidates and sees a new version at once (a 304 costs nothing)
 *   X-Btweb-Seq, X-Btweb-Stale → which version was served, and whether it came from the cache
 *                  because the DHT could not be asked ("possibly stale")
 *
 * HTML pages get btweb's page script inserted after <head> (or after the doctype, or first).
 * That needs the whole file in memory: pages up to MAX_INJECT_BYTES; larger HTML streams as is.
 */
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import mime from 'mime'
import { SHELL_HOST, encodePath, normalizePath, type Address } from '../address.js'
import type { SiteVersion } from '../engine.js'
import { BtwebError, isBtwebError } from '../errors.js'
import { log } from '../log.js'
import type { SiteContent, SiteFile } from '../torrents.js'
import { etagMatches, ifRangeAllows, parseRange } from './http-range.js'
import { errorResponse, htmlResponse, listingPage } from './pages.js'
import type { GatewayRequest, GatewayResponse } from './types.js'

export const MAX_INJECT_BYTES = 5 * 2 ** 20

/** What the site handler needs from the engine. */
export interface SiteEngine {
  resolveSite (address: Address, o: { signal?: AbortSignal }): Promise<SiteVersion>
  torrents: { get (infohash: Uint8Array, o: { signal?: AbortSignal }): Promise<SiteContent> }
}

export interface SiteContext {
  /** The gateway's port: the shell origin http://btweb.localhost:<port> may frame sites. */
  port: number
  /** `<script>…</script>` put into HTML pages, or null for none. */
  injectTag?: string | null
}

export async function handleSiteRequest (req: GatewayRequest, site: Address, engine: SiteEngine, ctx: SiteContext): Promise<GatewayResponse> {
  const security = securityHeaders(ctx.port)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const r = errorResponse('BAD_ARGUMENT', `A site can only be read (GET or HEAD), not ${req.method.slice(0, 20)}.`, { ...security, Allow: 'GET, HEAD' })
    return { ...r, status: 405 }
  }
  const head = req.method === 'HEAD'
  try {
    if (!req.target.startsWith('/')) throw new BtwebError('BAD_ADDRESS', 'The request target must be a path.')
    const q = req.target.indexOf('?')
    const rawPath = q < 0 ? req.target : req.target.slice(0, q)
    const query = q < 0 ? '' : req.target.slice(q)
    const path = normalizePath(rawPath) // throws BAD_ADDRESS on .., encoded / \ NUL, bad escapes

    const version = await engine.resolveSite(site, { signal: req.signal })
    const content = await engine.torrents.get(version.infohash, { signal: req.signal })
    const versionHeaders: Record<string, string> = { ...security }
    if (version.seq !== null) versionHeaders['X-Btweb-Seq'] = String(version.seq)
    if (version.stale) {
      versionHeaders['X-Btweb-Stale'] = '1'
      versionHeaders.Warning = '110 btweb "possibly stale: served from the cache, the DHT could not be reached"'
    }
    const cacheControl = site.kind === 'immutable' ? 'public, max-age=31536000, immutable' : 'no-cache'

    const sitePath = path.replace(/^\/+|\/+$/g, '')
    if (path.endsWith('/')) {
      if (!content.isDir(sitePath)) throw notFound(path)
      const index = content.file(sitePath ? `${sitePath}/index.html` : 'index.html')
      if (index) return await serveFile(req, index, content, { head, cacheControl, extra: versionHeaders, injectTag: ctx.injectTag ?? null })
      const html = listingPage(path, content.list(sitePath) ?? [])
      const r = htmlResponse(200, html, { ...versionHeaders, 'Cache-Control': cacheControl === 'no-cache' ? 'no-cache' : 'public, max-age=3600' })
      return head ? { ...r, body: null } : r
    }
    const file = content.file(sitePath)
    if (file) return await serveFile(req, file, content, { head, cacheControl, extra: versionHeaders, injectTag: ctx.injectTag ?? null })
    if (content.isDir(sitePath)) {
      // Relative links in dir/index.html only work under dir/.
      return { status: 301, headers: { ...versionHeaders, Location: encodePath(path) + '/' + query, 'Cache-Control': 'no-cache', 'Content-Length': '0' }, body: null }
    }
    throw notFound(path)
  } catch (err) {
    if (!isBtwebError(err)) log('gateway', `site request failed: ${(err as Error)?.stack ?? String(err)}`)
    const code = isBtwebError(err) ? err.code : undefined
    const r = errorResponse(code, isBtwebError(err) ? err.message : '', security)
    return head ? { ...r, body: null } : r
  }
}

function notFound (path: string): BtwebError {
  return new BtwebError('NOT_FOUND', `The site has no file at ${path}.`)
}

export function securityHeaders (port: number): Record<string, string> {
  return {
    // Only the site itself and btweb's shell may frame a site page.
    'Content-Security-Policy': `frame-ancestors 'self' http://${SHELL_HOST}:${port}`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin'
  }
}

interface ServeOptions { head: boolean, cacheControl: string, extra: Record<string, string>, injectTag: string | null }

async function serveFile (req: GatewayRequest, file: SiteFile, content: SiteContent, o: ServeOptions): Promise<GatewayResponse> {
  const type = mime.getType(file.path) ?? 'application/octet-stream'
  const inject = o.injectTag !== null && type === 'text/html' && file.length <= MAX_INJECT_BYTES
  const etag = makeEtag(content.infohash, file.path, inject ? o.injectTag : null)
  const headers: Record<string, string> = {
    ...o.extra,
    'Content-Type': type,
    ETag: etag,
    // A page with btweb's script in it changes when btweb does: always revalidate it.
    'Cache-Control': inject ? 'no-cache' : o.cacheControl,
    'Accept-Ranges': 'bytes'
  }
  if (etagMatches(req.headers['if-none-match'], etag)) return { status: 304, headers, body: null }

  let body: Uint8Array | null = null
  let length = file.length
  if (inject) {
    const tag = Buffer.from(o.injectTag!, 'utf8')
    length += tag.length
    if (!o.head || req.headers.range !== undefined) {
      body = injectScript(await readAll(file.createReadStream({ start: 0, end: file.length - 1 }), req.signal), tag)
    }
  }

  const range = ifRangeAllows(req.headers['if-range'], etag) ? parseRange(req.headers.range, length) : { kind: 'full' as const }
  if (range.kind === 'unsatisfiable') {
    return { status: 416, headers: { ...o.extra, 'Content-Range': `bytes */${length}`, 'Content-Length': '0', 'Cache-Control': 'no-store' }, body: null }
  }
  const [status, start, end] = range.kind === 'partial' ? [206, range.start, range.end] : [200, 0, length - 1]
  headers['Content-Length'] = String(end - start + 1)
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${length}`
  if (o.head || length === 0) return { status, headers, body: null }
  if (body) return { status, headers, body: body.subarray(start, end + 1) }
  return { status, headers, body: file.createReadStream({ start, end }) }
}

/** A quoted strong ETag: infohash, path and (for HTML) the page script, hashed. */
export function makeEtag (infohash: string, sitePath: string, injectTag: string | null): string {
  const h = createHash('sha256').update(infohash).update('\0').update(sitePath)
  if (injectTag !== null) h.update('\0').update(injectTag)
  return `"${h.digest('base64url').slice(0, 32)}"`
}

/** Put `tag` right after <head …>, else after a leading doctype, else first (after a BOM). */
export function injectScript (html: Uint8Array, tag: Uint8Array): Buffer {
  const buf = Buffer.from(html.buffer, html.byteOffset, html.byteLength)
  const text = buf.toString('latin1') // one char per byte: indices are byte offsets
  let at = 0
  const headTag = /<head(?:\s[^>]*)?>/i.exec(text)
  if (headTag) {
    at = headTag.index + headTag[0].length
  } else {
    const lead = /^(?:\xef\xbb\xbf)?\s*(?:<!doctype[^>]*>)?/i.exec(text)
    at = lead ? lead[0].length : 0
    if (lead && !/<!doctype/i.test(lead[0])) at = text.startsWith('\xef\xbb\xbf') ? 3 : 0
  }
  return Buffer.concat([buf.subarray(0, at), tag, buf.subarray(at)])
}

async function readAll (stream: Readable, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = []
  const onAbort = () => stream.destroy()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (signal.aborted) throw new BtwebError('ABORTED', 'The request was cancelled')
  return Buffer.concat(chunks)
}
