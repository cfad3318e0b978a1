/** @noble/ed25519 with Node's SHA-512 plugged in, so that sign/verify are synchronous (bittorrent-dht calls verify synchronously). */
import { createHash, randomBytes } from 'node:crypto'
import * as ed from '@noble/ed25519'

ed.hashes.sha512 = (message: Uint8Array) => new Uint8Array(createHash('sha512').update(message).digest())

export function publicKeyOf (seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed)
}

export function sign (message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed.sign(message, seed)
}

/** Never throws: malformed signatures or keys are simply "not valid". */
export function verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (signature?.length !== 64 || publicKey?.length !== 32) return false
    return ed.verify(signature, message, publicKey)
  } catch {
    return false
  }
}

export function newSeed (): Uint8Array {
  return new Uint8Array(randomBytes(32))
}
