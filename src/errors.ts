/**
 * One error class for everything btweb reports to a person. `code` is stable and is what
 * callers (gateway status pages, CLI exit codes, tests) switch on; `message` is for humans.
 */
export type ErrorCode =
  | 'BAD_ADDRESS' // the address could not be parsed
  | 'BAD_ARGUMENT' // a CLI/API argument is wrong (salt too long, bad bootstrap, …)
  | 'BAD_ITEM' // a BEP 44 item failed validation (signature, size, seq, target)
  | 'NO_SUCH_SITE' // the DHT holds no valid pointer for this key
  | 'NO_PEERS' // no peer delivered the torrent's metadata in time
  | 'NOT_FOUND' // the path is not in the torrent
  | 'TIMEOUT' // an operation took longer than its bound
  | 'ABORTED' // the caller aborted
  | 'KEY_ERROR' // a key file is missing, corrupt, has loose permissions, or would be overwritten
  | 'PUBLISH_ERROR' // the folder cannot be published (missing, empty, unreadable, too big)
  | 'DHT_ERROR' // the DHT refused or failed a put
  | 'NO_DISPLAY' // the window cannot open (no display)

export class BtwebError extends Error {
  override readonly name = 'BtwebError' as const
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function isBtwebError (err: unknown, code?: ErrorCode): err is BtwebError {
  return err instanceof BtwebError && (code === undefined || err.code === code)
}

/** Turn an AbortSignal's reason into the matching BtwebError (timeouts vs. user aborts). */
export function abortError (signal: AbortSignal, what: string): BtwebError {
  const reason = signal.reason as { name?: string } | undefined
  if (reason?.name === 'TimeoutError') return new BtwebError('TIMEOUT', `${what} timed out`, { cause: reason })
  return new BtwebError('ABORTED', `${what} was aborted`, { cause: reason })
}
