/**
 * A hostile DHT node: a bare UDP socket speaking KRPC (bencode) that answers every BEP 44 `get`
 * with a lie of one kind, claims a node id next to the target (so that a lookup asks it first),
 * and points lookups at the nodes it is told to (`refer`). Also sends malformed queries.
 */
import { createHash, randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import bencode from 'bencode'
import { encodePointerValue, signedBuffer, mutableTarget } from '../../src/bep44.js'
import { publicKeyOf, sign, newSeed } from '../../src/ed25519.js'

export type Lie =
  | 'forged-signature' // the right key, seq 100, a signature of random bytes
  | 'lower-seq' // a genuine, validly signed, OLD pointer (seq 1)
  | 'other-salt' // a genuine pointer of the same key signed for another salt, seq 100
  | 'oversized' // validly signed, seq 100, value of 1100+ bytes
  | 'wrong-key' // validly signed by another key, seq 100
  | 'not-a-pointer' // validly signed, seq 100, value "hello"
  | 'short-infohash' // validly signed, seq 100, {ih: 19 bytes}
  | 'garbage' // malformed KRPC: a different breakage on every reply

export interface Site { seed: Uint8Array, publicKey: Uint8Array, salt: Uint8Array }
export interface NodeRef { host: string, port: number, id: Uint8Array }

export interface HostileNode {
  port: number
  id: Uint8Array
  ref (): NodeRef
  /** Lookups are pointed at these nodes (in `nodes` of every reply). */
  refer: NodeRef[]
  stats: { queries: number, gets: number, lies: number }
  close (): Promise<void>
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest()
const none = new Uint8Array(0)

function item (seed: Uint8Array, salt: Uint8Array, seq: number, v: Record<string, Buffer> | Buffer) {
  const encoded = new Uint8Array(bencode.encode(v))
  return { k: Buffer.from(publicKeyOf(seed)), seq, v, sig: Buffer.from(sign(signedBuffer(salt, seq, encoded), seed)) }
}

/** The `r` dict (or a whole raw datagram, as a Buffer) this node answers a get with. */
function lie (kind: Lie, site: Site, n: number): Record<string, unknown> | Buffer {
  const ih = (s: string) => sha1(Buffer.from(s))
  switch (kind) {
    case 'forged-signature': return { k: Buffer.from(site.publicKey), seq: 100, v: { ih: ih('forged') }, sig: randomBytes(64) }
    case 'lower-seq': return item(site.seed, site.salt, 1, { ih: ih('old') })
    case 'other-salt': return item(site.seed, Buffer.from('other'), 100, { ih: ih('other salt') })
    case 'oversized': return item(site.seed, site.salt, 100, { ih: ih('big'), pad: Buffer.alloc(1100, 7) })
    case 'wrong-key': return item(newSeed(), site.salt, 100, { ih: ih('wrong key') })
    case 'not-a-pointer': return item(site.seed, site.salt, 100, Buffer.from('hello'))
    case 'short-infohash': return item(site.seed, site.salt, 100, { ih: ih('short').subarray(0, 19) })
    case 'garbage': {
      const good = item(site.seed, site.salt, 100, { ih: ih('garbage') })
      const variants: Array<Record<string, unknown> | Buffer> = [
        Buffer.from('d1:rd2:id20:'), // truncated bencode
        randomBytes(200), // noise
        { ...good, k: 5 }, // key of the wrong type
        { ...good, k: Buffer.alloc(31) }, // short key
        { ...good, sig: Buffer.alloc(63) }, // short signature
        { ...good, sig: 'x' },
        { ...good, seq: Buffer.from('100') }, // seq as a string
        { ...good, seq: -1 },
        { ...good, seq: 2 ** 60 }, // beyond a safe integer
        { ...good, v: [1, 2, 3] },
        { ...good, v: { ih: 5 } },
        { ...good, salt: 7 },
        { ...good, nodes: Buffer.alloc(27, 1) }, // not a multiple of 26
        { ...good, nodes: 9, values: 'x' },
        { ...good, token: { a: 1 } },
        { k: Buffer.from(site.publicKey), v: { ih: ih('no sig') } }, // no signature at all
        { v: { ih: ih('immutable pretender') } } // an "immutable" answer to a mutable target
      ]
      return variants[n % variants.length]
    }
  }
}

function encodeNodes (nodes: NodeRef[]): Buffer {
  return Buffer.concat(nodes.map(n => {
    const b = Buffer.alloc(26)
    Buffer.from(n.id).copy(b, 0)
    n.host.split('.').forEach((part, i) => { b[20 + i] = Number(part) })
    b.writeUInt16BE(n.port, 24)
    return b
  }))
}

export async function startHostileNode (kind: Lie, site: Site): Promise<HostileNode> {
  const target = mutableTarget(site.publicKey, site.salt)
  const id = Buffer.from(target)
  id[19] ^= 1 + Math.floor(Math.random() * 255) // closer to the target than any honest node
  const socket = dgram.createSocket('udp4')
  const stats = { queries: 0, gets: 0, lies: 0 }
  const node: HostileNode = {
    port: 0,
    id,
    refer: [],
    stats,
    ref: () => ({ host: '127.0.0.1', port: node.port, id }),
    close: () => new Promise<void>(resolve => socket.close(() => resolve()))
  }
  socket.on('message', (msg, rinfo) => {
    let q: { t?: Uint8Array, y?: Uint8Array, q?: Uint8Array, a?: { target?: Uint8Array } }
    try { q = bencode.decode(msg) as typeof q } catch { return }
    const text = (b: unknown) => b instanceof Uint8Array ? Buffer.from(b).toString('latin1') : ''
    if (!q || !(q.t instanceof Uint8Array) || text(q.y) !== 'q') return
    stats.queries++
    const base: Record<string, unknown> = { id, token: randomBytes(4), nodes: encodeNodes(node.refer) }
    let r: Record<string, unknown> | Buffer = base
    if (text(q.q) === 'get' && q.a?.target && Buffer.from(q.a.target).equals(Buffer.from(target))) {
      stats.gets++
      stats.lies++
      const told = lie(kind, site, stats.gets - 1)
      r = Buffer.isBuffer(told) ? told : { ...base, ...told }
    }
    const out = Buffer.isBuffer(r) ? r : Buffer.from(bencode.encode({ t: Buffer.from(q.t), y: 'r', r }))
    socket.send(out, rinfo.port, rinfo.address)
  })
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  node.port = socket.address().port
  return node
}

/** KRPC queries with arguments of the wrong type or size: each once crashed a bittorrent-dht node. */
export function malformedQueries (): Array<Record<string, unknown>> {
  const id = randomBytes(20)
  const t = Buffer.from('zz')
  return [
    { t, y: 'q', q: 'get', a: { id, target: 5 } },
    { t, y: 'q', q: 'get', a: { id, target: [1, 2] } },
    { t, y: 'q', q: 'find_node', a: { id, target: 5 } },
    { t, y: 'q', q: 'find_node', a: { id, target: Buffer.alloc(3) } },
    { t, y: 'q', q: 'get_peers', a: { id, info_hash: 7 } },
    { t, y: 'q', q: 'get_peers', a: { id, info_hash: { x: 1 } } },
    { t, y: 'q', q: 'announce_peer', a: { id, info_hash: 7, port: 1234, token: Buffer.from('x') } },
    { t, y: 'q', q: 'put', a: { id, token: Buffer.from('x'), v: Buffer.from('x'), k: 5, sig: Buffer.alloc(64), seq: 1 } },
    { t, y: 'q', q: 'put', a: { id, token: Buffer.from('x'), v: Buffer.from('x'), k: Buffer.alloc(32), salt: 9, sig: Buffer.alloc(64), seq: 1 } },
    { t, y: 'q', q: 'ping', a: 5 },
    { t, y: 'q', q: 'ping', a: { id: 5 } },
    { t: 5, y: 'q', q: 'ping', a: { id } },
    { t, y: 'q', q: { x: 1 }, a: { id } },
    { t, y: 'q', q: 'find_node', a: { id: Buffer.alloc(3), target: randomBytes(20) } }
  ]
}

export { none }
