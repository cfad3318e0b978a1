/**
 * BEP 46 over BEP 44: "which torrent does this key point to right now?"
 *
 * bittorrent-dht's get() only calls back once the whole lookup has drained, and dead nodes
 * make that slow. So the resolver watches every reply as it arrives (through the `verify`
 * hook, which sees the signature, the signed buffer and the key of each reply), and answers
 * `graceMs` after the first fully verified pointer, with the highest seq seen by then. The
 * lookup goes on in the background; a higher seq found later is stored and emitted as 'update'.
 *
 * Every candidate must: come from the expected key, sign the buffer built with OUR salt
 * (bittorrent-dht puts the requested salt into the buffer, so a signature for another salt
 * fails), carry a canonical seq, and hold a canonical bencoded {ih: 20 bytes} ≤ 1000 bytes.
 * A seq lower than the one on disk never replaces it.
 */
import { EventEmitter } from 'node:events'
import { mutableTarget, parseSignedBuffer } from './bep44.js'
import type { Dht } from './dht.js'
import { dhtVerify } from './dht.js'
import { BtwebError, abortError } from './errors.js'
import { bytesEqual, toHex } from './hex.js'
import { log, logRejection } from './log.js'
import { pointerFromItem, type Pointer, type PointerStore } from './pointer-store.js'

export interface Resolution extends Pointer {
  /** true when the DHT gave nothing and this is the last pointer verified earlier (offline). */
  stale: boolean
}

export interface ResolverOptions {
  dht: Dht
  store: PointerStore
  /** After the first verified answer, wait this long for a higher seq before answering. */
  graceMs?: number
  /** Bound on one lookup when nothing is found. */
  lookupTimeoutMs?: number
}

export interface SiteKey { publicKey: Uint8Array, salt: Uint8Array }

export class Resolver extends EventEmitter<{ update: [Pointer] }> {
  readonly #dht: Dht
  readonly #store: PointerStore
  readonly #graceMs: number
  readonly #lookupTimeoutMs: number
  readonly #inflight = new Map<string, Promise<Resolution>>()

  constructor (opts: ResolverOptions) {
    super()
    this.#dht = opts.dht
    this.#store = opts.store
    this.#graceMs = opts.graceMs ?? 150
    this.#lookupTimeoutMs = opts.lookupTimeoutMs ?? 15_000
  }

  /** Resolve a key to its newest verified pointer. Concurrent calls for one key share one lookup. */
  async resolve (site: SiteKey, { signal }: { signal?: AbortSignal } = {}): Promise<Resolution> {
    const id = toHex(mutableTarget(site.publicKey, site.salt))
    let pending = this.#inflight.get(id)
    if (!pending) {
      pending = this.#lookup(site)
      this.#inflight.set(id, pending)
      const forget = () => { if (this.#inflight.get(id) === pending) this.#inflight.delete(id) }
      pending.then(forget, forget)
    }
    if (!signal) return await pending
    signal.throwIfAborted()
    return await new Promise<Resolution>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal, 'Resolving the site'))
      signal.addEventListener('abort', onAbort, { once: true })
      pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async #lookup (site: SiteKey): Promise<Resolution> {
    const { publicKey, salt } = site
    const known = await this.#store.get(publicKey, salt)
    const target = mutableTarget(publicKey, salt)
    const hexKey = toHex(publicKey).slice(0, 12)
    let best: Pointer | null = null
    let answered: Pointer | null = null // what the caller got, once it got something
    let settled = false
    let settle: { resolve: (r: Resolution) => void, reject: (e: unknown) => void }
    const result = new Promise<Resolution>((resolve, reject) => { settle = { resolve, reject } })
    let graceTimer: NodeJS.Timeout | undefined
    const started = Date.now()

    const answer = (pointer: Pointer | null, stale: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(graceTimer)
      clearTimeout(boundTimer)
      if (!pointer) {
        settle.reject(new BtwebError('NO_SUCH_SITE', `No site with key ${toHex(publicKey)} was found in the DHT.`))
        return
      }
      answered = pointer
      log('resolver', `${hexKey}… seq ${pointer.seq}${stale ? ' (stale)' : ''} after ${Date.now() - started} ms`)
      settle.resolve({ ...pointer, stale })
    }

    const consider = (candidate: Pointer) => {
      if (known && candidate.seq < known.seq) { log('resolver', `${hexKey}… ignoring replayed seq ${candidate.seq} < ${known.seq}`); return }
      if (!best || candidate.seq > best.seq) best = candidate
      if (!settled && !graceTimer) graceTimer = setTimeout(() => answer(newest(best, known), false), this.#graceMs)
    }

    // The verify hook: full validation of each reply the moment it arrives.
    const verify = (signature: Uint8Array, message: Uint8Array, k: Uint8Array): boolean => {
      try {
        if (!bytesEqual(k, publicKey) || !dhtVerify(signature, message, k)) return false
        const parsed = parseSignedBuffer(message, salt)
        if (!parsed) return false
        const pointer = pointerFromItem({ publicKey, salt, seq: parsed.seq, value: new Uint8Array(parsed.value), signature: new Uint8Array(signature) })
        consider(pointer)
        return true
      } catch (err) {
        log('resolver', `${hexKey}… rejected a reply: ${(err as Error).message}`)
        return false
      }
    }

    const boundTimer = setTimeout(() => answer(newest(best, known), !best), this.#lookupTimeoutMs)
    boundTimer.unref() // a lookup left running after its DHT closed must not hold the process open
    const onDone = (err: Error | null) => {
      if (err) log('resolver', `${hexKey}… lookup error: ${err.message}`)
      const newestSeen = newest(best, known)
      if (!settled) answer(newestSeen, !best)
      else if (best && answered && best.seq > answered.seq) {
        log('resolver', `${hexKey}… newer seq ${best.seq} arrived after the answer`)
        this.emit('update', best)
      }
      if (best && (!known || best.seq > known.seq)) this.#store.save(best).catch(logRejection('resolver'))
    }
    try {
      this.#dht.get(Buffer.from(target), { salt: salt.length ? Buffer.from(salt) : undefined, cache: false, verify }, onDone)
    } catch (err) {
      onDone(err as Error)
    }
    const resolution = await result
    if (!resolution.stale && (!known || resolution.seq > known.seq)) await this.#store.save(resolution)
    return resolution
  }
}

function newest (a: Pointer | null, b: Pointer | null): Pointer | null {
  if (!a) return b
  if (!b) return a
  return a.seq >= b.seq ? a : b
}

