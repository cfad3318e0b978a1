/**
 * Hostile DHT nodes, hostile peers, hostile torrents and hostile sites, on 127.0.0.1.
 *
 *  - DHT nodes that sit next to a site's target and answer every BEP 44 get with a lie (forged
 *    signature, old seq, another salt's signature, oversized value, another key, not a pointer,
 *    garbage KRPC): a fresh resolver never accepts a lie, and finds the honest value as soon as
 *    one honest node is reachable.
 *  - Malformed KRPC queries sent to the engine's own DHT node: the engine keeps running.
 *  - A peer that sends corrupt pieces: webtorrent rejects them, the file completes byte-exact from
 *    an honest peer, and the cache holds only verified data.
 *  - Torrents whose file names try to escape (../, absolute paths, NUL, 300-character names):
 *    nothing is written outside the torrent's cache folder, and the gateway serves only the
 *    torrent's own bytes.
 *  - A site origin cannot reach btweb's API or shell through the gateway.
 */
import { walk } from './helpers/walk.js'
import { test as uvuTest } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import bencode from 'bencode'
import { encodePointerValue, signItem } from '../src/bep44.js'
import { createDht, destroyDht, type Dht } from '../src/dht.js'
import { newSeed, publicKeyOf } from '../src/ed25519.js'
import { Engine } from '../src/engine.js'
import { BtwebError } from '../src/errors.js'
import { toHex, fromHex } from '../src/hex.js'
import { PointerStore, pointerFromItem, type Pointer } from '../src/pointer-store.js'
import { putItem } from '../src/publisher.js'
import { Resolver } from '../src/resolver.js'
import { TOKEN_HEADER } from '../src/gateway/shell.js'
import { request, type HttpResult } from './helpers/http.js'
import { malformedQueries, startHostileNode, type HostileNode, type Lie, type Site } from './helpers/hostile-dht.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { craftTorrent, startRawPeer, type RawPeer } from './helpers/raw-peer.js'
import { tempDir } from './helpers/tmp.js'

