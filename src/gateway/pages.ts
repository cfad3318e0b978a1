/**
 * The gateway's own HTML: error and status pages, directory listings. Everything that comes
 * from outside (paths, file names, messages) is HTML-escaped; no stack trace ever goes out.
 */
import type { ErrorCode } from '../errors.js'
import type { DirEntry } from '../torrents.js'
import type { GatewayResponse } from './types.js'

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!))
}

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em;color:#222}' +
  'h1{font-size:1.4em}code{background:#f3f3f3;padding:0 .2em;word-break:break-all}.muted{color:#666;font-size:.9em}' +
  'ul{padding-left:1.2em}a{color:#0645ad}'

export function page (title: string, bodyHtml: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${bodyHtml}</body></html>\n`
}

interface ErrorKind { status: number, title: string, hint: string }

/** Status and wording per error code; codes not listed are 500 "Something went wrong". */
const KINDS: Partial<Record<ErrorCode, ErrorKind>> = {
  BAD_ADDRESS: { status: 400, title: 'This address is not valid', hint: 'Check the address for typing mistakes.' },
  BAD_ARGUMENT: { status: 400, title: 'This request is not valid', hint: '' },
  NO_SUCH_SITE: { status: 404, title: 'No site with this key was found', hint: 'The publisher may be offline, or the key may be mistyped. Sites must be republished at least every two hours to stay in the DHT.' },
  NOT_FOUND: { status: 404, title: 'This page is not part of the site', hint: 'The site was found, but it has no file at this path.' },
  NO_PEERS: { status: 504, title: 'Nobody is sharing this site right now', hint: 'The site is known, but no peer sent its files in time. Try again later.' },
  TIMEOUT: { status: 504, title: 'The site took too long to answer', hint: 'Try again in a moment.' },
  DHT_ERROR: { status: 502, title: 'The DHT could not be reached', hint: 'Check the network connection.' },
  ABORTED: { status: 503, title: 'The request was cancelled', hint: '' }
}

export function statusOf (code: ErrorCode | undefined): number {
  return (code && KINDS[code]?.status) || 500
}

/** A complete error response for a BtwebError code (or an unknown error, as 500). */
export function errorResponse (code: ErrorCode | undefined, message: string, extra: Record<string, string> = {}): GatewayResponse {
  const kind = (code && KINDS[code]) || { status: 500, title: 'Something went wrong', hint: 'btweb hit an internal error; details are in its log (DEBUG=btweb:*).' }
  const html = page(kind.title,
    `<h1>${escapeHtml(kind.title)}</h1>` +
    (message ? `<p>${escapeHtml(message)}</p>` : '') +
    (kind.hint ? `<p class="muted">${escapeHtml(kind.hint)}</p>` : '') +
    `<p class="muted">btweb · ${kind.status}${code ? ' · ' + code : ''}</p>`)
  return htmlResponse(kind.status, html, { 'X-Btweb-Error': code ?? 'INTERNAL', ...extra })
}

export function htmlResponse (status: number, html: string, headers: Record<string, string> = {}): GatewayResponse {
  const body = Buffer.from(html, 'utf8')
  return {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(body.length),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...headers
    },
    body
  }
}

/** One of btweb's own pages for a plain status (404, 405, 421 …): title and message are plain text. */
export function errorPage (status: number, title: string, message: string): GatewayResponse {
  const html = page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="muted">btweb · error ${status}</p>`)
  return htmlResponse(status, html, { 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" })
}

/** A directory listing; `dirPath` is the decoded site path ending in '/'. */
export function listingPage (dirPath: string, entries: DirEntry[]): string {
  const href = (e: DirEntry) => encodeURIComponent(e.name) + (e.dir ? '/' : '')
  const items = entries.map(e =>
    `<li><a href="./${escapeHtml(href(e))}">${escapeHtml(e.name)}${e.dir ? '/' : ''}</a>${e.dir ? '' : ` <span class="muted">${formatBytes(e.length)}</span>`}</li>`)
  const up = dirPath === '/' ? '' : '<li><a href="../">../</a></li>'
  return page(`Index of ${dirPath}`, `<h1>Index of <code>${escapeHtml(dirPath)}</code></h1><ul>${up}${items.join('')}</ul>`)
}

export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}
