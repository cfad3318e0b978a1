/**
 * Torrents: one long-lived webtorrent client, an on-disk cache and the file access the gateway
 * needs.
 *
 *   <cacheDir>/index.json             name, bytes and last use per cached torrent (cache-index.ts)
 *   <cacheDir>/torrents/<ih>.torrent  the metadata, saved once it arrives: a revisit works offline
 *   <cacheDir>/data/<ih>/<name>/…     the pieces fetched so far (webtorrent's fs-chunk-store)
 *
 * Torrents are added with nothing selected; a file is fetched only when it is read, and
 * webtorrent's file streams prioritise the pieces of the range asked for. Metadata comes from
 * peers found through the DHT. The DHT node is created here (bound to `bind`) and handed to
 * webtorrent, because webtorrent's own would bind every interface; the engine's BEP 44 resolver
 * shares it (one UDP socket).
 *
 * The cache is capped: when it grows beyond `maxCacheBytes`, whole torrents are evicted, least
 * recently used first, never one that is being read or one seeded for the publisher.
 */
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { promises as fs } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { Readable } from 'node:stream'
import bencode from 'bencode'
import WebTorrent, { type Torrent, type TorrentFile } from 'webtorrent'
import { CacheIndex } from './cache-index.js'
import { createDht, type Dht } from './dht.js'
import { BtwebError, abortError } from './errors.js'
import { readFileOrNull, writeFileAtomic } from './files.js'
import { toHex } from './hex.js'
import { log, logRejection } from './log.js'

export interface TorrentStoreOptions {
  cacheDir: string
  maxCacheBytes: number
  /** The DHT node's bootstrap and query timeout (see createDht); it binds `bind`. */
  dht: { bootstrap: string[], queryTimeoutMs: number }
  /** Address the DHT and the torrent TCP server bind (uTP, when on, binds all interfaces). */
  bind: string
  torrentPort: number
  utp: boolean
  /** Keep seeding visited torrents; false: a torrent leaves the client once nobody reads it. */
  seed: boolean
  metadataTimeoutMs: number
}

export interface TorrentProgress {
  infohash: string
  peers: number
  /** 0..1 over the files read so far (the whole torrent before any was read). */
  progress: number
  hasMetadata: boolean
  done: boolean
}

export interface DirEntry { name: string, dir: boolean, length: number }

/** One file of a site, as the gateway sees it. */
export interface SiteFile {
  /** Site path without the leading '/', e.g. "css/site.css". */
  readonly path: string
  readonly length: number
  /** Bytes start..end (inclusive), streamed while the pieces arrive. */
  createReadStream (range?: { start: number, end: number }): Readable
}

/** What the gateway needs from a torrent: its files by site path. */
export interface SiteContent {
  readonly infohash: string
  readonly name: string
  /** The file at this site path ('' = root, no leading '/'), or null. */
  file (sitePath: string): SiteFile | null
  /** Whether this site path is a directory ('' is the root). */
  isDir (sitePath: string): boolean
  /** The entries of a directory, sorted by name; null if it is not one. */
  list (sitePath: string): DirEntry[] | null
}

const PROGRESS_INTERVAL_MS = 250
const IDLE_UNSEED_MS = 10_000
const LOOKUP_MIN_MS = 500
const LOOKUP_MAX_MS = 8000
const EVICT_DELAY_MS = 1000
const ALL_INTERFACES = new Set(['0.0.0.0', '::', ''])

interface Entry {
  hex: string
  torrent: Torrent | null
  /** Settles once the torrent is ready (metadata + store + existing pieces verified). */
  ready: Promise<void>
  /** Seeded for the publisher from its own folder: never evicted, never deleted. */
  pinned: boolean
  /** Open read streams and pending get() calls. */
  active: number
  wanted: Set<TorrentFile>
  content: TorrentContent | null
  progressTimer: NodeJS.Timeout | null
  lastProgress: number
  idleTimer: NodeJS.Timeout | null
  /** Peers given by addPeer(), added once the torrent knows its infohash. */
  peers: string[]
  lookupTimer: NodeJS.Timeout | null
  lookupDelay: number
}

