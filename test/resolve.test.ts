/** Publish and resolve BEP 46 pointers on a private loopback DHT of 8 bittorrent-dht nodes. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { signItem, encodePointerValue, signedBuffer, mutableTarget } from '../src/bep44.js'
import { newSeed, publicKeyOf, sign } from '../src/ed25519.js'
import { BtwebError } from '../src/errors.js'
import { toHex } from '../src/hex.js'
import { KeyStore } from '../src/keys.js'
import { PointerStore, type Pointer } from '../src/pointer-store.js'
import { putItem, putPointer, Republisher } from '../src/publisher.js'
import { Resolver } from '../src/resolver.js'
import type { Dht } from '../src/dht.js'
import bencode from 'bencode'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { tempDir } from './helpers/tmp.js'

const ih = (s: string) => new Uint8Array(createHash('sha1').update(s).digest())
const none = new Uint8Array(0)

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
test.before(async () => {
  net = await startDhtNet(8)
  tmp = await tempDir()
})
test.after(async () => {
  await net.close()
  await tmp.cleanup()
})

async function side (name: string) {
  const dht = await net.client()
  const store = new PointerStore(path.join(tmp.dir, name, 'pointers'))
  const resolver = new Resolver({ dht, store, lookupTimeoutMs: 5000 })
  return { dht, store, resolver, keys: new KeyStore(path.join(tmp.dir, name, 'keys')) }
}

async function rejects (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { return (err as BtwebError).code }
  throw new Error('expected a rejection')
}

test('publish, resolve from a fresh node, update to seq 2, resolve again (unsalted and salted)', async () => {
  const pub = await side('pub1')
  const { key } = await pub.keys.loadOrCreate('me')
  for (const salt of [none, new TextEncoder().encode('blog')]) {
    const r1 = await putPointer(pub, key, ih('v1'), { salt })
    assert.is(r1.pointer.seq, 0)
    assert.ok(r1.stored >= 1)
    const visitor = await side('visitor-' + salt.length)
    const t0 = Date.now()
    const got = await visitor.resolver.resolve({ publicKey: key.publicKey, salt })
    assert.is(toHex(got.infohash), toHex(ih('v1')))
    assert.is(got.seq, 0)
    assert.is(got.stale, false)
    assert.ok(Date.now() - t0 < 4000)
    const r2 = await putPointer(pub, key, ih('v2'), { salt })
    assert.is(r2.pointer.seq, 1)
    const again = await (await side('visitor2-' + salt.length)).resolver.resolve({ publicKey: key.publicKey, salt })
    assert.is(again.seq, 1)
    assert.is(toHex(again.infohash), toHex(ih('v2')))
    // The first visitor sees the update too (and stores it).
    const updated = await visitor.resolver.resolve({ publicKey: key.publicKey, salt })
    assert.is(updated.seq, 1)
    assert.is((await visitor.store.get(key.publicKey, salt))?.seq, 1)
  }
})

test('the wrong salt finds nothing; an unknown key is NO_SUCH_SITE in bounded time', async () => {
  const pub = await side('pub2')
  const { key } = await pub.keys.loadOrCreate('me')
  await putPointer(pub, key, ih('salted'), { salt: new TextEncoder().encode('a') })
  const visitor = await side('visitor3')
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: key.publicKey, salt: new TextEncoder().encode('b') })), 'NO_SUCH_SITE')
  const t0 = Date.now()
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: publicKeyOf(newSeed()), salt: none })), 'NO_SUCH_SITE')
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`)
})

/** Put raw, possibly invalid items straight into every node's store, as a hostile publisher could. */
function plant (nodes: Dht[], item: { k: Uint8Array, salt?: Uint8Array, seq: number, v: unknown, sig: Uint8Array }) {
  const target = toHex(mutableTarget(item.k, item.salt ?? none))
  for (const node of nodes) {
    const values = (node as unknown as { _values: { set (k: string, v: unknown): void } })._values
    values.set(target, { v: item.v, k: Buffer.from(item.k), salt: item.salt ? Buffer.from(item.salt) : undefined, sig: Buffer.from(item.sig), seq: item.seq, id: node.nodeId })
  }
}

