/** RFC 4648 base32, lowercase, no padding: the form of keys in btweb origins (52 chars for 32 bytes). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const LOOKUP = new Map([...ALPHABET].map((c, i) => [c, i]))

export function base32Encode (bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/** Decode lowercase unpadded base32; returns null for any character outside the alphabet or non-zero trailing bits. */
export function base32Decode (text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8))
  let bits = 0
  let value = 0
  let index = 0
  for (const c of text) {
    const v = LOOKUP.get(c)
    if (v === undefined) return null
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff
      bits -= 8
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return null // canonical form only
  return out
}
