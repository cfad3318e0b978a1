/**
 * Which handler answers a request, by its Host header:
 *
 *   <site origin>:<port>                         → the site handler (site.ts)
 *   btweb.localhost:<port>, 127.0.0.1:<port>,
 *   localhost:<port>                             → btweb's own pages (shell.ts)
 *   anything else, or another port               → 421 Misdirected Request
 *
 * Answering only the names we serve is the DNS-rebinding defence: a page on evil.example whose
 * name is made to resolve to 127.0.0.1 still sends "Host: evil.example" and gets nothing.
 */
import { SHELL_HOST, parseOriginHost } from '../address.js'
import type { Engine } from '../engine.js'
import { htmlResponse, page } from './pages.js'
import { handleShellRequest } from './shell.js'
import { handleSiteRequest, type SiteEngine } from './site.js'
import type { GatewayRequest, GatewayResponse } from './types.js'

export interface DispatchContext {
  engine: Engine
  port: number
  /** `<script>…</script>` for HTML pages of sites, or null. */
  injectTag: string | null
}

const SHELL_NAMES = new Set([SHELL_HOST, '127.0.0.1', 'localhost'])

/** Split a Host header into a lower-case name and a port; null when malformed. */
export function splitHost (host: string): { name: string, port: number | null } | null {
  const m = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i.exec(host.trim())
  if (!m) return null
  return { name: m[1].toLowerCase().replace(/\.$/, ''), port: m[2] === undefined ? null : Number(m[2]) }
}

export type Route = { kind: 'site', site: NonNullable<ReturnType<typeof parseOriginHost>> } | { kind: 'shell' } | { kind: 'misdirected' }

export function route (host: string | undefined, port: number): Route {
  const parsed = host === undefined ? null : splitHost(host)
  if (!parsed || (parsed.port ?? 80) !== port) return { kind: 'misdirected' }
  if (SHELL_NAMES.has(parsed.name)) return { kind: 'shell' }
  const site = parseOriginHost(parsed.name)
  return site ? { kind: 'site', site } : { kind: 'misdirected' }
}

export async function dispatch (req: GatewayRequest, ctx: DispatchContext): Promise<GatewayResponse> {
  const r = route(req.host, ctx.port)
  switch (r.kind) {
    case 'site':
      return await handleSiteRequest(req, r.site, ctx.engine as SiteEngine, { port: ctx.port, injectTag: ctx.injectTag })
    case 'shell':
      return await handleShellRequest(req, { engine: ctx.engine, port: ctx.port, token: ctx.engine.shellToken })
    case 'misdirected':
      return htmlResponse(421, page('Misdirected request', '<h1>Misdirected request</h1><p>This btweb gateway does not serve this host name.</p>'))
  }
}
