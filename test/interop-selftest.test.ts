/**
 * Self-test of the libtorrent interop tools (test/helpers/libtorrent.ts, test/interop/*):
 * libtorrent-rasterbar and bittorrent-dht exchange BEP 46 {ih} items over a private DHT on
 * 127.0.0.1 in both directions, and libtorrent seeds a torrent to webtorrent over TCP.
 * Nothing here uses btweb's own code: it proves the reference tools, which other tests then
 * trust. Set INTEROP_TIMING=1 to print each test's duration.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import crypto from 'node:crypto'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as ed from '@noble/ed25519'
import bencode from 'bencode'
import DHT from 'bittorrent-dht'
import WebTorrent from 'webtorrent'
// @ts-ignore create-torrent ships no types
import createTorrentUntyped from 'create-torrent'
import { ltDhtBinary, ltDownload, ltGet, ltPut, startLtNode, startLtSeeder, type HostPort } from './helpers/libtorrent.js'

type CreateTorrent = (input: string, opts: Record<string, unknown>, cb: (err: Error | null, torrent: Uint8Array) => void) => void
const createTorrent = createTorrentUntyped as CreateTorrent

// @noble/ed25519 v3 signs synchronously only with a sha512 installed
ed.hashes.sha512 = (m: Uint8Array) => new Uint8Array(crypto.createHash('sha512').update(m).digest())

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const sha1 = (...parts: Uint8Array[]): Buffer => crypto.createHash('sha1').update(Buffer.concat(parts)).digest()

function verify (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try { return ed.verify(sig, msg, pk) } catch { return false }
}

/** BEP 44 signed buffer: [4:salt<len>:<salt>]3:seqi<seq>e1:v<bencoded v> */
function signedBuffer (salt: Uint8Array, seq: number, bencodedV: Uint8Array): Buffer {
  const head = salt.length > 0 ? Buffer.concat([Buffer.from(`4:salt${salt.length}:`), salt]) : Buffer.alloc(0)
  return Buffer.concat([head, Buffer.from(`3:seqi${seq}e1:v`), bencodedV])
}

// ---------------------------------------------------------------------------------------------
// per-test resources, released after each test even when it fails

const cleanups: Array<() => unknown> = []
const later = (f: () => unknown): void => { cleanups.push(f) }
let started = 0

test.before.each(() => { started = Date.now() })
test.after.each(async () => {
  while (cleanups.length > 0) {
    try { await cleanups.pop()!() } catch (err) { console.error('cleanup:', err) }
  }
})

function timed (name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    await fn()
    if (process.env.INTEROP_TIMING) console.log(`\n  ${name}: ${Date.now() - started} ms`)
  })
}

interface Net { nodes: DHT[], addrs: HostPort[] }

/**
 * n bittorrent-dht nodes on 127.0.0.1, meshed with addNode. `timeout` is short because a
 * one-shot lt_dht process stays in their routing tables after it exits (k-rpc default: 2 s).
 */
