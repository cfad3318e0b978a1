/** The CLI as a user runs it: a separate process against a private loopback DHT. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { KeyStore } from '../src/keys.js'
import { PointerStore } from '../src/pointer-store.js'
import { putPointer } from '../src/publisher.js'
import { Resolver } from '../src/resolver.js'
import { toHex } from '../src/hex.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { tempDir } from './helpers/tmp.js'
import { runCli } from './helpers/cli.js'

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
test.before(async () => { net = await startDhtNet(8); tmp = await tempDir() })
test.after(async () => { await net.close(); await tmp.cleanup() })

const ih = (s: string) => new Uint8Array(createHash('sha1').update(s).digest())

test('resolve prints the pointer another process published, then its update', async () => {
  const dht = await net.client()
  const store = new PointerStore(path.join(tmp.dir, 'pub', 'pointers'))
  const deps = { dht, store, resolver: new Resolver({ dht, store }) }
  const { key } = await new KeyStore(path.join(tmp.dir, 'pub', 'keys')).loadOrCreate('site')
  await putPointer(deps, key, ih('one'))
  const args = ['resolve', `btpk://${toHex(key.publicKey)}/`, '--bootstrap', net.bootstrap.join(','), '--bind', '127.0.0.1', '--data-dir', path.join(tmp.dir, 'visitor')]
  const r1 = await runCli(args)
  assert.is(r1.code, 0, r1.stderr)
  assert.equal(JSON.parse(r1.stdout), { publicKey: toHex(key.publicKey), salt: '', seq: 0, infohash: toHex(ih('one')) })
  await putPointer(deps, key, ih('two'), { salt: new TextEncoder().encode('blog') })
  const salted = await runCli(['resolve', `magnet:?xs=urn:btpk:${toHex(key.publicKey)}&s=${toHex(new TextEncoder().encode('blog'))}`, ...args.slice(2)])
  assert.is(salted.code, 0, salted.stderr)
  assert.is(JSON.parse(salted.stdout).infohash, toHex(ih('two')))
  assert.is(JSON.parse(salted.stdout).salt, toHex(new TextEncoder().encode('blog')))
})

test('resolve: unknown key exits 3 in bounded time; bad address exits 2; both one line', async () => {
  const unknown = await runCli(['resolve', 'btpk://' + 'ab'.repeat(32), '--bootstrap', net.bootstrap.join(','), '--bind', '127.0.0.1', '--data-dir', path.join(tmp.dir, 'v2'), '--timeout', '8000'])
  assert.is(unknown.code, 3)
  assert.match(unknown.stderr, /No site with key/)
  assert.is(unknown.stderr.trim().split('\n').length, 1)
  assert.ok(unknown.ms < 9000)
  const bad = await runCli(['resolve', 'btpk://not-a-key/'])
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /^btweb: .*key/)
  const badBoot = await runCli(['resolve', 'btpk://' + 'ab'.repeat(32), '--bootstrap', 'nonsense'])
  assert.is(badBoot.code, 2)
})

test('keygen never overwrites; keys list / export / import; corrupt and loose key files are errors', async () => {
  const dd = ['--data-dir', path.join(tmp.dir, 'k')]
  const made = await runCli(['keygen', 'alice', ...dd])
  assert.is(made.code, 0, made.stderr)
  const file = path.join(tmp.dir, 'k', 'keys', 'alice.key')
  const before = await readFile(file, 'utf8')
  const again = await runCli(['keygen', 'alice', ...dd])
  assert.is(again.code, 5)
  assert.is(await readFile(file, 'utf8'), before)
  const exported = await runCli(['keys', 'export', 'alice', ...dd])
  assert.is(exported.code, 0)
  assert.match(exported.stderr, /WARNING/)
  const imported = await runCli(['keys', 'import', 'bob', '-', ...dd], { input: exported.stdout })
  assert.is(imported.code, 0, imported.stderr)
  const clash = await runCli(['keys', 'import', 'alice', '-', ...dd], { input: exported.stdout })
  assert.is(clash.code, 5)
  assert.is(await readFile(file, 'utf8'), before)
  const list = await runCli(['keys', ...dd])
  const pk = JSON.parse(exported.stdout).publicKey
  assert.match(list.stdout, new RegExp(`alice\\tbtpk://${pk}/`))
  assert.match(list.stdout, new RegExp(`bob\\tbtpk://${pk}/`))
  await chmod(file, 0o644)
  const loose = await new KeyStore(path.join(tmp.dir, 'k', 'keys')).load('alice').catch(e => e)
  assert.is(loose.code, 'KEY_ERROR')
  await writeFile(path.join(tmp.dir, 'k', 'keys', 'carol.key'), 'garbage', { mode: 0o600 })
  const corrupt = await new KeyStore(path.join(tmp.dir, 'k', 'keys')).loadOrCreate('carol').catch(e => e)
  assert.is(corrupt.code, 'KEY_ERROR')
  assert.is(await readFile(path.join(tmp.dir, 'k', 'keys', 'carol.key'), 'utf8'), 'garbage')
})

test('--help, --version and unknown commands', async () => {
  const help = await runCli(['--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /btpk:\/\//)
  const v = await runCli(['--version'])
  assert.match(v.stdout, /^\d+\.\d+\.\d+/)
  const unknownFlag = await runCli(['resolve', '--frobnicate'])
  assert.is(unknownFlag.code, 2)
})

test.run()
