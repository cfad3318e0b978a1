/**
 * BEP 44 mutable items and the BEP 46 pointer value {ih}: the signed buffer, signing,
 * verification and every validity rule a reader must apply. No I/O.
 */
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { MAX_SALT_BYTES } from './address.js'
import { sign, verify } from './ed25519.js'
import { BtwebError } from './errors.js'
import { bytesEqual } from './hex.js'

export const MAX_VALUE_BYTES = 1000

export interface MutableItem {
  publicKey: Uint8Array
  salt: Uint8Array
  seq: number
  /** The bencoded value (what `v` holds on the wire, encoded). */
  value: Uint8Array
  signature: Uint8Array
}

function badItem (message: string): BtwebError {
  return new BtwebError('BAD_ITEM', message)
}

const te = new TextEncoder()

/** `[4:salt<len>:<salt>]3:seqi<seq>e1:v<bencoded v>` — what the signature covers. */
export function signedBuffer (salt: Uint8Array, seq: number, value: Uint8Array): Uint8Array {
  const head = te.encode((salt.length ? `4:salt${salt.length}:` : ''))
  const mid = te.encode(`3:seqi${seq}e1:v`)
  return concat(head, salt.length ? salt : new Uint8Array(0), mid, value)
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

export function mutableTarget (publicKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(publicKey).update(salt).digest())
}

export function immutableTarget (value: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(value).digest())
}

export function checkSeq (seq: unknown): number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw badItem('seq must be a non-negative integer.')
  return seq
}

export function checkSalt (salt: Uint8Array): Uint8Array {
  if (salt.length > MAX_SALT_BYTES) throw new BtwebError('BAD_ARGUMENT', `A salt holds at most ${MAX_SALT_BYTES} bytes; this one has ${salt.length}.`)
  return salt
}

export function checkValueSize (value: Uint8Array): Uint8Array {
  if (value.length > MAX_VALUE_BYTES) throw badItem(`A BEP 44 value holds at most ${MAX_VALUE_BYTES} bytes bencoded; this one has ${value.length}.`)
  return value
}

export function signItem (seed: Uint8Array, publicKey: Uint8Array, salt: Uint8Array, seq: number, value: Uint8Array): MutableItem {
  checkSalt(salt); checkSeq(seq); checkValueSize(value)
  return { publicKey, salt, seq, value, signature: sign(signedBuffer(salt, seq, value), seed) }
}

/** Throws BAD_ITEM unless the item is well-formed and its signature verifies. */
export function verifyItem (item: MutableItem): MutableItem {
  if (item.publicKey?.length !== 32) throw badItem('The public key must be 32 bytes.')
  if (item.signature?.length !== 64) throw badItem('The signature must be 64 bytes.')
  checkSalt(item.salt); checkSeq(item.seq); checkValueSize(item.value)
  if (!verify(item.signature, signedBuffer(item.salt, item.seq, item.value), item.publicKey)) throw badItem('The signature does not verify.')
  return item
}

/**
 * Parse a signed buffer back into seq and value, given the salt the reader expects.
 * Returns null if the buffer is not exactly of that shape.
 */
export function parseSignedBuffer (buffer: Uint8Array, salt: Uint8Array): { seq: number, value: Uint8Array } | null {
  const prefix = salt.length ? concat(te.encode(`4:salt${salt.length}:`), salt) : new Uint8Array(0)
  if (buffer.length < prefix.length || !bytesEqual(buffer.subarray(0, prefix.length), prefix)) return null
  const text = new TextDecoder('latin1').decode(buffer.subarray(prefix.length, prefix.length + 40))
  const m = /^3:seqi(0|[1-9][0-9]{0,15})e1:v/.exec(text)
  if (!m) return null
  const seq = Number(m[1])
  if (!Number.isSafeInteger(seq)) return null
  return { seq, value: buffer.subarray(prefix.length + m[0].length) }
}

/** BEP 46: v = {ih: <20 bytes>}. Returns the bencoded value. */
export function encodePointerValue (infohash: Uint8Array): Uint8Array {
  if (infohash.length !== 20) throw new BtwebError('BAD_ARGUMENT', 'An infohash is 20 bytes.')
  return new Uint8Array(bencode.encode({ ih: Buffer.from(infohash) }))
}

/** Decode a BEP 46 value; throws BAD_ITEM for anything but a dict with a 20-byte `ih`. */
export function decodePointerValue (value: Uint8Array): Uint8Array {
  checkValueSize(value)
  let decoded: unknown
  try {
    decoded = bencode.decode(Buffer.from(value))
  } catch (err) {
    throw new BtwebError('BAD_ITEM', 'The value is not valid bencode.', { cause: err })
  }
  // Re-encoding must give the same bytes: rejects non-canonical encodings (unsorted keys, leading zeros…).
  if (!bytesEqual(new Uint8Array(bencode.encode(decoded as object)), value)) throw badItem('The value is not canonical bencode.')
  const ih = (decoded as { ih?: unknown } | null)?.ih
  if (!(ih instanceof Uint8Array) || ih.length !== 20) throw badItem('The value has no 20-byte "ih" (BEP 46).')
  return new Uint8Array(ih)
}
