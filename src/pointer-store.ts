/**
 * The last verified pointer per (key, salt), on disk. It only ever moves forward: a save with a
 * seq lower than or equal to the stored one is ignored, so a replayed old pointer can never win.
 * Records are re-verified when read (the disk is not trusted more than the network).
 */
import path from 'node:path'
import { decodePointerValue, mutableTarget, verifyItem, type MutableItem } from './bep44.js'
import { writeFileAtomic, readFileOrNull } from './files.js'
import { fromHex, toHex } from './hex.js'
import { log } from './log.js'

export interface Pointer extends MutableItem {
  infohash: Uint8Array
}

export function pointerFromItem (item: MutableItem): Pointer {
  return { ...verifyItem(item), infohash: decodePointerValue(item.value) }
}

interface Record {
  publicKey: string
  salt: string
  seq: number
  value: string
  signature: string
  infohash: string
  savedAt: string
}

export class PointerStore {
  readonly #dir: string
  readonly #queues = new Map<string, Promise<unknown>>()

  constructor (dir: string) {
    this.#dir = dir
  }

  #file (publicKey: Uint8Array, salt: Uint8Array): string {
    return path.join(this.#dir, toHex(mutableTarget(publicKey, salt)) + '.json')
  }

  async get (publicKey: Uint8Array, salt: Uint8Array): Promise<Pointer | null> {
    const file = this.#file(publicKey, salt)
    const raw = await readFileOrNull(file)
    if (!raw) return null
    try {
      const r = JSON.parse(raw.toString('utf8')) as Record
      const pointer = pointerFromItem({
        publicKey: fromHex(r.publicKey) ?? new Uint8Array(0),
        salt: fromHex(r.salt) ?? new Uint8Array(0),
        seq: r.seq,
        value: fromHex(r.value) ?? new Uint8Array(0),
        signature: fromHex(r.signature) ?? new Uint8Array(0)
      })
      if (toHex(pointer.publicKey) !== toHex(publicKey) || toHex(pointer.salt) !== toHex(salt)) throw new Error('record is for another key')
      return pointer
    } catch (err) {
      // Writes are atomic, so this means tampering or disk damage: ignore the record, loudly.
      log('pointer-store', `ignoring unreadable pointer record ${file}: ${(err as Error).message}`)
      return null
    }
  }

  /** Store `pointer` if its seq is higher than the stored one. Returns the pointer now stored. */
  async save (pointer: Pointer): Promise<Pointer> {
    const file = this.#file(pointer.publicKey, pointer.salt)
    return await this.#serial(file, async () => {
      const current = await this.get(pointer.publicKey, pointer.salt)
      if (current && current.seq >= pointer.seq) return current
      const record: Record = {
        publicKey: toHex(pointer.publicKey),
        salt: toHex(pointer.salt),
        seq: pointer.seq,
        value: toHex(pointer.value),
        signature: toHex(pointer.signature),
        infohash: toHex(pointer.infohash),
        savedAt: new Date().toISOString()
      }
      await writeFileAtomic(file, JSON.stringify(record, null, 2) + '\n')
      return pointer
    })
  }

  /** Run writes to one file one after another (read-compare-write must not interleave). */
  async #serial<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => undefined)
    this.#queues.set(key, tail)
    try {
      return await next
    } finally {
      if (this.#queues.get(key) === tail) this.#queues.delete(key)
    }
  }
}