async function startNet (n = 8): Promise<Net> {
  const nodes: DHT[] = []
  later(() => Promise.all(nodes.map(d => new Promise<void>(resolve => d.destroy(() => resolve())))))
  for (let i = 0; i < n; i++) {
    const d = new DHT({ bootstrap: false, host: '127.0.0.1', verify, timeout: 500 })
    nodes.push(d)
    await new Promise<void>(resolve => d.listen(0, '127.0.0.1', resolve))
  }
  const addrs = nodes.map(d => ({ host: '127.0.0.1', port: d.address().port }))
  for (const d of nodes) for (const a of addrs) if (a.port !== d.address().port) d.addNode(a)
  const deadline = Date.now() + 5000
  while (nodes.some(d => d.nodes.count() < n - 1)) {
    if (Date.now() > deadline) throw new Error('the bittorrent-dht nodes did not find each other')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return { nodes, addrs }
}

function dhtGet (d: DHT, target: Buffer, salt?: Buffer): Promise<ReturnType<typeof parseGet>> {
  return new Promise((resolve, reject) => {
    d.get(target, { salt: salt != null && salt.length > 0 ? salt : undefined, cache: false }, (err, res) => { if (err) reject(err); else resolve(parseGet(res)) })
  })
}
function parseGet (res: { v: unknown, k?: Buffer, sig?: Buffer, seq?: number, salt?: Buffer } | null) {
  return res == null ? null : { v: res.v, k: res.k, sig: res.sig, seq: res.seq }
}

function dhtPut (d: DHT, opts: { seed: Uint8Array, salt: Buffer, seq: number, ih: Buffer }): Promise<number> {
  const pk = Buffer.from(ed.getPublicKey(opts.seed))
  const v = { ih: opts.ih }
  const expected = signedBuffer(opts.salt, opts.seq, bencode.encode(v))
  return new Promise((resolve, reject) => {
    d.put({
      k: pk,
      v,
      seq: opts.seq,
      salt: opts.salt.length > 0 ? opts.salt : undefined,
      sign: (buf: Buffer) => {
        // bittorrent-dht builds the buffer; it must be exactly BEP 44's
        assert.is(hex(buf), hex(expected), 'signed buffer')
        return Buffer.from(ed.sign(expected, opts.seed))
      }
    }, (err, _target, n) => { if (err) reject(err); else resolve(n) })
  })
}

/** Checks a bittorrent-dht get result against what libtorrent was asked to put. */
function checkItem (res: Awaited<ReturnType<typeof dhtGet>>, want: { pk: Uint8Array, salt: Buffer, seq: number, ih: Buffer }): void {
  assert.ok(res, 'bittorrent-dht found the item')
  assert.is(res.seq, want.seq, 'seq')
  assert.is(hex(res.k!), hex(want.pk), 'public key')
  const vBytes = bencode.encode(res.v)
  assert.is(hex(vBytes), hex(bencode.encode({ ih: want.ih })), 'v is exactly the bencoded {ih}')
  assert.ok(verify(res.sig!, signedBuffer(want.salt, want.seq, vBytes), want.pk), 'signature verifies over the BEP 44 buffer')
  assert.not.ok(verify(res.sig!, signedBuffer(want.salt, want.seq + 1, vBytes), want.pk), 'signature is bound to seq')
  const ih = (res.v as { ih?: Uint8Array }).ih
  assert.ok(ih instanceof Uint8Array && ih.length === 20, 'v.ih is 20 bytes')
  assert.is(hex(ih), hex(want.ih), 'ih')
}

async function ltPutThenDhtGet (salt: Buffer): Promise<void> {
  const net = await startNet()
  const seed = crypto.randomBytes(32)
  const pk = ed.getPublicKey(seed)
  const target = sha1(pk, salt)
  const saltHex = salt.length > 0 ? hex(salt) : undefined

  const ih1 = crypto.randomBytes(20)
  const r1 = await ltPut({ nodes: net.addrs.slice(0, 3), seedHex: hex(seed), saltHex, seq: 7, infohashHex: hex(ih1) })
  assert.is(r1.publicKey, hex(pk), 'libtorrent derives the RFC 8032 public key from the seed')
  assert.ok(r1.stored > 0, `stored on ${r1.stored} nodes`)
  assert.is(r1.networkSeq, -1)
  checkItem(await dhtGet(net.nodes[7], target, salt), { pk, salt, seq: 7, ih: ih1 })

  // an update with a higher seq replaces it
  const ih2 = crypto.randomBytes(20)
  const r2 = await ltPut({ nodes: net.addrs.slice(4, 5), seedHex: hex(seed), saltHex, seq: 8, infohashHex: hex(ih2) })
  assert.is(r2.networkSeq, 7, 'libtorrent saw the previous seq')
  checkItem(await dhtGet(net.nodes[2], target, salt), { pk, salt, seq: 8, ih: ih2 })
}

async function dhtPutThenLtGet (salt: Buffer): Promise<void> {
  const net = await startNet()
  const seed = crypto.randomBytes(32)
  const pk = ed.getPublicKey(seed)
  const saltHex = salt.length > 0 ? hex(salt) : undefined
  const ih = crypto.randomBytes(20)

  const n = await dhtPut(net.nodes[0], { seed, salt, seq: 5, ih })
  assert.ok(n > 0, `bittorrent-dht stored on ${n} nodes`)
  const got = await ltGet({ nodes: [net.addrs[6]], publicKeyHex: hex(pk), saltHex })
  assert.ok(got, 'libtorrent found the item')
  assert.equal({ seq: got.seq, infohash: got.infohash, publicKey: got.publicKey, saltHex: got.saltHex },
    { seq: 5, infohash: hex(ih), publicKey: hex(pk), saltHex: hex(salt) })
  assert.ok(got.authoritative, 'lookup ran to its end')

  // the wrong salt is a different target: nothing there
  assert.is(await ltGet({ nodes: [net.addrs[3]], publicKeyHex: hex(pk), saltHex: hex(Buffer.from('other')) }), null)

  // a lower seq from libtorrent does not replace the item
  const r = await ltPut({ nodes: [net.addrs[2]], seedHex: hex(seed), saltHex, seq: 4, infohashHex: hex(crypto.randomBytes(20)) })
  assert.is(r.networkSeq, 5)
  const again = await ltGet({ nodes: [net.addrs[1]], publicKeyHex: hex(pk), saltHex })
  assert.is(again?.seq, 5)
  assert.is(again?.infohash, hex(ih))
}

// ---------------------------------------------------------------------------------------------

test('lt_dht builds', async () => {
  const bin = await ltDhtBinary()
  assert.ok(bin.endsWith(path.join('interop', 'build', 'lt_dht')))
  assert.is(await ltDhtBinary(), bin, 'built once')
})

timed('libtorrent put {ih} with salt → bittorrent-dht get verifies it', () => ltPutThenDhtGet(Buffer.from('btweb-selftest')))
timed('libtorrent put {ih} without salt → bittorrent-dht get verifies it', () => ltPutThenDhtGet(Buffer.alloc(0)))
timed('bittorrent-dht put {ih} with salt → libtorrent get', () => dhtPutThenLtGet(Buffer.from('btweb-selftest')))
timed('bittorrent-dht put {ih} without salt → libtorrent get', () => dhtPutThenLtGet(Buffer.alloc(0)))

timed('libtorrent get of an unknown key → null', async () => {
  const net = await startNet()
  assert.is(await ltGet({ nodes: [net.addrs[0]], publicKeyHex: hex(crypto.randomBytes(32)) }), null)
})

timed('startLtNode: a libtorrent node inside the bittorrent-dht network relays lookups', async () => {
  const net = await startNet()
  const lt1 = await startLtNode({ nodes: net.addrs.slice(0, 2) })
  later(() => lt1.close())
  const lt2 = await startLtNode({ nodes: [{ host: '127.0.0.1', port: lt1.port }] })
  later(() => lt2.close())
  assert.ok(lt1.port > 0 && lt2.port > 0 && lt1.port !== lt2.port)

  const seed = crypto.randomBytes(32)
  const ih = crypto.randomBytes(20)
  await dhtPut(net.nodes[5], { seed, salt: Buffer.alloc(0), seq: 1, ih })
  // enter the network only through the libtorrent node
  const got = await ltGet({ nodes: [{ host: '127.0.0.1', port: lt2.port }], publicKeyHex: hex(ed.getPublicKey(seed)) })
  assert.is(got?.infohash, hex(ih))
  // and a bittorrent-dht node that only knows the libtorrent node finds it too
  const lone = new DHT({ bootstrap: false, host: '127.0.0.1', verify, timeout: 500 })
  later(() => new Promise<void>(resolve => lone.destroy(() => resolve())))
  await new Promise<void>(resolve => lone.listen(0, '127.0.0.1', resolve))
  lone.addNode({ host: '127.0.0.1', port: lt1.port })
  const deadline = Date.now() + 3000
  while (lone.nodes.count() === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  const res = await dhtGet(lone, sha1(ed.getPublicKey(seed)))
  assert.is(hex((res?.v as { ih: Uint8Array }).ih), hex(ih))

  await lt1.close()
  await lt1.close() // idempotent
})

timed('libtorrent seeds a torrent → webtorrent downloads identical bytes (TCP, loopback)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'btweb-interop-'))
  later(() => rm(dir, { recursive: true, force: true }))
  const site = path.join(dir, 'seed', 'site')
  await mkdir(site, { recursive: true })
  const files: Record<string, Buffer> = {
    'index.html': Buffer.from('<!doctype html><title>interop</title><h1>hello from libtorrent</h1>\n'),
    'data.bin': crypto.randomBytes(2 * 1024 * 1024 + 12345)
  }
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(site, name), data)
  const torrent = await new Promise<Uint8Array>((resolve, reject) => {
    createTorrent(site, { announceList: [], urlList: [], createdBy: 'btweb interop-selftest' }, (err, t) => { if (err) reject(err); else resolve(t) })
  })
  const torrentFile = path.join(dir, 'site.torrent')
  await writeFile(torrentFile, torrent)

  const seeder = await startLtSeeder({ torrentFile, savePath: path.join(dir, 'seed') })
  later(() => seeder.close())
  assert.ok(seeder.port > 0)
  assert.match(seeder.infohash, /^[0-9a-f]{40}$/)

  const client = new WebTorrent({ dht: false, tracker: false, lsd: false, utp: false, natUpnp: false, natPmp: false, webSeeds: false })
  later(() => new Promise<void>(resolve => client.destroy(() => resolve())))
  client.on('error', err => console.error('webtorrent:', err))
  const dl = path.join(dir, 'wt')
  const t = client.add(torrent, { path: dl })
  const addSeeder = (): void => { t.addPeer(`127.0.0.1:${seeder.port}`) }
  if (t.infoHash) addSeeder(); else t.once('infoHash', addSeeder)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webtorrent download timed out (progress ${t.progress})`)), 20_000)
    t.once('done', () => { clearTimeout(timer); resolve() })
    t.once('error', (err: Error) => { clearTimeout(timer); reject(err) })
  })
  assert.is(t.infoHash, seeder.infohash)
  for (const [name, data] of Object.entries(files)) {
    assert.ok((await readFile(path.join(dl, 'site', name))).equals(data), `${name} identical`)
  }

  // the reference downloader (lt_seed.py --download) from the same seeder, by infohash (ut_metadata)
  const ref = path.join(dir, 'lt')
  const { ms } = await ltDownload({ torrent: seeder.infohash, peer: { host: '127.0.0.1', port: seeder.port }, savePath: ref, timeoutMs: 20_000 })
  assert.ok(ms >= 0)
  for (const [name, data] of Object.entries(files)) {
    assert.ok((await readFile(path.join(ref, 'site', name))).equals(data), `${name} identical (libtorrent → libtorrent)`)
  }

  await seeder.close()
})

timed('startLtSeeder rejects data that does not match the torrent, with stderr', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'btweb-interop-'))
  later(() => rm(dir, { recursive: true, force: true }))
  const site = path.join(dir, 'site')
  await mkdir(site)
  await writeFile(path.join(site, 'a.txt'), 'original')
  const torrent = await new Promise<Uint8Array>((resolve, reject) => {
    createTorrent(site, { announceList: [], urlList: [] }, (err, t) => { if (err) reject(err); else resolve(t) })
  })
  await writeFile(path.join(dir, 't.torrent'), torrent)
  await writeFile(path.join(site, 'a.txt'), 'changed!')
  try {
    const s = await startLtSeeder({ torrentFile: path.join(dir, 't.torrent'), savePath: dir })
    await s.close()
    assert.unreachable('should have rejected')
  } catch (err) {
    assert.instance(err, Error)
    assert.match((err as Error).message, /does not match/)
    assert.match((err as Error).message, /stderr/)
  }
})

test.run()