interface ReadHooks {
  onOpen: (f: TorrentFile) => void
  onClose: () => void
  /** A read that gets no data for this long fails with NO_PEERS (never wait forever for pieces nobody has). */
  stallMs: number
}

export class TorrentStore extends EventEmitter<{ progress: [TorrentProgress] }> {
  readonly dht: Dht | null
  readonly #client: WebTorrent
  readonly #o: TorrentStoreOptions
  readonly #index: CacheIndex
  readonly #entries = new Map<string, Entry>()
  #evictTimer: NodeJS.Timeout | null = null
  #evicting: Promise<void> = Promise.resolve()
  readonly #writes = new Set<Promise<void>>()
  #closing: Promise<void> | null = null

  private constructor (o: TorrentStoreOptions, client: WebTorrent, dht: Dht, index: CacheIndex) {
    super()
    this.#o = o
    this.#client = client
    this.dht = dht
    this.#index = index
    client.on('error', (err: Error) => log('torrents', `client error: ${err.message}`))
    // A peer that announces itself to our DHT node for a torrent we are fetching is a peer of it.
    // On a small network (and right after a site is published) both sides often look each
    // other up before either has announced; this closes that gap without waiting 15 minutes
    // for torrent-discovery's next announce.
    dht.on('announce', (peer: { host: string, port: number }, infoHash: Uint8Array) => {
      const entry = this.#entries.get(toHex(infoHash))
      const t = entry?.torrent
      if (!t || entry.pinned || t.destroyed || t.done || !t.infoHash) return
      log('torrents', `${entry.hex.slice(0, 8)} peer ${peer.host}:${peer.port} announced itself`)
      t.addPeer(`${peer.host}:${peer.port}`)
    })
  }

  static async open (o: TorrentStoreOptions): Promise<TorrentStore> {
    await fs.mkdir(path.join(o.cacheDir, 'data'), { recursive: true, mode: 0o700 })
    await fs.mkdir(path.join(o.cacheDir, 'torrents'), { recursive: true, mode: 0o700 })
    const index = await CacheIndex.load(path.join(o.cacheDir, 'index.json'))
    await reconcile(o.cacheDir, index)

    const dht = await createDht({ ...o.dht, host: o.bind })
    dht.on('error', (err: Error) => log('torrents', `dht error: ${err.message}`))
    dht.on('warning', (err: Error) => log('torrents', `dht warning: ${err.message}`))
    dht.setMaxListeners(0)

    let client: WebTorrent
    try {
      client = withBoundServers(o.bind, () => new WebTorrent({
        dht: false, // ours, assigned below
        torrentPort: o.torrentPort,
        tracker: false,
        lsd: false,
        natUpnp: false,
        natPmp: false,
        webSeeds: false,
        utp: o.utp
      }))
      client.dht = dht
      await new Promise<void>((resolve, reject) => {
        if (client.listening) return resolve()
        client.once('listening', resolve)
        client.once('error', reject)
      })
    } catch (err) {
      await new Promise<void>(resolve => dht.destroy(() => resolve()))
      throw err
    }
    log('torrents', `client listening on ${o.bind}:${client.address()?.port}, dht on ${dht.address().port}`)
    return new TorrentStore(o, client, dht, index)
  }

  /** The TCP port peers connect to. */
  get port (): number { return this.#client.address()?.port ?? 0 }

  /**
   * The torrent with this infohash, once its metadata is there: from the running client, from
   * the cache (then existing pieces are checked on disk), or from peers found in the DHT.
   * NO_PEERS after `metadataTimeoutMs` without metadata.
   */
  async get (infohash: Uint8Array, { signal }: { signal?: AbortSignal } = {}): Promise<SiteContent> {
    signal?.throwIfAborted()
    if (this.#closing) throw new BtwebError('ABORTED', 'btweb is shutting down')
    const hex = toHex(infohash)
    const entry = this.#entries.get(hex) ?? this.#add(hex)
    entry.active++
    this.#touch(entry)
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    try {
      await Promise.race([
        entry.ready,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new BtwebError('NO_PEERS', `No peer sent the metadata of torrent ${hex} within ${Math.round(this.#o.metadataTimeoutMs / 1000)} s.`)), this.#o.metadataTimeoutMs)
          if (signal) {
            onAbort = () => reject(abortError(signal, 'Fetching the torrent'))
            signal.addEventListener('abort', onAbort, { once: true })
          }
        })
      ])
    } catch (err) {
      entry.active--
      // Nobody else waits for a torrent that found no peers: drop it, a later visit starts over.
      if (entry.active === 0 && !entry.torrent?.ready && this.#entries.get(hex) === entry) this.#drop(entry)
      throw err
    } finally {
      clearTimeout(timer)
      if (onAbort) signal?.removeEventListener('abort', onAbort)
    }
    entry.active--
    this.#released(entry)
    return entry.content!
  }

