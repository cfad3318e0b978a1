/**
 * The gateway's HTTP handler is a pure function of a request description to a response
 * description; the node:http adapter (server.ts) sits beside it. These are the shapes.
 */
import type { Readable } from 'node:stream'

export interface GatewayRequest {
  method: string
  /** Host header as received (may include :port); already checked to be one we serve by the dispatcher. */
  host: string
  /** Raw request target: path and query, still percent-encoded, e.g. "/a%20b.html?x=1". */
  target: string
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>
  /** Aborted when the client goes away. */
  signal: AbortSignal
}

export interface GatewayResponse {
  status: number
  headers: Record<string, string>
  /** A string or bytes sent as is, a stream piped (and destroyed if the client leaves), or nothing. */
  body?: string | Uint8Array | Readable | null
}
