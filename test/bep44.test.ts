import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { signedBuffer, mutableTarget, immutableTarget, verifyItem, signItem, parseSignedBuffer, encodePointerValue, decodePointerValue, MAX_VALUE_BYTES } from '../src/bep44.js'
import { newSeed, publicKeyOf } from '../src/ed25519.js'
import { BtwebError } from '../src/errors.js'
import { fromHex, toHex } from '../src/hex.js'
import v44 from './vectors/bep44.json' with { type: 'json' }
import v46 from './vectors/bep46.json' with { type: 'json' }

const te = new TextEncoder()
const h = (s: string) => fromHex(s)!

function errCode (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (e) { return (e as BtwebError).code }
}

test('BEP 44 vectors: signed buffer, target and signature', () => {
  for (const v of v44.mutable) {
    const salt = te.encode(v.salt)
    const value = te.encode(v.value_bencoded)
    assert.is(new TextDecoder().decode(signedBuffer(salt, v.seq, value)), v.signed_buffer, v.name)
    assert.is(toHex(mutableTarget(h(v.public_key), salt)), v.target, v.name)
    verifyItem({ publicKey: h(v.public_key), salt, seq: v.seq, value, signature: h(v.signature) })
    const parsed = parseSignedBuffer(signedBuffer(salt, v.seq, value), salt)
    assert.is(parsed?.seq, v.seq)
    assert.is(new TextDecoder().decode(parsed!.value), v.value_bencoded)
  }
  for (const v of v44.immutable) assert.is(toHex(immutableTarget(te.encode(v.value_bencoded))), v.target)
})

test('BEP 46 vectors: targets', () => {
  for (const v of v46.vectors) assert.is(toHex(mutableTarget(h(v.public_key), h(v.salt_hex))), v.target, v.name)
})

test('tampering with any field breaks verification', () => {
  const v = v44.mutable[1]
  const good = { publicKey: h(v.public_key), salt: te.encode(v.salt), seq: v.seq, value: te.encode(v.value_bencoded), signature: h(v.signature) }
  const cases = [
    { ...good, seq: 2 },
    { ...good, salt: te.encode('foobaz') },
    { ...good, salt: new Uint8Array(0) },
    { ...good, value: te.encode('12:Hello World?') },
    { ...good, signature: good.signature.map((b, i) => i === 5 ? b ^ 1 : b) },
    { ...good, publicKey: publicKeyOf(newSeed()) }
  ]
  for (const c of cases) assert.is(errCode(() => verifyItem(c)), 'BAD_ITEM')
})

test('sign then verify; pointer value {ih}; limits', () => {
  const seed = newSeed()
  const pk = publicKeyOf(seed)
  const ih = new Uint8Array(20).fill(7)
  const item = signItem(seed, pk, te.encode('blog'), 3, encodePointerValue(ih))
  verifyItem(item)
  assert.equal(decodePointerValue(item.value), ih)
  assert.is(errCode(() => signItem(seed, pk, new Uint8Array(65), 1, encodePointerValue(ih))), 'BAD_ARGUMENT')
  assert.is(errCode(() => signItem(seed, pk, new Uint8Array(0), 1, new Uint8Array(MAX_VALUE_BYTES + 1))), 'BAD_ITEM')
  assert.is(errCode(() => signItem(seed, pk, new Uint8Array(0), -1, encodePointerValue(ih))), 'BAD_ITEM')
  for (const bad of ['12:Hello World!', 'd2:ih3:abce', 'de', 'i1e', 'd2:ih20:', 'd2:ihi5ee', 'd1:a1:b2:ih20:aaaaaaaaaaaaaaaaaaaae'.replace('d1:a1:b', 'd1:z1:b')]) {
    assert.is(errCode(() => decodePointerValue(te.encode(bad))), 'BAD_ITEM', bad)
  }
})

test('fuzz: the verifier and value decoder never throw anything but BAD_ITEM', () => {
  const seed = newSeed()
  const pk = publicKeyOf(seed)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1200 }), fc.uint8Array({ maxLength: 70 }), fc.integer({ min: 0, max: 2 ** 40 }), (value, salt, seq) => {
    const c = errCode(() => decodePointerValue(value))
    assert.ok(c === undefined || c === 'BAD_ITEM')
    const sig = new Uint8Array(64).map(() => Math.floor(Math.random() * 256))
    const r = errCode(() => verifyItem({ publicKey: pk, salt, seq, value, signature: sig }))
    assert.ok(r === 'BAD_ITEM' || r === 'BAD_ARGUMENT')
    assert.is(parseSignedBuffer(value, salt) === null || typeof parseSignedBuffer(value, salt)!.seq === 'number', true)
  }), { numRuns: 2000 })
})

test.run()
