/**
 * HTTP Range (RFC 9110 §14) and conditional-request helpers, pure.
 *
 * One range is answered with 206. A multi-range request is answered with the whole
 * representation (200): RFC 9110 lets a server ignore Range, and multipart/byteranges is not
 * worth its weight for a site gateway. A Range in another unit than bytes is ignored (200).
 * A malformed bytes range, or one that starts beyond the end, is 416.
 */

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial', start: number, end: number } // end inclusive
  | { kind: 'unsatisfiable' }

const MAX_HEADER = 4096

export function parseRange (header: string | undefined, length: number): RangeResult {
  if (header === undefined) return { kind: 'full' }
  const text = header.trim()
  const eq = text.indexOf('=')
  if (eq < 0) return { kind: 'unsatisfiable' }
  if (text.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' }
  if (text.length > MAX_HEADER) return { kind: 'unsatisfiable' }
  const specs = text.slice(eq + 1).split(',').map(s => s.trim()).filter(s => s.length > 0)
  if (specs.length === 0) return { kind: 'unsatisfiable' }
  const parsed: Array<{ start: number, end: number } | null> = []
  for (const spec of specs) {
    const m = /^(\d*)-(\d*)$/.exec(spec)
    if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable' }
    // Positions may be larger than any file (RFC 9110 lets last-pos exceed the length: it is
    // clamped); Number() of a long digit string is only ever compared with the length, and the
    // order of the two positions is decided on the digits themselves.
    if (m[1] === '') {
      const suffix = Number(m[2]) // bytes=-N: the last N bytes
      parsed.push(suffix === 0 || length === 0 ? null : { start: Math.max(0, length - suffix), end: length - 1 })
      continue
    }
    if (m[2] !== '' && digitsLess(m[2], m[1])) return { kind: 'unsatisfiable' }
    const start = Number(m[1])
    const end = m[2] === '' ? length - 1 : Number(m[2])
    parsed.push(start >= length ? null : { start, end: Math.min(end, length - 1) })
  }
  const satisfiable = parsed.filter((r): r is { start: number, end: number } => r !== null)
  if (satisfiable.length === 0) return { kind: 'unsatisfiable' }
  if (specs.length > 1) return { kind: 'full' }
  return { kind: 'partial', ...satisfiable[0] }
}

/** a < b for two strings of decimal digits, of any length. */
function digitsLess (a: string, b: string): boolean {
  a = a.replace(/^0+(?=.)/, ''); b = b.replace(/^0+(?=.)/, '')
  return a.length !== b.length ? a.length < b.length : a < b
}

/** If-None-Match: does it name this ETag (weak comparison), or "*"? */
export function etagMatches (header: string | undefined, etag: string): boolean {
  if (!header) return false
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return header.split(',').some(t => t.trim() === '*' || bare(t) === bare(etag))
}

/** If-Range: a Range applies only while the representation still has this (strong) ETag. */
export function ifRangeAllows (header: string | undefined, etag: string): boolean {
  if (header === undefined) return true
  const t = header.trim()
  return !t.startsWith('W/') && t === etag
}
