/**
 * A bare BitTorrent peer for hostile-peer tests (bittorrent-protocol + ut_metadata, no storage):
 * it serves a torrent's metadata and pieces straight from memory, so that a torrent whose file
 * names no real client could store (NUL, "../", 300-character names) can still be seeded, and
 * so that it can lie: `corrupt` pieces are sent with their bytes flipped.
 */
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import bencode from 'bencode'
import Protocol from 'bittorrent-protocol'
import utMetadata from 'ut_metadata'

export interface RawTorrent {
  /** The whole .torrent file. */
  torrent: Buffer
  infohash: string
  pieceLength: number
  /** The concatenated file data the pieces cover. */
  data: Buffer
}

/** Build a .torrent by hand: `files` are [path parts, content]; names are taken as given. */
export function craftTorrent (name: string | Buffer, files: Array<[Array<string | Buffer>, Buffer]>, pieceLength = 16384): RawTorrent {
  const data = Buffer.concat(files.map(([, content]) => content))
  const pieces: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) pieces.push(createHash('sha1').update(data.subarray(at, at + pieceLength)).digest())
  const info = {
    files: files.map(([parts, content]) => ({ length: content.length, path: parts.map(p => Buffer.from(p)) })),
    name: Buffer.from(name),
    'piece length': pieceLength,
    pieces: Buffer.concat(pieces)
  }
  const infohash = createHash('sha1').update(bencode.encode(info)).digest('hex')
  return { torrent: Buffer.from(bencode.encode({ info })), infohash, pieceLength, data }
}

export interface RawPeer {
  port: number
  /** Piece messages sent, and how many of them carried flipped bytes. */
  stats: { connections: number, blocks: number, corruptBlocks: number }
  close (): Promise<void>
}

/**
 * Serve `t` on 127.0.0.1. `corrupt(index)` says whether blocks of piece `index` are sent with
 * every byte inverted (the peer still claims to have every piece).
 */
export async function startRawPeer (t: RawTorrent, { corrupt = () => false }: { corrupt?: (index: number) => boolean } = {}): Promise<RawPeer> {
  const stats = { connections: 0, blocks: 0, corruptBlocks: 0 }
  const numPieces = Math.ceil(t.data.length / t.pieceLength)
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    stats.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    // Incoming, protocol encryption allowed (webtorrent opens with an MSE/PE handshake by default).
    const wire = new Protocol('tcpIncoming', 1)
    socket.pipe(wire).pipe(socket)
    wire.on('error', () => socket.destroy())
    wire.use(utMetadata(t.torrent))
    wire.once('crypto-infohash', () => { Promise.resolve(wire.setInfoHash(t.infohash)).catch(() => socket.destroy()) })
    wire.on('handshake', (infoHash: string) => {
      if (infoHash !== t.infohash) { socket.destroy(); return }
      wire.handshake(t.infohash, randomBytes(20).toString('hex'), { dht: false })
    })
    wire.on('extended', (ext: string) => {
      if (ext !== 'handshake') return
      const bits = Buffer.alloc(Math.ceil(numPieces / 8))
      for (let i = 0; i < numPieces; i++) bits[i >> 3] |= 0x80 >> (i & 7)
      wire.bitfield(bits)
      wire.unchoke()
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('request', (index: number, offset: number, length: number, respond: (err: Error | null, b?: Buffer) => void) => {
      const start = index * t.pieceLength + offset
      let block = Buffer.from(t.data.subarray(start, start + length))
      stats.blocks++
      if (corrupt(index)) { block = Buffer.from(block.map(b => b ^ 0xff)); stats.corruptBlocks++ }
      respond(null, block)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    stats,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
