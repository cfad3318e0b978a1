// Types for the packages the hostile-peer helpers use (raw-peer.ts).
declare module 'bittorrent-protocol' {
  import { Duplex } from 'node:stream'
  export default class Wire extends Duplex {
    constructor (type?: string, peEnabled?: number)
    setInfoHash (infoHash: string): unknown
    use (extension: unknown): void
    handshake (infoHash: string, peerId: string, extensions?: Record<string, unknown>): void
    bitfield (bits: Uint8Array): void
    unchoke (): void
  }
}
declare module 'ut_metadata' {
  export default function utMetadata (metadata?: Uint8Array): unknown
}