  /**
   * Seed a folder in place with a .torrent built elsewhere (the publisher's snapshot). `path` is
   * the folder that holds the torrent's root (webtorrent's `path`: files live at
   * `<path>/<name>/…`). Resolves once every piece has been checked on disk.
   */
  async seed (torrentFile: Uint8Array, { path: dir, signal }: { path: string, signal?: AbortSignal }): Promise<{ infohash: string }> {
    signal?.throwIfAborted()
    if (this.#closing) throw new BtwebError('ABORTED', 'btweb is shutting down')
    const hex = infohashOf(torrentFile)
    const existing = this.#entries.get(hex)
    if (existing?.pinned) { await existing.ready; return { infohash: hex } }
    if (existing) await this.#destroyEntry(existing) // a cached copy of the same content: seed the publisher's files instead
    const entry = this.#newEntry(hex, true)
    entry.ready = this.#start(entry, torrentFile, dir)
    this.#entries.set(hex, entry)
    try {
      await abortable(entry.ready, signal, 'Seeding the site')
    } catch (err) {
      await this.#destroyEntry(entry)
      throw err
    }
    if (!entry.torrent!.done) {
      await this.#destroyEntry(entry)
      throw new BtwebError('PUBLISH_ERROR', `The files in ${dir} do not match the torrent ${hex}.`)
    }
    log('torrents', `seeding ${hex} from ${dir}`)
    return { infohash: hex }
  }

  /** Stop serving a torrent. keepData false also deletes a cached torrent's files (never a seeded folder). */
  async remove (infohashHex: string, { keepData = true }: { keepData?: boolean } = {}): Promise<void> {
    const entry = this.#entries.get(infohashHex)
    if (entry) await this.#destroyEntry(entry)
    if (!keepData && !entry?.pinned) await this.#deleteCached(infohashHex)
  }

  /** Infohashes (hex) the client holds right now, with whether they are seeded for the publisher. */
  active (): Array<{ infohash: string, pinned: boolean, peers: number }> {
    return [...this.#entries.values()].map(e => ({ infohash: e.hex, pinned: e.pinned, peers: e.torrent?.numPeers ?? 0 }))
  }

  /**
   * Connect a torrent to a known peer (host:port), as if the DHT had named it: for tests and the
   * loopback demo, where waiting for a DHT announce round costs time. Adds the torrent if needed.
   */
  addPeer (infohash: Uint8Array, peer: string): void {
    const hex = toHex(infohash)
    const entry = this.#entries.get(hex) ?? this.#add(hex)
    entry.peers.push(peer)
    if (entry.torrent?.infoHash && !entry.torrent.destroyed) entry.torrent.addPeer(peer)
  }

  /** Bytes the cache holds (as counted by the index). */
  cacheBytes (): number { return this.#index.totalBytes() }

  /** Idempotent: destroys the client (and with it the DHT), writes the index. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#evictTimer) clearTimeout(this.#evictTimer)
      for (const e of this.#entries.values()) {
        if (e.progressTimer) clearTimeout(e.progressTimer)
        if (e.idleTimer) clearTimeout(e.idleTimer)
        if (e.lookupTimer) clearTimeout(e.lookupTimer)
        if (e.torrent && !e.pinned) this.#index.set(e.hex, { bytes: e.torrent.downloaded })
      }
      await this.#evicting.catch(logRejection('torrents'))
      await Promise.all(this.#writes)
      await new Promise<void>(resolve => this.#client.destroy(err => {
        if (err) log('torrents', `client destroy: ${err.message}`)
        resolve()
      }))
      this.#entries.clear()
      await this.#index.flush().catch(logRejection('torrents'))
    })()
    return await this.#closing
  }

  // --- internals ---

  #newEntry (hex: string, pinned: boolean): Entry {
    return { hex, torrent: null, ready: Promise.resolve(), pinned, active: 0, wanted: new Set(), content: null, progressTimer: null, lastProgress: 0, idleTimer: null, peers: [], lookupTimer: null, lookupDelay: LOOKUP_MIN_MS }
  }

  #add (hex: string): Entry {
    const entry = this.#newEntry(hex, false)
    entry.ready = (async () => {
      const saved = await readFileOrNull(this.#torrentFile(hex))
      let source: string | Uint8Array = hex
      if (saved && safeInfohashOf(saved) === hex) source = new Uint8Array(saved)
      else if (saved) log('torrents', `ignoring a saved .torrent for ${hex} that does not match`)
      if (this.#entries.get(hex) !== entry) throw new BtwebError('ABORTED', 'The torrent was removed')
      await this.#start(entry, source, this.#dataDir(hex))
    })()
    entry.ready.catch(() => {}) // observed by get(); this only keeps an unobserved failure quiet
    this.#entries.set(hex, entry)
    return entry
  }

  async #start (entry: Entry, source: string | Uint8Array, dir: string): Promise<void> {
    if (this.#closing) throw new BtwebError('ABORTED', 'btweb is shutting down')
    const fromCache = typeof source !== 'string'
    log('torrents', `adding ${entry.hex}${entry.pinned ? ' (seed)' : fromCache ? ' from the cache' : ''}`)
    const torrent = this.#client.add(source, { path: dir, deselect: !entry.pinned })
    entry.torrent = torrent
    const addPeers = () => { for (const p of entry.peers) torrent.addPeer(p) }
    if (torrent.infoHash) addPeers()
    else torrent.once('infoHash', addPeers)
    if (!entry.pinned) this.#keepLookingUp(entry, torrent)
    torrent.on('warning', (err: Error) => log('torrents', `${entry.hex.slice(0, 8)} warning: ${err.message}`))
    const progress = () => this.#progress(entry)
    torrent.on('wire', progress)
    torrent.on('download', progress)
    torrent.on('done', () => {
      progress()
      if (!entry.pinned) this.#index.set(entry.hex, { bytes: torrent.downloaded })
      this.#scheduleEvict()
    })
    torrent.on('metadata', () => {
      progress()
      if (!entry.pinned) {
        this.#index.set(entry.hex, { name: torrent.name, lastUsed: Date.now() })
        if (!fromCache) this.#track(writeFileAtomic(this.#torrentFile(entry.hex), torrent.torrentFile, 0o600))
      }
    })
    await new Promise<void>((resolve, reject) => {
      torrent.once('ready', resolve)
      torrent.once('error', (err: Error) => reject(new BtwebError(entry.pinned ? 'PUBLISH_ERROR' : 'NO_PEERS', `The torrent ${entry.hex} failed: ${err.message}`, { cause: err })))
      torrent.once('close', () => reject(new BtwebError('ABORTED', 'The torrent was removed')))
    })
    torrent.on('error', (err: Error) => log('torrents', `${entry.hex.slice(0, 8)} error: ${err.message}`))
    // webtorrent destroys a torrent that fails after it was ready (e.g. a file name the disk
    // refuses): forget the entry, so that the next visit starts over instead of reading a dead torrent.
    torrent.once('close', () => { if (this.#entries.get(entry.hex) === entry && !entry.pinned) this.#drop(entry) })
    entry.content = new TorrentContent(torrent, {
      onOpen: (file) => { entry.active++; entry.wanted.add(file); this.#touch(entry) },
      onClose: () => { entry.active--; this.#touch(entry); this.#released(entry); progress() },
      stallMs: this.#o.metadataTimeoutMs
    })
    if (!entry.pinned) this.#index.set(entry.hex, { bytes: torrent.downloaded })
    progress()
  }

  /** A background write that close() waits for (so that a closed store has its .torrent files on disk). */
  #track (p: Promise<void>): void {
    const tracked = p.catch(logRejection('torrents')).finally(() => this.#writes.delete(tracked))
    this.#writes.add(tracked)
  }

  #touch (entry: Entry): void {
    if (entry.idleTimer) { clearTimeout(entry.idleTimer); entry.idleTimer = null }
    entry.lookupDelay = LOOKUP_MIN_MS
    if (!entry.pinned) this.#index.set(entry.hex, { lastUsed: Date.now() })
  }

  /** Called whenever a reader lets go: schedule eviction and, with seeding off, leaving the swarm. */
  #released (entry: Entry): void {
    this.#scheduleEvict()
    if (this.#o.seed || entry.pinned || entry.active > 0 || entry.idleTimer) return
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null
      if (entry.active === 0 && this.#entries.get(entry.hex) === entry) {
        log('torrents', `${entry.hex.slice(0, 8)} idle, leaving the swarm (seeding is off)`)
        this.#destroyEntry(entry).catch(logRejection('torrents'))
      }
    }, IDLE_UNSEED_MS)
    entry.idleTimer.unref()
  }

