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
