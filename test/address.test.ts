import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { parseAddress, formatAddress, formatMagnet, originHost, parseOriginHost, gatewayUrl, addressFromGatewayUrl, type Address } from '../src/address.js'
import { base32Encode, base32Decode } from '../src/base32.js'
import { BtwebError } from '../src/errors.js'
import { toHex } from '../src/hex.js'
import vectors46 from './vectors/bep46.json' with { type: 'json' }

const KEY = '8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e'
const IH = 'c9e15763f722f23e98a29decdfae341b98d53056'

function code (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) {
    if (err instanceof BtwebError) return err.code
    throw err
  }
}

test('btpk:// with hex key, path, query and fragment', () => {
  const a = parseAddress(`btpk://${KEY}/docs/a%20b.html?x=1#top`)
  assert.is(a.kind, 'mutable')
  if (a.kind !== 'mutable') return
  assert.is(toHex(a.publicKey), KEY)
  assert.is(a.salt.length, 0)
  assert.is(a.path, '/docs/a b.html')
  assert.is(a.query, 'x=1')
  assert.is(a.fragment, 'top')
  assert.is(formatAddress(a), `btpk://${KEY}/docs/a%20b.html?x=1#top`)
})

test('btpk:// with base32 key equals the hex form', () => {
  const b32 = base32Encode(Buffer.from(KEY, 'hex'))
  assert.is(b32.length, 52)
  const a = parseAddress(`btpk://${b32}/`)
  assert.is(formatAddress(a), `btpk://${KEY}/`)
  assert.is(formatAddress(parseAddress(`BTPK://${b32.toUpperCase()}`)), `btpk://${KEY}/`)
})

test('salted btpk:// round-trips, long salts split into labels', () => {
  const a = parseAddress(`btpk://6e.${KEY}/x`)
  assert.is(a.kind === 'mutable' && toHex(a.salt), '6e')
  assert.is(formatAddress(a), `btpk://6e.${KEY}/x`)
  const salt = 'ab'.repeat(64)
  const long = parseAddress(`btpk://${salt}.${KEY}/`)
  const text = formatAddress(long)
  assert.ok(text.split('/')[2].split('.').every(l => l.length <= 64))
  assert.equal(formatAddress(parseAddress(text)), text)
  assert.is(code(() => parseAddress(`btpk://${'ab'.repeat(65)}.${KEY}/`)), 'BAD_ADDRESS')
})

test('BEP 46 magnets (spec vectors) and immutable forms', () => {
  for (const v of vectors46.vectors) {
    const a = parseAddress(v.magnet)
    assert.is(a.kind, 'mutable')
    assert.is(formatMagnet(a), v.magnet)
    if (a.kind === 'mutable') assert.is(toHex(a.salt), v.salt_hex)
  }
  const m = parseAddress(`magnet:?xt=urn:btih:${IH}&dn=site&tr=udp%3A%2F%2Fx`)
  assert.is(formatAddress(m), `bittorrent://${IH}/`)
  assert.is(formatAddress(parseAddress(`bittorrent://${IH.toUpperCase()}/a/b`)), `bittorrent://${IH}/a/b`)
  assert.is(formatAddress(parseAddress(KEY)), `btpk://${KEY}/`)
  assert.is(formatAddress(parseAddress(IH + '/index.html')), `bittorrent://${IH}/index.html`)
})

test('paths are normalised; . removed; trailing slash kept', () => {
  assert.is(parseAddress(`btpk://${KEY}/a/./b//c/`).path, '/a/b/c/')
  assert.is(parseAddress(`btpk://${KEY}`).path, '/')
})