  /**
   * torrent-discovery looks a torrent up once, then every 15 minutes. While someone waits for
   * this torrent and it has no peer, look again, backing off from LOOKUP_MIN_MS to LOOKUP_MAX_MS;
   * peers found are handed to the torrent by torrent-discovery's 'peer' listener on the DHT.
   */
  #keepLookingUp (entry: Entry, torrent: Torrent): void {
    const tick = () => {
      entry.lookupTimer = null
      if (torrent.destroyed || this.#closing || !this.dht) return
      if ((entry.active > 0 || !torrent.metadata) && torrent.numPeers === 0) {
        log('torrents', `${entry.hex.slice(0, 8)} no peers yet, looking up again`)
        this.dht.lookup(entry.hex)
      }
      entry.lookupDelay = Math.min(entry.lookupDelay * 2, LOOKUP_MAX_MS)
      entry.lookupTimer = setTimeout(tick, entry.lookupDelay)
      entry.lookupTimer.unref()
    }
    entry.lookupTimer = setTimeout(tick, entry.lookupDelay)
    entry.lookupTimer.unref()
  }

  #progress (entry: Entry): void {
    if (entry.progressTimer) return
    const wait = Math.max(0, entry.lastProgress + PROGRESS_INTERVAL_MS - Date.now())
    entry.progressTimer = setTimeout(() => {
      entry.progressTimer = null
      entry.lastProgress = Date.now()
      const t = entry.torrent
      if (!t || t.destroyed || this.#closing) return
      let progress = t.progress
      let done = t.done
      if (entry.wanted.size > 0 && !t.done) {
        let have = 0; let want = 0
        for (const f of entry.wanted) { have += Math.min(f.downloaded, f.length); want += f.length }
        progress = want ? have / want : 1
        done = progress >= 1
      }
      this.emit('progress', { infohash: entry.hex, peers: t.numPeers, progress, hasMetadata: !!t.metadata, done })
    }, wait)
    entry.progressTimer.unref()
  }

