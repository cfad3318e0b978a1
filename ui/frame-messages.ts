/**
 * Messages from the content frame (sent by ui/inject.ts, or forged by a hostile page: both
 * arrive the same way). Only `event.origin` is trusted to say which site is talking; every
 * field is checked, and a location must be on the sender's own origin.
 */
import { addressFromGatewayUrl, parseOriginHost, type Address } from '../src/address.js'
import { SHORTCUT_KEYS, type ShortcutKey } from './shortcuts.js'

export type FrameMessage =
  | { type: 'location', address: Address, title: string }
  | { type: 'navigate', url: string }
  | { type: 'external', url: string }
  | { type: 'key', key: ShortcutKey }


const MAX_URL = 8192
const MAX_TITLE = 300

/** The site a message comes from, or null when the origin is not a site on our gateway. */
export function senderSite (origin: string, port: number): Address | null {
  let u: URL
  try { u = new URL(origin) } catch { return null }
  if (u.protocol !== 'http:' || Number(u.port) !== port) return null
  return parseOriginHost(u.hostname)
}

export function parseFrameMessage (data: unknown, origin: string, port: number): FrameMessage | null {
  if (!senderSite(origin, port)) return null
  if (typeof data !== 'object' || data === null) return null
  const m = data as Record<string, unknown>
  const url = typeof m.url === 'string' && m.url.length <= MAX_URL ? m.url : null
  switch (m.type) {
    case 'btweb:location': {
      if (typeof m.href !== 'string' || m.href.length > MAX_URL) return null
      let u: URL
      try { u = new URL(m.href) } catch { return null }
      if (u.origin !== origin) return null // a site may only report its own pages
      const address = addressFromGatewayUrl(m.href)
      if (!address) return null
      const title = typeof m.title === 'string' ? m.title.slice(0, MAX_TITLE) : ''
      return { type: 'location', address, title }
    }
    case 'btweb:navigate': return url ? { type: 'navigate', url } : null
    case 'btweb:external': return url ? { type: 'external', url } : null
    case 'btweb:key': return (SHORTCUT_KEYS as readonly unknown[]).includes(m.key) ? { type: 'key', key: m.key as ShortcutKey } : null
    default: return null
  }
}
