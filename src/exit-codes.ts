import type { ErrorCode } from './errors.js'

/** Exit codes of the CLI, by error code (documented in the README). */
export const EXIT: Record<ErrorCode, number> = {
  BAD_ARGUMENT: 2,
  BAD_ADDRESS: 2,
  NO_SUCH_SITE: 3,
  NOT_FOUND: 3,
  BAD_ITEM: 4,
  NO_PEERS: 4,
  TIMEOUT: 4,
  DHT_ERROR: 4,
  ABORTED: 130,
  KEY_ERROR: 5,
  PUBLISH_ERROR: 5,
  NO_DISPLAY: 6
}