test('malformed addresses give BAD_ADDRESS with a readable message', () => {
  const bad = [
    '', '   ', 'btpk://', `btpk://${KEY.slice(1)}`, `btpk://${KEY.replace('8', 'g')}`, `btpk://${KEY}/../etc/passwd`,
    `btpk://${KEY}/a/%2e%2e/b`, `btpk://${KEY}/%zz`, `btpk://${KEY}/%2F`, `btpk://${KEY}/%00`, `btpk://${KEY}/%ff`,
    `btpk://user@${KEY}/`, `btpk://${KEY}:80/`, 'bittorrent://1234/', 'magnet:?dn=x', 'magnet:?xs=urn:btpk:12',
    'http://example.com/', 'javascript:alert(1)', 'hello world', `btpk://zz.${KEY}/`, `btpk://..${KEY}/`, `btpk://${KEY}/a\u0000b`,
    'x'.repeat(10000)
  ]
  for (const input of bad) {
    let err: unknown
    try { parseAddress(input) } catch (e) { err = e }
    assert.instance(err, BtwebError, `expected an error for ${JSON.stringify(input.slice(0, 80))}`)
    assert.is((err as BtwebError).code, 'BAD_ADDRESS')
    assert.ok((err as Error).message.length > 10 && !/undefined|\[object/.test((err as Error).message))
  }
})

test('origins: one per site, reversible, and only ours parse', () => {
  const a = parseAddress(`btpk://${KEY}/p?q=1`)
  const host = originHost(a)
  assert.ok(host.endsWith('.btpk.localhost'))
  assert.ok(host.split('.').every(l => l.length <= 63))
  assert.is(formatAddress(parseOriginHost(host)!), `btpk://${KEY}/`)
  const salted = parseAddress(`btpk://${'cd'.repeat(64)}.${KEY}/`)
  assert.ok(originHost(salted).split('.').every(l => l.length <= 63))
  assert.is(formatAddress(parseOriginHost(originHost(salted))!), formatAddress(salted))
  const imm = parseAddress(`bittorrent://${IH}/`)
  assert.is(originHost(imm), `${IH}.btih.localhost`)
  assert.is(formatAddress(addressFromGatewayUrl(gatewayUrl(a, 8080))!), `btpk://${KEY}/p?q=1`)
  for (const h of ['btpk.localhost', 'evil.com', `x.${host}`.replace(/^x\./, 'zz.'), 'localhost', `${IH}x.btih.localhost`, '']) {
    assert.is(parseOriginHost(h), null, h)
  }
})

test('base32 round-trip and rejection', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => {
    assert.equal(base32Decode(base32Encode(bytes)), bytes)
  }), { numRuns: 2000 })
  assert.is(base32Decode('a1'), null)
})

test('fuzz: any string either parses or throws BAD_ADDRESS, quickly', () => {
  const prefixes = ['', 'btpk://', 'bittorrent://', 'magnet:?', `btpk://${KEY}/`, `btpk://${KEY}`, 'magnet:?xs=urn:btpk:', `magnet:?xt=urn:btih:`]
  const started = Date.now()
  let parsed = 0
  fc.assert(fc.property(fc.constantFrom(...prefixes), fc.string({ maxLength: 200, unit: 'binary' }), (prefix, rest) => {
    let a: Address
    try { a = parseAddress(prefix + rest) } catch (err) {
      assert.instance(err, BtwebError)
      assert.is((err as BtwebError).code, 'BAD_ADDRESS')
      return
    }
    parsed++
    // Whatever parses formats to something that parses to the same thing, with a safe path.
    const text = formatAddress(a)
    assert.is(formatAddress(parseAddress(text)), text)
    assert.not.ok(a.path.split('/').includes('..'))
    assert.not.ok(a.path.includes('\0'))
  }), { numRuns: 5000 })
  fc.assert(fc.property(fc.string({ maxLength: 100, unit: 'grapheme' }), s => {
    try { parseAddress(`btpk://${KEY}/${s}`) } catch (err) { assert.is((err as BtwebError).code, 'BAD_ADDRESS') }
  }), { numRuns: 3000 })
  assert.ok(Date.now() - started < 20_000)
  assert.ok(parsed > 0)
})

test.run()