const none = new Uint8Array(0)
/** uvu's test, printing how long each one took. */
const test = Object.assign((name: string, fn: () => Promise<void>) => {
  uvuTest(name, async () => { const t0 = Date.now(); try { await fn() } finally { console.log(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${name.slice(0, 60)}`) } })
}, { before: uvuTest.before, after: uvuTest.after, run: uvuTest.run })
const sha1 = (s: string) => new Uint8Array(createHash('sha1').update(s).digest())
const HONEST_SEQ = 5
const HONEST_IH = sha1('honest')

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
const sites: Site[] = []
const closers: Array<() => Promise<unknown>> = []
const counts = { lies: 0, resolves: 0, lateHonest: 0, malformed: 0, corruptBlocks: 0, traversalNames: 0 }

test.before(async () => {
  tmp = await tempDir('btweb-hostile-')
  net = await startDhtNet(4)
  const publisher = await net.client()
  for (const salt of [none, new TextEncoder().encode('blog')]) {
    const seed = newSeed()
    const site = { seed, publicKey: publicKeyOf(seed), salt }
    const pointer = pointerFromItem(signItem(seed, site.publicKey, salt, HONEST_SEQ, encodePointerValue(HONEST_IH)))
    assert.ok(await putItem(publisher, pointer) >= 1)
    sites.push(site)
  }
})

test.after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  await net?.close()
  await tmp?.cleanup()
  console.log(`  COUNTS hostile: lies rejected ${counts.lies} over ${counts.resolves} resolves (honest seq as a later update: ${counts.lateHonest}); malformed queries survived ${counts.malformed}; corrupt blocks rejected ${counts.corruptBlocks}; traversal names ${counts.traversalNames}`)
})

const latin1 = (b: unknown) => b instanceof Uint8Array ? Buffer.from(b).toString('latin1') : ''

async function code (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { return (err as BtwebError).code }
  return 'resolved'
}

/** A visitor that knows only `bootstrap` (a fresh machine: empty pointer store unless `store` given). */
async function visitor (bootstrap: string[], store?: PointerStore): Promise<{ dht: Dht, resolver: Resolver, store: PointerStore }> {
  const dht = await createDht({ bootstrap, host: '127.0.0.1', queryTimeoutMs: 300 })
  closers.push(() => destroyDht(dht))
  await new Promise<void>(resolve => { if (dht.ready) resolve(); else dht.once('ready', () => resolve()) })
  store ??= new PointerStore(path.join(tmp.dir, 'v-' + randomBytes(4).toString('hex')))
  return { dht, store, resolver: new Resolver({ dht, store, lookupTimeoutMs: 3000 }) }
}

const LIES: Lie[] = ['forged-signature', 'other-salt', 'oversized', 'wrong-key', 'not-a-pointer', 'short-infohash', 'garbage']

test('a lying node alone: its answer is never accepted (NO_SUCH_SITE), for every kind of lie', async () => {
  for (const site of sites) {
    for (const kind of LIES) {
      const liar = await startHostileNode(kind, site)
      closers.push(() => liar.close())
      const v = await visitor([`127.0.0.1:${liar.port}`])
      assert.is(await code(v.resolver.resolve(site)), 'NO_SUCH_SITE', kind)
      assert.ok(liar.stats.gets >= 1, `${kind}: the liar was never asked`)
      assert.is(await v.store.get(site.publicKey, site.salt), null, `${kind}: something was stored`)
      counts.lies += liar.stats.lies
      counts.resolves++
    }
  }
})

test('a replayed old pointer: accepted only as what it is (seq 1), never over a known higher seq', async () => {
  const site = sites[0]
  const liar = await startHostileNode('lower-seq', site)
  closers.push(() => liar.close())
  const fresh = await visitor([`127.0.0.1:${liar.port}`])
  assert.is((await fresh.resolver.resolve(site)).seq, 1) // validly signed: all a fresh visitor can know
  // A visitor that once saw seq 5 (the store on disk) keeps it.
  const knowing = await visitor([net.bootstrap[0]])
  assert.is((await knowing.resolver.resolve(site)).seq, HONEST_SEQ)
  const misled = await visitor([`127.0.0.1:${liar.port}`], knowing.store)
  const r = await misled.resolver.resolve(site)
  assert.is(r.seq, HONEST_SEQ)
  assert.is(toHex(r.infohash), toHex(HONEST_IH))
  assert.is((await knowing.store.get(site.publicKey, site.salt))?.seq, HONEST_SEQ)
  counts.lies += liar.stats.lies
  counts.resolves += 2
})

test('eight liars closest to the target and one honest node: the honest value wins, every time', async () => {
  const ROUNDS = 3
  for (const site of sites) {
    const liars: HostileNode[] = []
    for (const kind of [...LIES, 'lower-seq' as Lie]) {
      const liar = await startHostileNode(kind, site)
      closers.push(() => liar.close())
      liars.push(liar)
    }
    const honest = { host: '127.0.0.1', port: net.nodes[0].address().port, id: new Uint8Array(Buffer.from(net.nodes[0].nodeId as unknown as Uint8Array)) }
    // Each liar points at the other liars and at the one honest node; the visitor knows only liars.
    for (const liar of liars) liar.refer = [...liars.filter(l => l !== liar).map(l => l.ref()), honest]
    for (let round = 0; round < ROUNDS; round++) {
      const v = await visitor(liars.map(l => `127.0.0.1:${l.port}`))
      const updated = new Promise<Pointer>((resolve, reject) => {
        v.resolver.once('update', resolve)
        setTimeout(() => reject(new Error('no update to the honest seq')), 5000).unref()
      })
      updated.catch(() => {})
      const r = await v.resolver.resolve(site)
      assert.is(r.stale, false)
      // The resolver answers 150 ms after the first valid reply. A fresh visitor cannot tell a
      // validly signed replay (seq 1) from the newest pointer; when the replay's node answers
      // well before the honest one (which only liars refer to), the answer is the replay and
      // the honest seq follows as an 'update' once the lookup reaches it. Nothing else is accepted.
      const newest = r.seq === HONEST_SEQ ? r : await updated
      if (r.seq !== HONEST_SEQ) { assert.is(r.seq, 1); counts.lateHonest++ }
      assert.is(newest.seq, HONEST_SEQ)
      assert.is(toHex(newest.infohash), toHex(HONEST_IH))
      counts.resolves++
    }
    for (const liar of liars) assert.ok(liar.stats.gets >= ROUNDS, `a liar was asked only ${liar.stats.gets} times`)
    counts.lies += liars.reduce((n, l) => n + l.stats.lies, 0)
  }
})

// --- the engine with a gateway, for the rest ---

let engine: Engine
let port: number
/** A site the engine holds whole in its cache (set by the corrupt-peer test), for the API test. */
let cachedSite = ''
const engineDir = () => path.join(tmp.dir, 'engine')

async function openEngine (): Promise<Engine> {
  const e = await Engine.open({ dataDir: engineDir(), bootstrap: net.bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500, lookupTimeoutMs: 5000, metadataTimeoutMs: 15_000, refreshAfterMs: 300 })
  closers.push(() => e.close())
  return e
}

test('malformed KRPC queries sent to the engine\'s DHT node: it keeps running and answering', async () => {
  engine = await openEngine()
  port = engine.gateway!.port
  const target = engine.dht.address().port
  const socket = dgram.createSocket('udp4')
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  const replies: Array<Record<string, unknown>> = []
  socket.on('message', m => { try { replies.push(bencode.decode(m) as Record<string, unknown>) } catch { /* not ours to judge */ } })
  const send = (q: unknown) => new Promise<void>(resolve => socket.send(Buffer.from(bencode.encode(q)), target, '127.0.0.1', () => resolve()))
  const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
  try {
    // A valid get first: its token lets the malformed puts reach the code that used to throw.
    await send({ t: Buffer.from('tk'), y: 'q', q: 'get', a: { id: randomBytes(20), target: randomBytes(20) } })
    await wait(200)
    const token = (replies.find(r => latin1(r.t) === 'tk')?.r as { token?: Buffer } | undefined)?.token
    assert.ok(token, 'the node gave no token')
    for (const q of malformedQueries()) {
      const a = (q as { a?: Record<string, unknown> }).a
      if (a && typeof a === 'object' && 'token' in a) a.token = token
      await send(q)
      counts.malformed++
    }
    await wait(300)
    replies.length = 0
    await send({ t: Buffer.from('pi'), y: 'q', q: 'ping', a: { id: randomBytes(20) } })
    await wait(300)
    assert.ok(replies.some(r => latin1(r.t) === 'pi'), 'the engine\'s DHT node stopped answering')
    assert.is((await engine.resolver.resolve(sites[0])).seq, HONEST_SEQ)
  } finally {
    socket.close()
  }
})

async function streamPeerAdd (ih: string, peer: RawPeer): Promise<void> {
  engine.torrents.addPeer(fromHex(ih)!, `127.0.0.1:${peer.port}`)
}

test('a peer that sends corrupt pieces: rejected; the file completes byte-exact from an honest peer; the cache is clean', async () => {
  const payload = randomBytes(4 * 2 ** 20)
  const t = craftTorrent('corrupt-test', [[['index.html'], Buffer.from('<p>ok</p>')], [['data.bin'], payload]])
  const liar = await startRawPeer(t, { corrupt: () => true })
  const honest = await startRawPeer(t)
  closers.push(() => liar.close(), () => honest.close())
  const host = `${t.infohash}.btih.localhost:${port}`
  await streamPeerAdd(t.infohash, liar)
  const pending = request(port, host, '/data.bin', { timeoutMs: 60_000 })
  // Let the liar deliver a good share of corrupt blocks before anyone honest turns up.
  const until = Date.now() + 10_000
  while (liar.stats.corruptBlocks < 64 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 50))
  assert.ok(liar.stats.corruptBlocks >= 64, `the liar sent only ${liar.stats.corruptBlocks} blocks`)
  await streamPeerAdd(t.infohash, honest)
  const r = await pending
  assert.is(r.status, 200)
  assert.is(r.body.length, payload.length)
  assert.ok(r.body.equals(payload), 'the file is not byte-exact')
  assert.ok(honest.stats.blocks > 0)
  counts.corruptBlocks += liar.stats.corruptBlocks
  console.log(`  corrupt peer: ${liar.stats.corruptBlocks} corrupt blocks rejected, ${honest.stats.blocks} honest blocks, 4 MB byte-exact`)
  // Reopen the engine with both peers gone: the cache alone serves the same bytes (webtorrent re-verifies it on add).
  await liar.close(); await honest.close()
  await engine.close()
  engine = await openEngine()
  port = engine.gateway!.port
  const again = await request(port, `${t.infohash}.btih.localhost:${port}`, '/data.bin', { timeoutMs: 30_000 })
  assert.is(again.status, 200)
  assert.ok(again.body.equals(payload), 'the cached file is not byte-exact')
  cachedSite = t.infohash
})

test('torrents whose names try to escape: nothing is written outside the torrent\'s folder; only its bytes are served', async () => {
  const outside = path.join(tmp.dir, 'outside')
  await fs.mkdir(outside, { recursive: true })
  const absTarget = path.join(outside, 'abs-escape.txt')
  const files: Array<[Array<string | Buffer>, Buffer]> = [
    [['index.html'], Buffer.from('<p>traversal</p>')],
    [['..', '..', '..', '..', 'escape-dotdot.txt'], Buffer.from('dotdot')],
    [[absTarget], Buffer.from('absolute')],
    [['/', 'etc', 'escape-root.txt'], Buffer.from('root')],
    [['sub', '..', '..', '..', 'escape-sub.txt'], Buffer.from('sub')],
    [['..\\..\\escape-backslash.txt'], Buffer.from('backslash')],
    [['ok.txt'], Buffer.from('fine')]
  ]
  const torrents = [
    craftTorrent('site', files),
    craftTorrent('../../../../escape-name', [[['a.txt'], Buffer.from('named')], [['..', 'b.txt'], Buffer.from('bee')]]),
    craftTorrent(absTarget + '-name', [[['c.txt'], Buffer.from('abs name')]]),
    craftTorrent('..', [[['..'], Buffer.from('only dots')], [['d.txt'], Buffer.from('dee')]]),
    // Names the file system refuses: the torrent fails (an error page), it never hangs or escapes.
    craftTorrent('nul', [[['index.html'], Buffer.from('<p>nul</p>')], [['nul\0byte.txt'], Buffer.from('nul')]]),
    craftTorrent('long', [[['index.html'], Buffer.from('<p>long</p>')], [['x'.repeat(300) + '.txt'], Buffer.from('overlong')]]),
    // Invalid UTF-8 that decodes to "\ufffd\ufffd/..": the file's path normalises to the torrent's own folder.
    craftTorrent('badutf8', [[['index.html'], Buffer.from('<p>utf8</p>')], [[Buffer.from([0xff, 0xfe, 0x2f, 0x2e, 0x2e])], Buffer.from('bad utf-8')]])
  ]
  counts.traversalNames += files.length + 8
  const before = new Set(await walk(tmp.dir))
  const contents = new Set(torrents.flatMap(t => [t.data.toString('latin1')]))
  let failed = 0
  const outcomes: string[] = []
  for (const t of torrents) {
    const peer = await startRawPeer(t)
    closers.push(() => peer.close())
    const host = `${t.infohash}.btih.localhost:${port}`
    // Every request ends (a response or a cut connection), none hangs; a torrent that failed is
    // added again on the next request, so the peer is handed over each time.
    const get = async (target: string): Promise<HttpResult | null> => {
      await streamPeerAdd(t.infohash, peer)
      try { return await request(port, host, target, { timeoutMs: 20_000 }) } catch (err) {
        if (/timed out/.test((err as Error).message)) throw err
        failed++
        return null
      }
    }
    const root = await get('/')
    outcomes.push(`${t.infohash.slice(0, 6)}:${root?.status ?? 'cut'}`)
    if (root) assert.ok([200, 404, 500, 504].includes(root.status), `root of ${t.infohash}: ${root.status} ${root.body.toString().slice(0, 300)}`)
    // Ask for every name the listing shows (and the raw hostile ones): only torrent bytes come back.
    const names = [...(root?.body.toString() ?? '').matchAll(/href="\.\/([^"]+)"/g)].map(m => m[1].replace(/&#39;/g, "'").replace(/&amp;/g, '&'))
    const targets = [...names.map(n => '/' + n), '/..%2f..%2fescape-dotdot.txt', '/%2e%2e/%2e%2e/etc/passwd', '/ok.txt', '/escape-dotdot.txt', '/a.txt', '/c.txt', '/d.txt']
    for (const target of targets) {
      const r = await get(target)
      if (!r) continue
      assert.ok([200, 301, 400, 404, 500, 504].includes(r.status), `${target} → ${r.status}`)
      if (r.status === 200 && !String(r.headers['content-type']).startsWith('text/html')) {
        assert.ok([...contents].some(c => c.includes(r.body.toString('latin1'))), `${target} served bytes that are not in the torrent`)
      }
    }
  }
  console.log(`  hostile names: ${torrents.length} torrents (root: ${outcomes.join(' ')}), ${failed} responses cut short by a failing torrent`)
  for (const [i, target, body] of [[0, '/ok.txt', 'fine'], [0, '/escape-dotdot.txt', 'dotdot'], [1, '/a.txt', 'named'], [2, '/c.txt', 'abs name']] as const) {
    const r = await request(port, `${torrents[i].infohash}.btih.localhost:${port}`, target)
    assert.is(r.body.toString(), body, `${i} ${target}`)
  }
  // Give the store time to write whatever it was going to write, then look at the whole tree.
  await new Promise(resolve => setTimeout(resolve, 500))
  const cache = path.join(engineDir(), 'cache')
  const allowed = (p: string) => torrents.some(t => p.startsWith(path.join(cache, 'data', t.infohash) + path.sep)) ||
    p.startsWith(path.join(cache, 'torrents') + path.sep) || p.startsWith(path.join(cache, 'index.json'))
  const created = (await walk(tmp.dir)).filter(p => !before.has(p))
  const stray = created.filter(p => !allowed(p) && !p.startsWith(path.join(tmp.dir, 'v-')) && !p.includes(`${path.sep}pointers${path.sep}`))
  assert.equal(stray, [], 'files written outside the cache')
  assert.not.ok(existsSync(absTarget))
  for (const name of ['escape-dotdot.txt', 'escape-sub.txt', 'escape-name', 'escape-root.txt']) {
    for (const p of await walk(tmp.dir)) if (p.includes(name)) assert.ok(allowed(p), `${p} is outside the torrent's folder`)
  }
  assert.ok(!engine.dht.destroyed, 'the engine survived')
})

test('a site origin cannot reach btweb\'s API or shell; no CORS is ever granted', async () => {
  const siteHost = `${cachedSite || toHex(randomBytes(20))}.btih.localhost:${port}`
  const siteOrigin = `http://${siteHost}`
  const shellHost = `btweb.localhost:${port}`
  const token = engine.shellToken
  const seen: HttpResult[] = []
  const req = async (host: string, target: string, o: { method?: string, headers?: Record<string, string> } = {}) => {
    const r = await request(port, host, target, { timeoutMs: 20_000, ...o })
    seen.push(r)
    return r
  }
  const apis: Array<[string, string]> = [['GET', '/api/events'], ['POST', '/api/title?title=pwned'], ['POST', '/api/open-external?url=https%3A%2F%2Fexample.com%2F'], ['GET', '/api/nope'], ['DELETE', '/api/events']]
  for (const [method, target] of apis) {
    for (const headers of [{ origin: siteOrigin }, { origin: siteOrigin, [TOKEN_HEADER]: 'guess' }, { origin: siteOrigin, [TOKEN_HEADER]: '' }, {}] as Array<Record<string, string>>) {
      for (const host of [shellHost, `127.0.0.1:${port}`, `localhost:${port}`]) {
        const r = await req(host, target, { method, headers })
        assert.is(r.status, 403, `${method} ${host}${target} ${JSON.stringify(headers)} → ${r.status}`)
      }
    }
    // A CORS preflight from a site is never answered with a grant.
    const pre = await req(shellHost, target, { method: 'OPTIONS', headers: { origin: siteOrigin, 'access-control-request-method': method, 'access-control-request-headers': TOKEN_HEADER } })
    assert.ok(pre.status >= 400, `preflight → ${pre.status}`)
    // With a site's Host the request is the site's: the shell is unreachable even with the right token.
    for (const headers of [{}, { [TOKEN_HEADER]: token }] as Array<Record<string, string>>) {
      const r = await req(siteHost, target, { method, headers })
      assert.ok([404, 405].includes(r.status), `${method} site${target} → ${r.status}`)
      assert.not.match(String(r.headers['content-type']), 'event-stream')
    }
  }
  for (const asset of ['/', '/shell.js', '/shell.css']) {
    const r = await req(siteHost, asset)
    assert.ok(asset === '/' ? r.status === 404 || !r.body.toString().includes('shell.js') : r.status === 404, `site ${asset} → ${r.status}`)
  }
  // Positive control: the same API call with the token on the shell's host works.
  const allowed = await request(port, shellHost, '/api/title?title=x', { method: 'POST', headers: { [TOKEN_HEADER]: token } })
  assert.is(allowed.status, 204)
  for (const r of seen) {
    for (const h of Object.keys(r.headers)) assert.not.ok(h.startsWith('access-control-'), `CORS header ${h} granted`)
    assert.not.ok(r.body.toString('latin1').includes(token), 'the API token leaked')
  }
  console.log(`  site origin vs API/shell: ${seen.length} requests refused, no CORS header, no token leaked`)
})

test.run()
