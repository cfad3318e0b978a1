/**
 * btweb addresses: parsing and formatting, no I/O (also bundled into the shell page).
 *
 *   btpk://<key>[/path][?query][#fragment]            mutable site (BEP 46), key = 64 hex or 52 base32
 *   btpk://<salt hex>.<key>/…                          salted mutable site; long salts may be split
 *                                                      into several dot-separated hex labels (≤ 63 each)
 *   magnet:?xs=urn:btpk:<hex key>[&s=<salt hex>]       BEP 46 magnet
 *   bittorrent://<infohash>[/path]                     immutable torrent, 40 hex or 32 base32
 *   magnet:?xt=urn:btih:<infohash>                     immutable magnet
 *   <key> / <infohash> alone                           what a person may paste into the address bar
 *
 * Each site also has a loopback origin in the gateway (one origin per site, see originHost):
 *   [<salt hex labels>.]<key base32>.btpk.localhost    and    <infohash hex>.btih.localhost
 */
import { base32Decode, base32Encode } from './base32.js'
import { BtwebError } from './errors.js'
import { fromHex, toHex } from './hex.js'

export const MAX_SALT_BYTES = 64
export const MAX_ADDRESS_LENGTH = 8192
export const MUTABLE_DOMAIN = 'btpk.localhost'
export const IMMUTABLE_DOMAIN = 'btih.localhost'
export const SHELL_HOST = 'btweb.localhost'

interface Location {
  /** Decoded path, always starting with '/'; segments never contain '/', '\\' or NUL, never '.' or '..'. */
  path: string
  /** Raw query without '?', '' when absent. */
  query: string
  /** Raw fragment without '#', '' when absent. */
  fragment: string
}

export interface MutableAddress extends Location {
  kind: 'mutable'
  publicKey: Uint8Array // 32 bytes
  salt: Uint8Array // 0..64 bytes; empty = no salt
}

export interface ImmutableAddress extends Location {
  kind: 'immutable'
  infohash: Uint8Array // 20 bytes
}

export type Address = MutableAddress | ImmutableAddress

function bad (message: string): BtwebError {
  return new BtwebError('BAD_ADDRESS', message)
}

/** Decode a 32-byte public key written as 64 hex or 52 base32 characters. */
export function parseKey (text: string): Uint8Array {
  if (text.length === 64) {
    const bytes = fromHex(text)
    if (bytes) return bytes
    throw bad('The public key has 64 characters but is not hexadecimal.')
  }
  if (text.length === 52) {
    const bytes = base32Decode(text.toLowerCase())
    if (bytes && bytes.length === 32) return bytes
    throw bad('The public key has 52 characters but is not base32 (a–z, 2–7).')
  }
  throw bad(`A public key is 64 hex or 52 base32 characters; this one has ${text.length}.`)
}

/** Decode a 20-byte infohash written as 40 hex or 32 base32 characters. */
export function parseInfohash (text: string): Uint8Array {
  if (text.length === 40) {
    const bytes = fromHex(text)
    if (bytes) return bytes
    throw bad('The infohash has 40 characters but is not hexadecimal.')
  }
  if (text.length === 32) {
    const bytes = base32Decode(text.toLowerCase())
    if (bytes && bytes.length === 20) return bytes
    throw bad('The infohash has 32 characters but is not base32.')
  }
  throw bad(`An infohash is 40 hex or 32 base32 characters; this one has ${text.length}.`)
}

