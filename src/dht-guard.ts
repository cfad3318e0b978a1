/**
 * bittorrent-dht trusts the types inside incoming KRPC queries: a `get` whose target is an
 * integer, or a `put` whose key is one, throws inside the UDP message handler, and that
 * uncaught exception ends the whole process. One datagram from anyone on the network could
 * stop btweb. So every query is checked for the shapes BEP 5 / BEP 44 give its arguments
 * before bittorrent-dht sees it, and whatever still throws is dropped, not fatal.
 */
import type { Dht } from './dht.js'
import { log } from './log.js'

type Query = { q?: unknown, a?: unknown }

const isBytes = (v: unknown, len?: number): boolean => v instanceof Uint8Array && (len === undefined || v.length === len)
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v)

/** Whether the arguments a bittorrent-dht handler reads have the types it assumes. */
export function wellFormedQuery (query: Query): boolean {
  const a = query.a as Record<string, unknown> | undefined
  if (!isBytes(query.q) || typeof a !== 'object' || a === null || Array.isArray(a) || a instanceof Uint8Array) return false
  if (!isBytes(a.id, 20)) return false
  for (const name of ['target', 'info_hash']) if (a[name] !== undefined && !isBytes(a[name], 20)) return false
  if (a.k !== undefined && !isBytes(a.k, 32)) return false
  if (a.sig !== undefined && !isBytes(a.sig, 64)) return false
  if (a.salt !== undefined && !(isBytes(a.salt) && (a.salt as Uint8Array).length <= 64)) return false
  if (a.token !== undefined && !isBytes(a.token)) return false
  for (const name of ['seq', 'cas', 'port', 'implied_port']) if (a[name] !== undefined && !isInt(a[name])) return false
  return true
}

/** Put the check in front of this node's query handler. */
export function guardQueries (dht: Dht): void {
  const node = dht as unknown as { _onquery: (query: Query, peer: { address?: string, port?: number }) => void }
  const handle = node._onquery.bind(dht)
  node._onquery = (query, peer) => {
    if (!wellFormedQuery(query)) {
      log('dht', `dropped a malformed query from ${peer?.address}:${peer?.port}`)
      return
    }
    try {
      handle(query, peer)
    } catch (err) {
      log('dht', `dropped a query that bittorrent-dht could not handle: ${(err as Error).message}`)
    }
  }
}