test('forged signatures, oversized values and non-pointer values are rejected', async () => {
  const seed = newSeed()
  const k = publicKeyOf(seed)
  const forged = new Uint8Array(64).fill(1)
  plant(net.nodes, { k, seq: 5, v: { ih: Buffer.from(ih('forged')) }, sig: forged })
  const visitor = await side('visitor4')
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: k, salt: none })), 'NO_SUCH_SITE')

  const seed2 = newSeed()
  const k2 = publicKeyOf(seed2)
  const big = { ih: Buffer.from(ih('x')), pad: Buffer.alloc(1100) }
  const bigEncoded = new Uint8Array(bencode.encode(big))
  plant(net.nodes, { k: k2, seq: 1, v: big, sig: sign(signedBuffer(none, 1, bigEncoded), seed2) })
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: k2, salt: none })), 'NO_SUCH_SITE')

  const seed3 = newSeed()
  const k3 = publicKeyOf(seed3)
  const notPointer = new Uint8Array(bencode.encode('hello'))
  plant(net.nodes, { k: k3, seq: 1, v: Buffer.from('hello'), sig: sign(signedBuffer(none, 1, notPointer), seed3) })
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: k3, salt: none })), 'NO_SUCH_SITE')
})

test('a replayed lower seq never replaces a verified higher one', async () => {
  const seed = newSeed()
  const k = publicKeyOf(seed)
  const item = (seq: number, name: string) => signItem(seed, k, none, seq, encodePointerValue(ih(name)))
  const v7 = item(7, 'seven')
  plant(net.nodes, { k, seq: 7, v: { ih: Buffer.from(ih('seven')) }, sig: v7.signature })
  const visitor = await side('visitor5')
  assert.is((await visitor.resolver.resolve({ publicKey: k, salt: none })).seq, 7)
  // Every node now serves a validly signed but OLDER pointer (a replay).
  const v3 = item(3, 'three')
  plant(net.nodes, { k, seq: 3, v: { ih: Buffer.from(ih('three')) }, sig: v3.signature })
  const again = await visitor.resolver.resolve({ publicKey: k, salt: none })
  assert.is(again.seq, 7)
  assert.is(toHex(again.infohash), toHex(ih('seven')))
  // A new resolver on the same data dir (restart) still refuses to go back.
  const restarted = new Resolver({ dht: visitor.dht, store: new PointerStore(path.join(tmp.dir, 'visitor5', 'pointers')), lookupTimeoutMs: 5000 })
  assert.is((await restarted.resolve({ publicKey: k, salt: none })).seq, 7)
})

test('the publisher continues at the next seq after a restart and republishes', async () => {
  const a = await side('pub3')
  const { key } = await a.keys.loadOrCreate('me')
  await putPointer(a, key, ih('a'))
  await putPointer(a, key, ih('b'))
  const restarted = await side('pub3') // same data dir, new DHT node
  const r = await putPointer(restarted, key, ih('c'))
  assert.is(r.pointer.seq, 2)
  // Same content again: no new seq, the item is re-put.
  const same = await putPointer(restarted, key, ih('c'))
  assert.is(same.pointer.seq, 2)
  const rep = new Republisher({ dht: restarted.dht, store: restarted.store, intervalMs: 100 })
  rep.add({ publicKey: key.publicKey, salt: none })
  await new Promise(resolve => setTimeout(resolve, 350))
  rep.close()
  assert.ok(rep.republished >= 2)
  const v = await (await side('visitor6')).resolver.resolve({ publicKey: key.publicKey, salt: none })
  assert.is(v.seq, 2)
})

test('abort signal ends a resolve with ABORTED / TIMEOUT', async () => {
  const visitor = await side('visitor7')
  const ctl = new AbortController()
  const p = visitor.resolver.resolve({ publicKey: publicKeyOf(newSeed()), salt: none }, { signal: ctl.signal })
  ctl.abort()
  assert.is(await rejects(p), 'ABORTED')
  assert.is(await rejects(visitor.resolver.resolve({ publicKey: publicKeyOf(newSeed()), salt: none }, { signal: AbortSignal.timeout(1) })), 'TIMEOUT')
})

test.run()
