/**
 * btweb against an independent implementation, libtorrent-rasterbar (C++ API through
 * test/interop/lt_dht.cpp): pointers libtorrent puts are resolved by btweb's resolver, and
 * pointers btweb puts (library and `btweb publish`) are read back by libtorrent.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { publicKeyOf, newSeed } from '../src/ed25519.js'
import { toHex } from '../src/hex.js'
import { KeyStore } from '../src/keys.js'
import { PointerStore } from '../src/pointer-store.js'
import { putPointer } from '../src/publisher.js'
import { Resolver } from '../src/resolver.js'
import { ltDhtBinary, ltGet, ltPut } from './helpers/libtorrent.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { tempDir } from './helpers/tmp.js'
import { runCli } from './helpers/cli.js'

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
test.before(async () => { await ltDhtBinary(); net = await startDhtNet(8); tmp = await tempDir() })
test.after(async () => { await net.close(); await tmp.cleanup() })

const ih = (s: string) => createHash('sha1').update(s).digest('hex')
const nodes = () => net.nodes.map(n => ({ host: '127.0.0.1', port: n.address().port }))

async function btwebResolver (name: string) {
  const dht = await net.client()
  const store = new PointerStore(path.join(tmp.dir, name))
  return { dht, store, resolver: new Resolver({ dht, store, lookupTimeoutMs: 8000 }) }
}

test('libtorrent puts a BEP 46 pointer (salted and not); btweb resolves it, and its update', async () => {
  for (const saltText of ['', 'blog']) {
    const seed = newSeed()
    const salt = new TextEncoder().encode(saltText)
    const put = await ltPut({ nodes: nodes(), seedHex: toHex(seed), saltHex: toHex(salt), seq: 4, infohashHex: ih('lt' + saltText) })
    assert.ok(put.stored >= 1)
    assert.is(put.publicKey, toHex(publicKeyOf(seed)))
    const { resolver } = await btwebResolver('r-' + saltText)
    const r = await resolver.resolve({ publicKey: publicKeyOf(seed), salt })
    assert.is(r.seq, 4)
    assert.is(toHex(r.infohash), ih('lt' + saltText))
    await ltPut({ nodes: nodes(), seedHex: toHex(seed), saltHex: toHex(salt), seq: 5, infohashHex: ih('lt2' + saltText) })
    const r2 = await (await btwebResolver('r2-' + saltText)).resolver.resolve({ publicKey: publicKeyOf(seed), salt })
    assert.is(r2.seq, 5)
    assert.is(toHex(r2.infohash), ih('lt2' + saltText))
  }
})

test('btweb puts a pointer; libtorrent reads the same value and seq', async () => {
  const deps = await btwebResolver('pub')
  const { key } = await new KeyStore(path.join(tmp.dir, 'keys')).loadOrCreate('k')
  for (const saltText of ['', 'docs']) {
    const salt = new TextEncoder().encode(saltText)
    await putPointer(deps, key, Buffer.from(ih('a' + saltText), 'hex'), { salt })
    const { pointer } = await putPointer(deps, key, Buffer.from(ih('b' + saltText), 'hex'), { salt })
    const got = await ltGet({ nodes: nodes(), publicKeyHex: toHex(key.publicKey), saltHex: toHex(salt) })
    assert.ok(got)
    assert.is(got!.seq, pointer.seq)
    assert.is(got!.infohash, ih('b' + saltText))
  }
  assert.is(await ltGet({ nodes: nodes(), publicKeyHex: toHex(publicKeyOf(newSeed())) }), null)
})

test('libtorrent reads the pointer `btweb publish` put', async () => {
  const site = path.join(tmp.dir, 'site')
  await mkdir(site)
  await writeFile(path.join(site, 'index.html'), '<h1>interop</h1>')
  const r = await runCli(['publish', site, '--once', '--json', '--salt', 'x', '--data-dir', path.join(tmp.dir, 'cli'), '--bootstrap', net.bootstrap.join(','), '--bind', '127.0.0.1', '--no-utp'])
  assert.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  const key = /btpk:\/\/[0-9a-f]+\.([0-9a-f]{64})\//.exec(out.url)![1]
  const got = await ltGet({ nodes: nodes(), publicKeyHex: key, saltHex: toHex(new TextEncoder().encode('x')) })
  assert.is(got?.seq, out.seq)
  assert.is(got?.infohash, out.infohash)
})

test.run()