export function parseSaltHex (text: string): Uint8Array {
  const salt = fromHex(text)
  if (!salt) throw bad('The salt must be written in hexadecimal (an even number of 0-9a-f).')
  if (salt.length > MAX_SALT_BYTES) throw bad(`A salt holds at most ${MAX_SALT_BYTES} bytes; this one has ${salt.length}.`)
  return salt
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function percentDecode (segment: string): string {
  if (!/^(?:[^%]|%[0-9a-fA-F]{2})*$/.test(segment)) throw bad('The address has a broken percent-escape (a % not followed by two hex digits).')
  const bytes: number[] = []
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === '%') {
      bytes.push(parseInt(segment.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      for (const b of new TextEncoder().encode(segment[i])) bytes.push(b)
    }
  }
  try {
    return utf8.decode(new Uint8Array(bytes))
  } catch {
    throw bad('The address has percent-escapes that are not valid UTF-8.')
  }
}

/** Normalise a raw (still percent-encoded) path into the decoded form described in Location. */
export function normalizePath (raw: string): string {
  if (raw === '' || raw === '/') return '/'
  const trailing = raw.endsWith('/')
  const out: string[] = []
  for (const seg of raw.split('/')) {
    if (seg === '') continue
    const decoded = percentDecode(seg)
    if (decoded === '.') continue
    if (decoded === '..') throw bad('The path may not contain ".." segments.')
    if (/[/\\\0]/.test(decoded)) throw bad('A path segment may not contain an encoded "/", "\\" or NUL.')
    out.push(decoded)
  }
  return '/' + out.join('/') + (trailing && out.length > 0 ? '/' : '')
}

export function encodePath (path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

function splitLocation (rest: string): Location {
  let fragment = ''
  let query = ''
  const hash = rest.indexOf('#')
  if (hash >= 0) { fragment = rest.slice(hash + 1); rest = rest.slice(0, hash) }
  const q = rest.indexOf('?')
  if (q >= 0) { query = rest.slice(q + 1); rest = rest.slice(0, q) }
  return { path: normalizePath(rest), query, fragment }
}

function parseMutableAuthority (authority: string): { publicKey: Uint8Array, salt: Uint8Array } {
  const labels = authority.split('.')
  const key = labels.pop() ?? ''
  if (labels.some(l => l.length === 0)) throw bad('The address has an empty label before the key.')
  return { publicKey: parseKey(key), salt: parseSaltHex(labels.join('')) }
}

function parseMagnet (input: string): Address {
  const params = new URLSearchParams(input.slice('magnet:?'.length))
  const xs = params.getAll('xs').find(v => v.toLowerCase().startsWith('urn:btpk:'))
  if (xs) {
    const s = params.get('s')
    return { kind: 'mutable', publicKey: parseKey(xs.slice('urn:btpk:'.length)), salt: s ? parseSaltHex(s) : new Uint8Array(0), path: '/', query: '', fragment: '' }
  }
  const xt = params.getAll('xt').find(v => v.toLowerCase().startsWith('urn:btih:'))
  if (xt) return { kind: 'immutable', infohash: parseInfohash(xt.slice('urn:btih:'.length)), path: '/', query: '', fragment: '' }
  throw bad('This magnet link names neither a btpk key (xs=urn:btpk:…) nor a BitTorrent infohash (xt=urn:btih:…).')
}

/**
 * Parse anything a person or a page may give btweb as a site address.
 * Throws BtwebError('BAD_ADDRESS') with a human message on every malformed input.
 */
export function parseAddress (input: string): Address {
  if (typeof input !== 'string') throw bad('An address must be text.')
  const text = input.trim()
  if (text.length === 0) throw bad('The address is empty.')
  if (text.length > MAX_ADDRESS_LENGTH) throw bad(`The address is longer than ${MAX_ADDRESS_LENGTH} characters.`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw bad('The address contains control characters.')
  const lower = text.toLowerCase()
  if (lower.startsWith('magnet:?')) return parseMagnet(text)
  for (const [scheme, kind] of [['btpk://', 'mutable'], ['bittorrent://', 'immutable']] as const) {
    if (!lower.startsWith(scheme)) continue
    const rest = text.slice(scheme.length)
    const end = rest.search(/[/?#]/)
    const authority = end < 0 ? rest : rest.slice(0, end)
    if (authority.length === 0) throw bad(`${scheme} must be followed by a ${kind === 'mutable' ? 'public key' : 'infohash'}.`)
    if (/[@:]/.test(authority)) throw bad('The address may not carry a user name or a port.')
    const loc = splitLocation(end < 0 ? '' : rest.slice(end))
    if (kind === 'mutable') return { kind, ...parseMutableAuthority(authority), ...loc }
    return { kind, infohash: parseInfohash(authority), ...loc }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    throw bad(`btweb opens btpk://, bittorrent:// and magnet: addresses, not "${text.slice(0, text.indexOf(':') + 1)}".`)
  }
  // A bare key or infohash, possibly followed by a path.
  const end = text.search(/[/?#]/)
  const head = end < 0 ? text : text.slice(0, end)
  const loc = splitLocation(end < 0 ? '' : text.slice(end))
  if (head.length === 40 || head.length === 32) return { kind: 'immutable', infohash: parseInfohash(head), ...loc }
  if (head.length === 64 || head.length === 52 || head.includes('.')) return { kind: 'mutable', ...parseMutableAuthority(head), ...loc }
  throw bad('This is not a btweb address. Try btpk://<public key>/ or a magnet: link.')
}

function saltLabels (salt: Uint8Array): string[] {
  const hex = toHex(salt)
  const labels: string[] = []
  for (let i = 0; i < hex.length; i += 62) labels.push(hex.slice(i, i + 62)) // even length: whole bytes per label
  return labels
}

function suffix (a: Location): string {
  return encodePath(a.path) + (a.query ? '?' + a.query : '') + (a.fragment ? '#' + a.fragment : '')
}

/** The canonical text of an address: hex key (as in BEP 46 magnets), salt labels first. */
export function formatAddress (a: Address): string {
  if (a.kind === 'immutable') return `bittorrent://${toHex(a.infohash)}${suffix(a)}`
  return `btpk://${[...saltLabels(a.salt), toHex(a.publicKey)].join('.')}${suffix(a)}`
}

/** The site part only (no path): identifies one site, e.g. as a map key. */
export function siteId (a: Address): string {
  return formatAddress({ ...a, path: '/', query: '', fragment: '' }).replace(/\/$/, '')
}

export function formatMagnet (a: Address): string {
  if (a.kind === 'immutable') return `magnet:?xt=urn:btih:${toHex(a.infohash)}`
  return `magnet:?xs=urn:btpk:${toHex(a.publicKey)}` + (a.salt.length ? `&s=${toHex(a.salt)}` : '')
}

/** The gateway host name (without port) that serves this site: one origin per site. */
export function originHost (a: Address): string {
  if (a.kind === 'immutable') return `${toHex(a.infohash)}.${IMMUTABLE_DOMAIN}`
  return [...saltLabels(a.salt), base32Encode(a.publicKey), MUTABLE_DOMAIN].join('.')
}

/** Inverse of originHost: the site that a gateway Host name (port stripped) names, or null. */
export function parseOriginHost (host: string): Address | null {
  const name = host.toLowerCase().replace(/\.$/, '')
  try {
    if (name.endsWith('.' + IMMUTABLE_DOMAIN)) {
      const label = name.slice(0, -(IMMUTABLE_DOMAIN.length + 1))
      if (!/^[0-9a-f]{40}$/.test(label)) return null
      return { kind: 'immutable', infohash: parseInfohash(label), path: '/', query: '', fragment: '' }
    }
    if (name.endsWith('.' + MUTABLE_DOMAIN)) {
      const labels = name.slice(0, -(MUTABLE_DOMAIN.length + 1)).split('.')
      const key = labels.pop() ?? ''
      if (key.length !== 52 || labels.some(l => l.length === 0 || l.length > 63)) return null
      return { kind: 'mutable', publicKey: parseKey(key), salt: parseSaltHex(labels.join('')), path: '/', query: '', fragment: '' }
    }
  } catch {
    return null // a malformed Host is "not one of ours", never an exception
  }
  return null
}

/** The loopback URL of an address on a gateway listening at `port`. */
export function gatewayUrl (a: Address, port: number): string {
  return `http://${originHost(a)}:${port}${suffix(a)}`
}

/** Map a loopback gateway URL back to the btweb address it shows (for the address bar); null if it is not a site URL. */
export function addressFromGatewayUrl (url: string): Address | null {
  let u: URL
  try { u = new URL(url) } catch { return null }
  const site = parseOriginHost(u.hostname)
  if (!site) return null
  try {
    return { ...site, path: normalizePath(u.pathname), query: u.search.slice(1), fragment: u.hash.slice(1) }
  } catch {
    return null
  }
}