  #drop (entry: Entry): void {
    this.#destroyEntry(entry).catch(logRejection('torrents'))
  }

  async #destroyEntry (entry: Entry): Promise<void> {
    if (this.#entries.get(entry.hex) === entry) this.#entries.delete(entry.hex)
    if (entry.progressTimer) clearTimeout(entry.progressTimer)
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    if (entry.lookupTimer) clearTimeout(entry.lookupTimer)
    const t = entry.torrent
    if (!t || t.destroyed) return
    if (!entry.pinned && t.metadata) this.#index.set(entry.hex, { bytes: t.downloaded })
    await new Promise<void>(resolve => t.destroy({ destroyStore: false }, () => resolve()))
  }

  async #deleteCached (hex: string): Promise<void> {
    this.#index.delete(hex)
    await fs.rm(this.#dataDir(hex), { recursive: true, force: true })
    await fs.rm(this.#torrentFile(hex), { force: true })
  }

  #scheduleEvict (): void {
    if (this.#evictTimer || this.#closing) return
    this.#evictTimer = setTimeout(() => {
      this.#evictTimer = null
      this.#evicting = this.#evicting.then(() => this.#evict()).catch(logRejection('torrents'))
    }, EVICT_DELAY_MS)
    this.#evictTimer.unref()
  }

  /** Least recently used first, whole torrents, never one being read or seeded for the publisher. */
  async #evict (): Promise<void> {
    for (const e of this.#entries.values()) {
      if (e.torrent?.metadata && !e.pinned) this.#index.set(e.hex, { bytes: e.torrent.downloaded })
    }
    let total = this.#index.totalBytes()
    if (total <= this.#o.maxCacheBytes) return
    const candidates = [...this.#index.entries()]
      .filter(([hex]) => { const e = this.#entries.get(hex); return !e || (!e.pinned && e.active === 0) })
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed)
    for (const [hex, record] of candidates) {
      if (total <= this.#o.maxCacheBytes || this.#closing) break
      const live = this.#entries.get(hex)
      if (live && (live.active > 0 || live.pinned)) continue
      log('torrents', `evicting ${hex} (${record.bytes} bytes, last used ${new Date(record.lastUsed).toISOString()})`)
      if (live) await this.#destroyEntry(live)
      await this.#deleteCached(hex)
      total -= record.bytes
    }
  }

  #dataDir (hex: string): string { return path.join(this.#o.cacheDir, 'data', hex) }
  #torrentFile (hex: string): string { return path.join(this.#o.cacheDir, 'torrents', hex + '.torrent') }
}

/** A torrent's files by site path: multi-file torrents are rooted at `<name>/`. */
class TorrentContent implements SiteContent {
  readonly infohash: string
  readonly name: string
  readonly #files = new Map<string, TorrentFile>()
  readonly #dirs = new Map<string, Map<string, DirEntry>>()
  readonly #hooks: ReadHooks
  readonly #gone: TorrentGone

  constructor (torrent: Torrent, hooks: ReadHooks) {
    // One 'close' listener per torrent (not one per read: a page may read dozens of files at once).
    const watchers = new Set<() => void>()
    torrent.once('close', () => { for (const w of watchers) w() })
    this.#gone = {
      already: () => torrent.destroyed,
      watch: (fn) => { watchers.add(fn); return () => watchers.delete(fn) }
    }
    this.infohash = torrent.infoHash
    this.name = torrent.name
    this.#hooks = hooks
    this.#dirs.set('', new Map())
    // parse-torrent builds file.path as path.join('/', name, ...parts) minus the '/', so a
    // multi-file torrent's paths start with the normalised name (unless the name normalised away).
    const multi = Array.isArray(torrent.info?.files)
    const prefix = path.join(path.sep, torrent.name).slice(1)
    for (const file of torrent.files) {
      let parts = file.path.split(path.sep).filter(Boolean)
      if (multi && prefix && file.path.startsWith(prefix + path.sep)) parts = parts.slice(prefix.split(path.sep).length)
      if (parts.length === 0) continue
      const key = parts.join('/')
      if (this.#files.has(key) || this.#dirs.has(key)) continue // first one wins
      this.#files.set(key, file)
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/')
        let listing = this.#dirs.get(dir)
        if (!listing) { listing = new Map(); this.#dirs.set(dir, listing) }
        const isDir = i < parts.length - 1
        if (!listing.has(parts[i])) listing.set(parts[i], { name: parts[i], dir: isDir, length: isDir ? 0 : file.length })
      }
    }
  }

  file (sitePath: string): SiteFile | null {
    const f = this.#files.get(sitePath)
    if (!f) return null
    const hooks = this.#hooks
    return {
      path: sitePath,
      length: f.length,
      createReadStream: (range) => readRange(f, range ?? { start: 0, end: f.length - 1 }, hooks, this.#gone)
    }
  }

  isDir (sitePath: string): boolean { return this.#dirs.has(sitePath) }

  list (sitePath: string): DirEntry[] | null {
    const listing = this.#dirs.get(sitePath)
    if (!listing) return null
    return [...listing.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
}

/** Whether a torrent has been destroyed, and a way to hear when it is. */
interface TorrentGone { already: () => boolean, watch: (fn: () => void) => () => void }

/**
 * Exactly bytes start..end of a torrent file. webtorrent's own stream reads to the end of the
 * file when end is 0 and may end short if the torrent goes away: the wrapper cuts at `end` and
 * fails (rather than ends) a short stream, so that a truncated response is never taken as whole.
 */
function readRange (file: TorrentFile, { start, end }: { start: number, end: number }, hooks: ReadHooks, gone: TorrentGone): Readable {
  const total = end - start + 1
  if (total <= 0) return Readable.from([], { objectMode: false })
  async function * limited (): AsyncGenerator<Uint8Array> {
    if (gone.already()) throw new Error('the torrent was closed')
    hooks.onOpen(file)
    const source = file.createReadStream({ start, end })
    // A destroyed torrent never delivers the pieces its streams wait for, and destroying such a
    // stream does not settle its pending read: race every read against the torrent's 'close'.
    let onClose = (): void => {}
    const closed = new Promise<never>((_resolve, reject) => {
      onClose = () => reject(new Error('the torrent was closed before the range was read'))
    })
    closed.catch(() => {})
    const unwatch = gone.watch(() => onClose())
    const chunks = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    let left = total
    let stallTimer: NodeJS.Timeout | undefined
    try {
      while (left > 0) {
        // Never wait forever for pieces nobody has (a cached site offline, its peers gone):
        // a range that gets no data for stallMs fails with NO_PEERS (an HTML page: a 504 page).
        const stalled = new Promise<never>((_resolve, reject) => {
          stallTimer = setTimeout(() => reject(new BtwebError('NO_PEERS', `No peer sent data for ${file.name} in ${Math.round(hooks.stallMs / 1000)} s.`)), hooks.stallMs)
        })
        stalled.catch(() => {})
        const next = await Promise.race([chunks.next(), closed, stalled]).finally(() => clearTimeout(stallTimer))
        if (next.done) break
        const chunk = next.value
        if (chunk.length >= left) { yield chunk.subarray(0, left); left = 0; break }
        yield chunk
        left -= chunk.length
      }
      if (left > 0) throw new Error(`the torrent stream ended ${left} bytes early`)
    } finally {
      unwatch()
      source.destroy()
      hooks.onClose()
    }
  }
  return Readable.from(limited(), { objectMode: false })
}

/** SHA-1 of the bencoded info dict (as parse-torrent computes it). */
function infohashOf (torrentFile: Uint8Array): string {
  const hex = safeInfohashOf(torrentFile)
  if (!hex) throw new BtwebError('BAD_ARGUMENT', 'This is not a .torrent file (no info dictionary).')
  return hex
}

function safeInfohashOf (torrentFile: Uint8Array): string | null {
  try {
    const decoded = bencode.decode(torrentFile) as { info?: unknown }
    if (!decoded || typeof decoded.info !== 'object') return null
    return createHash('sha1').update(bencode.encode(decoded.info)).digest('hex')
  } catch (err) {
    log('torrents', `unreadable .torrent: ${(err as Error).message}`)
    return null
  }
}

async function abortable<T> (p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return await p
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(abortError(signal, what))
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * webtorrent listens on every interface (server.listen(port) with no host). Its TCP server is
 * created synchronously inside the WebTorrent constructor, so for the length of that call
 * net.createServer hands out servers whose listen() adds our host.
 */
function withBoundServers<T> (host: string, make: () => T): T {
  if (ALL_INTERFACES.has(host)) return make()
  const original = net.createServer
  const patched = ((...args: Parameters<typeof net.createServer>) => {
    const server = original(...args)
    const listen = server.listen as (...a: unknown[]) => net.Server
    server.listen = function (this: net.Server, ...largs: unknown[]) {
      if (typeof largs[0] === 'number') return listen.call(this, largs[0], host, largs.find(a => typeof a === 'function'))
      return listen.apply(this, largs)
    } as typeof server.listen
    return server
  }) as typeof net.createServer
  net.createServer = patched
  try {
    return make()
  } finally {
    net.createServer = original
  }
}

/** Bring the index in line with the folders on disk (after a crash or a lost index). */
async function reconcile (cacheDir: string, index: CacheIndex): Promise<void> {
  const onDisk = new Set((await fs.readdir(path.join(cacheDir, 'data'))).filter(n => /^[0-9a-f]{40}$/.test(n)))
  for (const [hex] of [...index.entries()]) if (!onDisk.has(hex)) index.delete(hex)
  for (const hex of onDisk) {
    if (!index.has(hex)) index.set(hex, { name: '', bytes: await CacheIndex.du(path.join(cacheDir, 'data', hex)), lastUsed: 0 })
  }
}
