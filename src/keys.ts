/**
 * The user's key pairs: one file per name in <data dir>/keys, owner-only (0600) in a 0700
 * folder. A key file is never overwritten; a corrupt or loosely-permitted file is an error,
 * never a reason to make a new key.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { publicKeyOf, newSeed } from './ed25519.js'
import { BtwebError } from './errors.js'
import { createFileExclusive, readFileOrNull } from './files.js'
import { fromHex, toHex } from './hex.js'

export interface KeyPair {
  name: string
  seed: Uint8Array
  publicKey: Uint8Array
  file: string
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/

function keyError (message: string, cause?: unknown): BtwebError {
  return new BtwebError('KEY_ERROR', message, { cause })
}

export function checkKeyName (name: string): string {
  if (!NAME.test(name)) throw new BtwebError('BAD_ARGUMENT', `A key name is 1–64 letters, digits, ".", "_" or "-" (got "${name}").`)
  return name
}

export class KeyStore {
  readonly dir: string
  constructor (dir: string) { this.dir = dir }

  file (name: string): string {
    return path.join(this.dir, checkKeyName(name) + '.key')
  }

  /** Create a new key; KEY_ERROR if a key of that name exists already. */
  async create (name: string): Promise<KeyPair> {
    return await this.import(name, newSeed())
  }

  /** Store an existing seed under a name; never overwrites. */
  async import (name: string, seed: Uint8Array): Promise<KeyPair> {
    if (seed.length !== 32) throw keyError('An ed25519 seed is 32 bytes.')
    const file = this.file(name)
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    const publicKey = publicKeyOf(seed)
    const body = JSON.stringify({ type: 'ed25519', seed: toHex(seed), publicKey: toHex(publicKey), created: new Date().toISOString() }, null, 2) + '\n'
    try {
      await createFileExclusive(file, body, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw keyError(`A key named "${name}" already exists (${file}); btweb never overwrites a key.`, err)
      throw err
    }
    return { name, seed, publicKey, file }
  }

  /** Load a key; null if there is none of that name; KEY_ERROR if the file is corrupt or readable by others. */
  async load (name: string): Promise<KeyPair | null> {
    const file = this.file(name)
    const raw = await readFileOrNull(file)
    if (!raw) return null
    if (process.platform !== 'win32') {
      const { mode } = await fs.stat(file)
      if ((mode & 0o077) !== 0) throw keyError(`The key file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${file}".`)
    }
    let parsed: { type?: unknown, seed?: unknown, publicKey?: unknown }
    try {
      parsed = JSON.parse(raw.toString('utf8'))
    } catch (err) {
      throw keyError(`The key file ${file} is corrupt (not JSON). btweb will not replace it; restore it from a backup.`, err)
    }
    const seed = typeof parsed.seed === 'string' ? fromHex(parsed.seed) : null
    if (parsed.type !== 'ed25519' || !seed || seed.length !== 32) throw keyError(`The key file ${file} is corrupt (no 32-byte ed25519 seed).`)
    const publicKey = publicKeyOf(seed)
    if (parsed.publicKey !== toHex(publicKey)) throw keyError(`The key file ${file} is corrupt (its public key does not match its seed).`)
    return { name, seed, publicKey, file }
  }

  /** Load, or create on first use. `created` tells the caller to say where the new key is. */
  async loadOrCreate (name: string): Promise<{ key: KeyPair, created: boolean }> {
    const existing = await this.load(name)
    if (existing) return { key: existing, created: false }
    try {
      return { key: await this.create(name), created: true }
    } catch (err) {
      // Lost a race with another process creating the same name: use theirs.
      const raced = await this.load(name)
      if (raced) return { key: raced, created: false }
      throw err
    }
  }

  async list (): Promise<Array<{ name: string, publicKey: Uint8Array | null, error?: string }>> {
    let names: string[]
    try {
      names = (await fs.readdir(this.dir)).filter(f => f.endsWith('.key')).map(f => f.slice(0, -4)).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out = []
    for (const name of names) {
      try {
        const key = await this.load(name)
        out.push({ name, publicKey: key?.publicKey ?? null })
      } catch (err) {
        out.push({ name, publicKey: null, error: (err as Error).message })
      }
    }
    return out
  }
}
