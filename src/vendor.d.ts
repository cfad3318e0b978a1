// Minimal types for the untyped packages btweb uses, covering only what it calls.

declare module 'bencode' {
  const bencode: {
    encode (value: unknown): Buffer
    decode (data: Uint8Array, start?: number, end?: number, encoding?: string): unknown
  }
  export default bencode
}

declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'
  export interface DHTNode { host: string, port: number, id?: Buffer }
  export interface DHTOptions {
    nodeId?: Buffer
    bootstrap?: false | string[] | DHTNode[]
    host?: string | false
    concurrency?: number
    hash?: (data: Buffer) => Buffer
    krpc?: unknown
    timeBucketOutdated?: number
    maxAge?: number
    timeout?: number
    verify?: (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean
  }
  export interface GetResponse { v: unknown, k?: Buffer, sig?: Buffer, seq?: number, salt?: Buffer, id?: Buffer }
  export interface PutOptions {
    v: unknown
    k?: Buffer
    seq?: number
    salt?: Buffer
    cas?: number
    sig?: Buffer
    sign?: (buffer: Buffer) => Buffer
  }
  export default class DHT extends EventEmitter {
    constructor (opts?: DHTOptions)
    readonly ready: boolean
    readonly listening: boolean
    readonly destroyed: boolean
    readonly nodeId: Buffer
    listen (port?: number, address?: string, cb?: () => void): void
    listen (port?: number, cb?: () => void): void
    address (): { address: string, family: string, port: number }
    addNode (node: DHTNode): void
    toJSON (): { nodes: DHTNode[], values: Record<string, unknown> }
    get (target: Buffer, opts: { salt?: Buffer, cache?: boolean, verify?: DHTOptions['verify'] }, cb: (err: Error | null, res: GetResponse | null) => void): void
    put (opts: PutOptions, cb: (err: (Error & { code?: number }) | null, target: Buffer, n: number) => void): Buffer
    lookup (infoHash: Buffer | string, cb?: (err: Error | null, n: number) => void): () => void
    announce (infoHash: Buffer | string, port: number, cb?: (err: Error | null) => void): void
    destroy (cb?: () => void): void
    nodes: { toArray (): DHTNode[], count (): number }
  }
}

declare module 'webtorrent' {
  import { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'
  import type DHT from 'bittorrent-dht'

  export interface TorrentFile extends EventEmitter {
    /** Path inside the torrent, joined with the platform separator; starts with the torrent name for multi-file torrents. */
    readonly path: string
    readonly name: string
    readonly length: number
    readonly offset: number
    readonly downloaded: number
    readonly progress: number
    readonly done: boolean
    select (priority?: number): void
    deselect (): void
    /** `end` is inclusive; note: webtorrent treats end 0 as "to the end of the file". */
    createReadStream (opts?: { start?: number, end?: number }): Readable
  }

  export interface Torrent extends EventEmitter {
    readonly infoHash: string
    readonly name: string
    readonly length: number
    readonly files: TorrentFile[]
    readonly torrentFile: Uint8Array
    readonly info?: { files?: unknown[] }
    readonly ready: boolean
    readonly done: boolean
    readonly destroyed: boolean
    readonly downloaded: number
    readonly uploaded: number
    readonly progress: number
    readonly numPeers: number
    readonly metadata: Uint8Array | null
    readonly path: string
    addPeer (peer: string): boolean
    deselect (start: number, end: number): void
    pause (): void
    resume (): void
    destroy (opts?: { destroyStore?: boolean } | null, cb?: (err?: Error | null) => void): void
  }

  export interface TorrentOptions {
    path?: string
    deselect?: boolean
    skipVerify?: boolean
    destroyStoreOnDestroy?: boolean
    announce?: string[]
    maxWebConns?: number
    storeCacheSlots?: number
  }

  export interface WebTorrentOptions {
    dht?: false | Record<string, unknown>
    dhtPort?: number
    torrentPort?: number
    tracker?: false | Record<string, unknown>
    lsd?: boolean
    utPex?: boolean
    natUpnp?: boolean
    natPmp?: boolean
    utp?: boolean
    webSeeds?: boolean
    maxConns?: number
  }

  export default class WebTorrent extends EventEmitter {
    constructor (opts?: WebTorrentOptions)
    /** btweb assigns its own bittorrent-dht node here (see torrents.ts). */
    dht: DHT | false | null
    readonly torrents: Torrent[]
    readonly destroyed: boolean
    readonly listening: boolean
    torrentPort: number
    add (torrentId: string | Uint8Array, opts?: TorrentOptions, ontorrent?: (t: Torrent) => void): Torrent
    address (): { address: string, family: string, port: number } | null
    destroy (cb?: (err?: Error | null) => void): void
  }
}
