/**
 * The engine: one DHT, one torrent client, the resolver, the pointer store, the keys and the
 * gateway, wired together. Every front (window, `btweb serve`, CLI commands, tests) is a thin
 * caller of this class. It knows nothing about windows.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { siteId, type Address } from './address.js'
import { dataPaths } from './data-dir.js'
import type { Dht } from './dht.js'
import { toHex } from './hex.js'
import { removeStaleTemps } from './files.js'
import { KeyStore } from './keys.js'
import { log, logRejection } from './log.js'
import { PointerStore, type Pointer } from './pointer-store.js'
import { Resolver } from './resolver.js'
import { TorrentStore } from './torrents.js'
import { Gateway } from './gateway/server.js'

export interface EngineOptions {
  dataDir: string
  /** DHT bootstrap nodes (host:port). [] = none (a node of a test network that is linked by hand). */
  bootstrap: string[]
  /** Address the DHT and torrent sockets bind; the gateway always binds 127.0.0.1. Default 0.0.0.0. */
  bind?: string
  /** Gateway port; 0 (default) lets the OS choose. false: no gateway (CLI commands that need none). */
  gatewayPort?: number | false
  /** Torrent TCP/uTP port; 0 = OS chooses. */
  torrentPort?: number
  /** Disk cache cap in bytes (default 2 GiB). */
  cacheMaxBytes?: number
  /** Keep seeding visited sites while running (default true). */
  seed?: boolean
  /**
   * uTP as well as TCP (default false). webtorrent tries uTP first and falls back to TCP only
   * after ~40 s against TCP-only peers, and its uTP is slow on loopback (DESIGN.md).
   */
  utp?: boolean
  /** k-rpc per-query timeout (default 1000 ms). */
  queryTimeoutMs?: number
  /** Bound on a DHT lookup that finds nothing (default 15 s). */
  lookupTimeoutMs?: number
  /** How long metadata may take before NO_PEERS (default 30 s). */
  metadataTimeoutMs?: number
  /** A resolved pointer younger than this is reused without waiting; older ones are refreshed in the background on visit. */
  refreshAfterMs?: number
}

export type Phase = 'resolving' | 'metadata' | 'downloading' | 'done' | 'error'

export interface SiteStatus {
  /** Canonical site id: btpk://<key hex>[salt labels] or bittorrent://<ih>, no path. */
  site: string
  phase: Phase
  peers: number
  progress: number
  seq?: number
  stale?: boolean
  error?: string
}

export interface SiteVersion {
  site: string
  infohash: Uint8Array
  /** null for immutable sites. */
  seq: number | null
  /** Served from the last verified pointer because the DHT could not be reached. */
  stale: boolean
}

interface EngineEvents {
  status: [SiteStatus]
  update: [{ site: string, seq: number, infohash: string }]
}

export class Engine extends EventEmitter<EngineEvents> {
  readonly options: Required<Omit<EngineOptions, 'gatewayPort'>> & { gatewayPort: number | false }
  readonly keys: KeyStore
  readonly store: PointerStore
  readonly torrents: TorrentStore
  readonly dht: Dht
  readonly resolver: Resolver
  readonly gateway: Gateway | null
  /** Secret the shell page sends with every /api call (see gateway/shell.ts). */
  readonly shellToken = randomBytes(32).toString('hex')
  readonly #sites = new Map<string, { version: SiteVersion, at: number }>()
  readonly #siteByInfohash = new Map<string, string>()
  /** The last status of each site, replayed when a known site is shown again (its torrent may be quiet). */
  readonly #lastStatus = new Map<string, SiteStatus>()
  #closing: Promise<void> | null = null

