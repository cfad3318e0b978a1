/**
 * Debug logging behind DEBUG=btweb:* (or DEBUG=btweb:<area>). Written with fs.writeSync so that
 * lines from the engine worker appear at once even while the window blocks the main thread.
 */
import { writeSync } from 'node:fs'

const pattern = process.env.DEBUG ?? ''

function enabled (area: string): boolean {
  return pattern.split(',').some(p => {
    p = p.trim()
    return p === '*' || p === 'btweb:*' || p === `btweb:${area}`
  })
}

export function log (area: string, message: string): void {
  if (!enabled(area)) return
  try { writeSync(2, `btweb:${area} ${message}\n`) } catch { /* stderr gone: nothing to do */ }
}

/** For fire-and-forget promises: log failures, keep programming errors loud. */
export function logRejection (area: string): (err: unknown) => void {
  return (err) => {
    if (err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError) {
      writeSync(2, `btweb:${area} BUG: ${(err as Error).stack}\n`)
      return
    }
    log(area, `background task failed: ${(err as Error)?.message ?? String(err)}`)
  }
}
