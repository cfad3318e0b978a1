/**
 * btweb's own origin, http://btweb.localhost:<port>: the shell page (address bar, status,
 * the content frame), its assets, a small API for the shell, and btweb's own error pages.
 *
 * The API is protected from sites (which are other origins on the same gateway) by a secret
 * in a custom header: a custom header makes a cross-origin fetch send a CORS preflight, which
 * we never answer, so a site can neither call the API nor read its answers.
 */
import { spawn } from 'node:child_process'
import { createHash, timingSafeEqual } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { SHELL_HOST } from '../address.js'
import type { SiteStatus } from '../engine.js'
import { logRejection } from '../log.js'
import { windowChannel } from '../window/channel.js'
import { uiFile, type UiFile } from '../window/ui-assets.js'
import { errorPage } from './pages.js'
import type { GatewayRequest, GatewayResponse } from './types.js'

export const TOKEN_HEADER = 'x-btweb-token'

/** What the shell needs from the engine: its events. */
export interface ShellEngine {
  on (event: 'status', listener: (s: SiteStatus) => void): unknown
  on (event: 'update', listener: (u: { site: string, seq: number }) => void): unknown
  off (event: 'status', listener: (s: SiteStatus) => void): unknown
  off (event: 'update', listener: (u: { site: string, seq: number }) => void): unknown
}

export interface ShellContext {
  engine: ShellEngine
  port: number
  token: string
  /** Opens an http(s) URL in the user's browser; default: xdg-open / open / start. Tests replace it. */
  openExternal?: (url: string) => void
}

const ASSETS: Record<string, { file: UiFile, type: string }> = {
  '/': { file: 'shell.html', type: 'text/html; charset=utf-8' },
  '/shell.js': { file: 'shell.js', type: 'text/javascript; charset=utf-8' },
  '/shell.css': { file: 'shell.css', type: 'text/css; charset=utf-8' }
}

const MAX_TITLE = 300

export async function handleShellRequest (req: GatewayRequest, ctx: ShellContext): Promise<GatewayResponse> {
  const url = new URL(req.target, `http://${SHELL_HOST}`)
  if (url.pathname.startsWith('/api/')) return api(req, url, ctx)
  const asset = ASSETS[url.pathname]
  if (!asset) return errorPage(404, 'Not found', 'btweb has no such page.')
  if (req.method !== 'GET' && req.method !== 'HEAD') return errorPage(405, 'Method not allowed', 'Only GET is supported here.')
  const headers = { ...securityHeaders(ctx.port), 'content-type': asset.type, 'cache-control': 'no-store' }
  return { status: 200, headers, body: req.method === 'HEAD' ? null : uiFile(asset.file) }
}

/** Headers for every shell response: no framing by sites, only our own scripts, frames only from site origins. */
function securityHeaders (port: number): Record<string, string> {
  const sites = `http://*.btpk.localhost:${port} http://*.btih.localhost:${port}`
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      `frame-src ${sites}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'none'"
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer'
  }
}

function tokenMatches (given: string | undefined, token: string): boolean {
  if (typeof given !== 'string' || token.length === 0) return false
  // Compare digests: equal length for timingSafeEqual, no early exit on the first differing byte.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

function json (status: number, value: unknown): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }, body: JSON.stringify(value) }
}

async function api (req: GatewayRequest, url: URL, ctx: ShellContext): Promise<GatewayResponse> {
  // No CORS headers anywhere below: preflights (OPTIONS) and cross-origin reads fail in the browser.
  if (!tokenMatches(req.headers[TOKEN_HEADER], ctx.token)) return json(403, { error: 'forbidden' })
  const route = `${req.method} ${url.pathname}`
  switch (route) {
    case 'GET /api/events': return events(req, ctx)
    case 'POST /api/open-external': return openExternal(url.searchParams.get('url'), ctx)
    case 'POST /api/title': {
      windowChannel.emit('title', cleanTitle(url.searchParams.get('title') ?? ''))
      return { status: 204, headers: {} }
    }
    default: return json(404, { error: 'no such API' })
  }
}

/** Engine 'status' and 'update' events (and addresses handed over by another `btweb <url>`) as server-sent events (read with fetch, which can send the token header). */
function events (req: GatewayRequest, ctx: ShellContext): GatewayResponse {
  const stream = new PassThrough()
  const send = (type: string) => (e: object) => { stream.write(`data: ${JSON.stringify({ ...e, type })}\n\n`) }
  const onStatus = send('status')
  const onUpdate = send('update')
  const onOpen = (url: string): void => send('open')({ url })
  ctx.engine.on('status', onStatus)
  ctx.engine.on('update', onUpdate)
  windowChannel.on('open', onOpen)
  const stop = (): void => {
    ctx.engine.off('status', onStatus)
    ctx.engine.off('update', onUpdate)
    windowChannel.off('open', onOpen)
    stream.end()
  }
  req.signal.addEventListener('abort', stop, { once: true })
  stream.on('close', stop)
  stream.write(': btweb events\n\n') // flushes the headers: the shell knows it is subscribed
  return { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }, body: stream }
}

/** Only http(s) URLs to the ordinary web: never a file:, javascript: or custom-scheme URL, never loopback. */
export function externalUrl (text: string | null): string | null {
  if (!text || text.length > 8192) return null
  let u: URL
  try { u = new URL(text) } catch { return null }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
  const host = u.hostname.replace(/\.$/, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost') || host.startsWith('127.') || host === '[::1]' || host === '0.0.0.0') return null
  return u.href
}

function openExternal (text: string | null, ctx: ShellContext): GatewayResponse {
  const url = externalUrl(text)
  if (!url) return json(400, { error: 'only http(s) addresses of the ordinary web open in your browser' })
  ;(ctx.openExternal ?? systemOpen)(url)
  return { status: 204, headers: {} }
}

function systemOpen (url: string): void {
  // The URL is one argv element (no shell), already validated to be http(s).
  const [cmd, args] = process.platform === 'darwin'
    ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/[&^|<>]/g, '^$&')]] : ['xdg-open', [url]]
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', (err) => logRejection('shell')(err))
    child.unref()
  } catch (err) {
    logRejection('shell')(err)
  }
}

function cleanTitle (title: string): string {
  // eslint-disable-next-line no-control-regex
  return title.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, MAX_TITLE)
}