  private constructor (options: Engine['options'], torrents: TorrentStore, gateway: Gateway | null, dht: Dht) {
    super()
    this.options = options
    const paths = dataPaths(options.dataDir)
    this.keys = new KeyStore(paths.keys)
    this.store = new PointerStore(paths.pointers)
    this.torrents = torrents
    this.dht = dht
    this.resolver = new Resolver({ dht, store: this.store, lookupTimeoutMs: options.lookupTimeoutMs })
    this.gateway = gateway
    this.resolver.on('update', (p) => this.#onNewPointer(p))
    this.torrents.on('progress', (p) => {
      const site = this.#siteByInfohash.get(p.infohash)
      if (site) this.#status({ site, phase: p.done ? 'done' : p.hasMetadata ? 'downloading' : 'metadata', peers: p.peers, progress: p.progress, seq: this.#sites.get(site)?.version.seq ?? undefined })
    })
  }

  static async open (opts: EngineOptions): Promise<Engine> {
    const options: Engine['options'] = {
      dataDir: opts.dataDir,
      bootstrap: opts.bootstrap,
      bind: opts.bind ?? '0.0.0.0',
      gatewayPort: opts.gatewayPort ?? 0,
      torrentPort: opts.torrentPort ?? 0,
      cacheMaxBytes: opts.cacheMaxBytes ?? 2 * 2 ** 30,
      seed: opts.seed ?? true,
      utp: opts.utp ?? false,
      queryTimeoutMs: opts.queryTimeoutMs ?? 1000,
      lookupTimeoutMs: opts.lookupTimeoutMs ?? 15_000,
      metadataTimeoutMs: opts.metadataTimeoutMs ?? 30_000,
      refreshAfterMs: opts.refreshAfterMs ?? 10_000
    }
    const torrents = await TorrentStore.open({
      cacheDir: dataPaths(options.dataDir).cache,
      maxCacheBytes: options.cacheMaxBytes,
      dht: { bootstrap: options.bootstrap, queryTimeoutMs: options.queryTimeoutMs },
      bind: options.bind,
      torrentPort: options.torrentPort,
      utp: options.utp,
      seed: options.seed,
      metadataTimeoutMs: options.metadataTimeoutMs
    })
    const dht = torrents.dht
    if (!dht) throw new Error('the torrent client has no DHT')
    let engine: Engine | undefined
    let gateway: Gateway | null = null
    try {
      if (options.gatewayPort !== false) {
        gateway = await Gateway.listen({ port: options.gatewayPort, engine: () => engine! })
      }
    } catch (err) {
      await torrents.close()
      throw err
    }
    engine = new Engine(options, torrents, gateway, dht)
    // Writes are atomic (temp file + rename); a process killed mid-write leaves its temp file.
    removeStaleTemps(dataPaths(options.dataDir).pointers).catch(logRejection('engine'))
    return engine
  }

  /**
   * Which torrent holds this site now. Mutable sites: a pointer resolved less than
   * `refreshAfterMs` ago is reused; an older one is returned at once and refreshed in the
   * background (an 'update' event follows if the site changed). Immutable: the infohash itself.
   */
  async resolveSite (address: Address, { signal }: { signal?: AbortSignal } = {}): Promise<SiteVersion> {
    const site = siteId(address)
    if (address.kind === 'immutable') {
      const version = { site, infohash: address.infohash, seq: null, stale: false }
      this.#remember(version)
      return version
    }
    const cached = this.#sites.get(site)
    if (cached && !cached.version.stale) {
      if (Date.now() - cached.at > this.options.refreshAfterMs) {
        cached.at = Date.now() // one refresh at a time
        this.resolver.resolve(address).then(r => this.#onNewPointer(r), logRejection('engine'))
      }
      this.#replayStatus(cached.version)
      return cached.version
    }
    this.#status({ site, phase: 'resolving', peers: 0, progress: 0 })
    try {
      const r = await this.resolver.resolve(address, { signal })
      const version = { site, infohash: r.infohash, seq: r.seq, stale: r.stale }
      this.#remember(version)
      this.#status({ site, phase: 'metadata', peers: 0, progress: 0, seq: r.seq, stale: r.stale })
      return version
    } catch (err) {
      this.#status({ site, phase: 'error', peers: 0, progress: 0, error: (err as Error).message })
      throw err
    }
  }

  #status (s: SiteStatus): void {
    this.#lastStatus.set(s.site, s)
    this.emit('status', s)
  }

  /** A known site shown again: its torrent may send no progress, so say again where it stands. */
  #replayStatus (version: SiteVersion): void {
    const last = this.#lastStatus.get(version.site)
    if (!last) return
    const peers = this.torrents.active().find(t => t.infohash === toHex(version.infohash))?.peers ?? last.peers
    this.emit('status', { ...last, peers, seq: version.seq ?? undefined, stale: version.stale })
  }

  #remember (version: SiteVersion): void {
    this.#sites.set(version.site, { version, at: Date.now() })
    this.#siteByInfohash.set(toHex(version.infohash), version.site)
  }

  #onNewPointer (p: Pointer): void {
    const site = siteId({ kind: 'mutable', publicKey: p.publicKey, salt: p.salt, path: '/', query: '', fragment: '' })
    const cached = this.#sites.get(site)
    if (cached && cached.version.seq !== null && p.seq <= cached.version.seq) return
    const previous = cached?.version
    this.#remember({ site, infohash: p.infohash, seq: p.seq, stale: false })
    if (previous) {
      log('engine', `${site} moved to seq ${p.seq}`)
      this.emit('update', { site, seq: p.seq, infohash: toHex(p.infohash) })
    }
  }

  /** Idempotent; closes gateway, torrents (and with them the DHT) in that order. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      await this.gateway?.close()
      await this.torrents.close()
    })()
    return await this.#closing
  }
}
