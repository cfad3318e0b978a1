/**
 * The gateway end to end on 127.0.0.1: a private DHT of 8 nodes, a publisher engine seeding a
 * site over TCP, a visitor engine with its gateway. Requests go to 127.0.0.1:<port> with the
 * site's Host header, as a webview or `curl -H Host:` would send them.
 *
 * Peer discovery is the real one: the publisher announces its torrents in the DHT and the
 * visitor looks them up (TorrentStore also takes peers that announce to its own DHT node, and
 * looks up again while it waits). Only the libtorrent seeder, which runs no DHT, is added by hand.
 */
import { test } from 'uvu'
import { bodyOf, fakeSiteEngine } from './helpers/fake-site.js'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { originHost, type Address } from '../src/address.js'
import { Engine } from '../src/engine.js'
import { fromHex, toHex } from '../src/hex.js'
import { newSeed, publicKeyOf } from '../src/ed25519.js'
import { handleSiteRequest, type SiteEngine } from '../src/gateway/site.js'
import { route } from '../src/gateway/dispatch.js'
import { parseRange } from '../src/gateway/http-range.js'
import type { GatewayRequest } from '../src/gateway/types.js'
import type { DirEntry, SiteContent, SiteFile } from '../src/torrents.js'
import { buildSiteTorrent, listSiteFiles } from '../src/site-torrent.js'
import { request } from './helpers/http.js'
import { startLtSeeder } from './helpers/libtorrent.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { startPublisher, type SitePublisher, type Published } from './helpers/seeder.js'
import { tempDir } from './helpers/tmp.js'

const MB = 2 ** 20
const none = new Uint8Array(0)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
let publisher: SitePublisher
let visitor: Engine
let v1: Published
let port: number
let siteHost: string
const big = randomBytes(50 * MB)
const ranged = randomBytes(MB)

function visitorOptions (dataDir: string, bootstrap: string[]) {
  return { dataDir, bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500, lookupTimeoutMs: 5000, metadataTimeoutMs: 5000, refreshAfterMs: 300 }
}

test.before(async () => {
  tmp = await tempDir('btweb-gateway-')
  net = await startDhtNet(8)
  publisher = await startPublisher({ dir: path.join(tmp.dir, 'pub'), bootstrap: net.bootstrap })
  v1 = await publisher.publish({
    'index.html': '<!doctype html><html><head><title>v1</title></head><body><h1>v1</h1></body></html>',
    'style.css': 'body { color: red }',
    'sub/index.html': '<p>sub</p>',
    'docs/a.txt': 'a',
    "docs/a&b'é.txt": 'b', // webtorrent's disk store strips <>:"|?* from names, so a seeded file cannot have them
    'empty.txt': '',
    'big.bin': big,
    'ranged.bin': ranged
  })
  visitor = await Engine.open(visitorOptions(path.join(tmp.dir, 'visitor'), net.bootstrap))
  port = visitor.gateway!.port
  siteHost = `${originHost(siteAddress(publisher.key.publicKey))}:${port}`
})

test.after(async () => {
  await visitor?.close()
  await publisher?.close()
  await net?.close()
  await tmp?.cleanup()
})

function siteAddress (publicKey: Uint8Array): Address {
  return { kind: 'mutable', publicKey, salt: none, path: '/', query: '', fragment: '' }
}

const get = (target: string, headers: Record<string, string> = {}, method = 'GET') => request(port, siteHost, target, { method, headers })

test('index.html through the gateway, cold and warm; security headers', async () => {
  let t0 = Date.now()
  const cold = await get('/')
  const coldMs = Date.now() - t0
  assert.is(cold.status, 200, cold.body.toString())
  assert.match(cold.body.toString(), '<h1>v1</h1>')
  assert.match(String(cold.headers['content-type']), 'text/html')
  assert.is(cold.headers['x-btweb-seq'], '0')
  assert.is(cold.headers['x-btweb-stale'], undefined)
  assert.is(cold.headers['x-content-type-options'], 'nosniff')
  assert.match(String(cold.headers['content-security-policy']), `frame-ancestors 'self' http://btweb.localhost:${port}`)
  assert.is(cold.headers['cache-control'], 'no-cache')
  assert.is(Number(cold.headers['content-length']), cold.body.length)
  t0 = Date.now()
  const warm = await get('/style.css')
  const warmMs = Date.now() - t0
  assert.is(warm.body.toString(), 'body { color: red }')
  assert.match(String(warm.headers['content-type']), 'text/css')
  t0 = Date.now()
  assert.is((await get('/')).status, 200)
  const againMs = Date.now() - t0
  console.log(`  index.html: cold ${coldMs} ms (resolve + metadata + piece); again ${againMs} ms; a new small file of the same site ${warmMs} ms`)
  // Directories: index.html, listing (escaped), redirect without the slash.
  assert.ok((await get('/sub/')).body.toString().endsWith('<p>sub</p>'))
  const redirect = await get('/sub?x=1')
  assert.is(redirect.status, 301)
  assert.is(redirect.headers.location, '/sub/?x=1')
  const listing = await get('/docs/')
  assert.is(listing.status, 200)
  assert.match(listing.body.toString(), 'a&amp;b&#39;é.txt')
  assert.match(listing.body.toString(), 'href="./a%26b&#39;%C3%A9.txt"')
  assert.is((await get('/empty.txt')).body.length, 0)
  const missing = await get('/nope.html')
  assert.is(missing.status, 404)
  assert.is(missing.headers['x-btweb-error'], 'NOT_FOUND')
  assert.is((await get('/', {}, 'POST')).status, 405)
})

test('a 50 MB file streams: the first bytes arrive long before the download completes', async () => {
  let doneAt = 0
  const onProgress = (p: { infohash: string, done: boolean }) => { if (p.infohash === v1.infohash && p.done && !doneAt) doneAt = Date.now() }
  visitor.torrents.on('progress', onProgress)
  try {
    const t0 = Date.now()
    let firstAt = 0
    const hash = createHash('sha256')
    let bytes = 0
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/big.bin', headers: { host: siteHost } }, res => {
        assert.is(res.statusCode, 200)
        assert.is(res.headers['content-length'], String(big.length))
        res.on('data', (c: Buffer) => { if (!firstAt) firstAt = Date.now(); hash.update(c); bytes += c.length })
        res.on('end', resolve)
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
    const endAt = Date.now()
    assert.is(bytes, big.length)
    assert.is(hash.digest('hex'), sha(big))
    const first = firstAt - t0
    const total = endAt - t0
    console.log(`  50 MB: first byte after ${first} ms, complete after ${total} ms`)
    assert.ok(first < total / 2, `first byte ${first} ms vs complete ${total} ms`)
    assert.ok(!doneAt || firstAt < doneAt, 'the first bytes came after the torrent was complete')
  } finally {
    visitor.torrents.off('progress', onProgress)
  }
})

test('range requests are byte-exact; HEAD; bad ranges are 416', async () => {
  const cases: Array<[string, number, number]> = [
    ['bytes=0-0', 0, 0], ['bytes=0-99', 0, 99], ['bytes=100-', 100, MB - 1], ['bytes=-500', MB - 500, MB - 1],
    ['bytes=65530-65545', 65530, 65545], ['bytes=1048575-1048575', MB - 1, MB - 1], ['bytes=1000-999999999', 1000, MB - 1]
  ]
  for (const [range, start, end] of cases) {
    const r = await get('/ranged.bin', { range })
    assert.is(r.status, 206, range)
    assert.is(r.headers['content-range'], `bytes ${start}-${end}/${MB}`)
    assert.is(r.body.length, end - start + 1, range)
    assert.ok(r.body.equals(ranged.subarray(start, end + 1)), `bytes differ for ${range}`)
  }
  const multi = await get('/ranged.bin', { range: 'bytes=0-1,5-6' })
  assert.is(multi.status, 200)
  assert.ok(multi.body.equals(ranged))
  for (const range of ['bytes=2000000-', 'bytes=abc', 'bytes=5-1']) {
    const r = await get('/ranged.bin', { range })
    assert.is(r.status, 416, range)
    assert.is(r.headers['content-range'], `bytes */${MB}`)
  }
  const head = await get('/ranged.bin', {}, 'HEAD')
  assert.is(head.status, 200)
  assert.is(head.headers['content-length'], String(MB))
  assert.is(head.headers['accept-ranges'], 'bytes')
  assert.is(head.body.length, 0)
  const headPage = await get('/', {}, 'HEAD')
  assert.is(Number(headPage.headers['content-length']), (await get('/')).body.length)
})

test('ETag and 304; immutable sites are cached for good', async () => {
  const first = await get('/style.css')
  const etag = String(first.headers.etag)
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/)
  const again = await get('/style.css', { 'if-none-match': etag })
  assert.is(again.status, 304)
  assert.is(again.body.length, 0)
  assert.is(again.headers.etag, etag)
  assert.is((await get('/style.css', { 'if-none-match': '"other"' })).status, 200)
  assert.is.not((await get('/docs/a.txt')).headers.etag, etag)
  const immutable = await request(port, `${v1.infohash}.btih.localhost:${port}`, '/style.css')
  assert.is(immutable.status, 200)
  assert.is(immutable.headers['cache-control'], 'public, max-age=31536000, immutable')
  assert.is(immutable.headers['x-btweb-seq'], undefined)
})

test('only the host names the gateway serves are answered (421 otherwise)', async () => {
  for (const host of ['evil.example:' + port, siteHost.replace(`:${port}`, `:${port + 1}`), siteHost.replace(`:${port}`, ''), `x.btpk.localhost:${port}`, `${'0'.repeat(40)}.btih.localhost.evil:${port}`, `[::1]:${port}`]) {
    const r = await request(port, host, '/')
    assert.is(r.status, 421, JSON.stringify(host))
  }
  assert.equal(route(undefined, port), { kind: 'misdirected' })
  assert.equal(route(`BTWEB.localhost.:${port}`, port), { kind: 'shell' })
  assert.is.not((await request(port, `btweb.localhost:${port}`, '/')).status, 421)
  assert.is.not((await request(port, `127.0.0.1:${port}`, '/')).status, 421)
})

test('path traversal attempts are rejected with 400', async () => {
  for (const target of ['/../secret', '/%2e%2e/secret', '/sub/%2E%2E/%2e%2e/x', '/a%2fb', '/%2e%2e%2fx', '/sub/..%5c..%5cx', '/%00', '/a%zz', '//..//x', 'http://evil/']) {
    const r = await get(target)
    assert.is(r.status, 400, target)
    assert.match(String(r.headers['content-type']), 'text/html')
    assert.not.match(r.body.toString(), /at .*\.ts:\d+/) // no stack trace
  }
  assert.is((await get('/sub/./index.html')).status, 200)
})

test('unknown key → 404 page, unseeded infohash → 504 page, both in bounded time', async () => {
  const t0 = Date.now()
  const unknownHost = `${originHost(siteAddress(publicKeyOf(newSeed())))}:${port}`
  const unseededHost = `${toHex(randomBytes(20))}.btih.localhost:${port}`
  const [unknown, unseeded] = await Promise.all([
    request(port, unknownHost, '/').then(r => ({ ...r, ms: Date.now() - t0 })),
    request(port, unseededHost, '/').then(r => ({ ...r, ms: Date.now() - t0 }))
  ])
  assert.is(unknown.status, 404)
  assert.is(unknown.headers['x-btweb-error'], 'NO_SUCH_SITE')
  assert.match(unknown.body.toString(), 'No site with this key')
  assert.ok(unknown.ms < 6000, `404 after ${unknown.ms} ms`)
  assert.is(unseeded.status, 504)
  assert.is(unseeded.headers['x-btweb-error'], 'NO_PEERS')
  assert.ok(unseeded.ms < 8000, `504 after ${unseeded.ms} ms`)
  console.log(`  unknown key → 404 in ${unknown.ms} ms; unseeded infohash → 504 in ${unseeded.ms} ms`)
})

test('a libtorrent seeder serves a bittorrent:// site through the gateway', async () => {
  const src = path.join(tmp.dir, 'lt-src')
  await fs.mkdir(src, { recursive: true })
  const payload = randomBytes(3 * MB)
  await fs.writeFile(path.join(src, 'index.html'), '<p>from libtorrent</p>')
  await fs.writeFile(path.join(src, 'data.bin'), payload)
  const snapshot = path.join(tmp.dir, 'lt-snapshot')
  const built = await buildSiteTorrent((await listSiteFiles(src)).files, { name: 'lt', snapshotDir: snapshot })
  const torrentFile = path.join(tmp.dir, 'lt.torrent')
  await fs.writeFile(torrentFile, built.torrent)
  const lt = await startLtSeeder({ torrentFile, savePath: snapshot })
  try {
    assert.is(lt.infohash, built.infohash)
    // libtorrent here runs no DHT: tell the visitor's torrent where the seeder is.
    visitor.torrents.addPeer(fromHex(built.infohash)!, `127.0.0.1:${lt.port}`)
    const host = `${built.infohash}.btih.localhost:${port}`
    const t0 = Date.now()
    const page = await request(port, host, '/')
    assert.is(page.status, 200, page.body.toString())
    assert.match(page.body.toString(), 'from libtorrent')
    const data = await request(port, host, '/data.bin')
    assert.ok(data.body.equals(payload))
    const part = await request(port, host, '/data.bin', { headers: { range: 'bytes=1000000-1000099' } })
    assert.ok(part.body.equals(payload.subarray(1000000, 1000100)))
    console.log(`  libtorrent → gateway: page + 3 MB in ${Date.now() - t0} ms`)
  } finally {
    await lt.close()
  }
})

test('a new version (seq 1) is served after the refresh interval, and the engine emits update', async () => {
  const before = await get('/')
  const updated = new Promise<{ seq: number, infohash: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no update event within 10 s')), 10_000)
    visitor.once('update', (u) => { clearTimeout(timer); resolve(u) })
  })
  const v2 = await publisher.publish({ 'index.html': '<html><head></head><body><h1>v2</h1></body></html>' })
  assert.is(v2.seq, 1)
  await new Promise(resolve => setTimeout(resolve, 350)) // past refreshAfterMs
  await get('/') // served from the known version; starts the background refresh
  const u = await updated
  assert.is(u.seq, 1)
  assert.is(u.infohash, v2.infohash)
  const after = await get('/')
  assert.is(after.status, 200)
  assert.match(after.body.toString(), '<h1>v2</h1>')
  assert.is(after.headers['x-btweb-seq'], '1')
  assert.is.not(after.headers.etag, before.headers.etag)
  assert.is((await get('/style.css')).status, 404) // gone in v2
})

test('offline revisit: with the DHT and the seeder gone, the cached site is served, marked stale', async () => {
  const net2 = await startDhtNet(4)
  const dir = path.join(tmp.dir, 'offline')
  let pub: SitePublisher | null = null
  let first: Engine | null = null
  let second: Engine | null = null
  try {
    pub = await startPublisher({ dir: path.join(dir, 'pub'), bootstrap: net2.bootstrap })
    await pub.publish({ 'index.html': '<h1>offline</h1>', 'b.txt': 'bee', 'big.html': `<p>${'never fetched '.repeat(8000)}</p>` })
    const host = (e: Engine) => `${originHost(siteAddress(pub!.key.publicKey))}:${e.gateway!.port}`
    first = await Engine.open(visitorOptions(path.join(dir, 'visitor'), net2.bootstrap))
    const online = await request(first.gateway!.port, host(first), '/')
    assert.is(online.status, 200)
    assert.is((await request(first.gateway!.port, host(first), '/b.txt')).body.toString(), 'bee')
    await first.close()
    await pub.close()
    await net2.close()
    const t0 = Date.now()
    second = await Engine.open(visitorOptions(path.join(dir, 'visitor'), net2.bootstrap)) // dead bootstrap nodes
    const offline = await request(second.gateway!.port, host(second), '/')
    const ms = Date.now() - t0
    assert.is(offline.status, 200, offline.body.toString())
    assert.match(offline.body.toString(), '<h1>offline</h1>')
    assert.is(offline.headers['x-btweb-stale'], '1')
    assert.match(String(offline.headers.warning), 'possibly stale')
    assert.is((await request(second.gateway!.port, host(second), '/b.txt')).body.toString(), 'bee')
    console.log(`  offline revisit from the cache: ${ms} ms (engine start included)`)
    // A page never fetched while online: its pieces are nowhere, so a clear 504 page, not a hang.
    const t1 = Date.now()
    const missing = await request(second.gateway!.port, host(second), '/big.html')
    assert.is(missing.status, 504)
    assert.match(missing.body.toString(), /peer/i)
    assert.ok(Date.now() - t1 < 15_000)
  } finally {
    await second?.close()
    await first?.close()
    await pub?.close()
    await net2.close()
  }
})

// --- the pure handler, fuzzed: no network ---


const fakeReq = (target: string, headers: Record<string, string> = {}, method = 'GET'): GatewayRequest =>
  ({ method, host: 'x', target, headers, signal: new AbortController().signal })
const mutable = siteAddress(new Uint8Array(32))

test('fuzz: no path ever escapes the torrent or crashes the handler', async () => {
  const files = { 'index.html': Buffer.from('<p>i</p>'), 'a/b.txt': Buffer.from('b'), 'secret': Buffer.from('s') }
  const engine = fakeSiteEngine(files)
  const segment = fc.oneof(
    fc.constantFrom('.', '..', '%2e', '%2E%2e', '%2f', '%5c', '%00', '%', '%zz', 'a', 'b.txt', 'index.html', 'secret', '', '%c3%a9', '%ff', '\\', '..%2f'),
    fc.string({ maxLength: 6 })
  )
  await fc.assert(fc.asyncProperty(fc.array(segment, { maxLength: 6 }), fc.boolean(), async (segs, trailing) => {
    const target = '/' + segs.join('/') + (trailing ? '/' : '')
    const r = await handleSiteRequest(fakeReq(target), mutable, engine, { port: 1, injectTag: null })
    assert.ok([200, 301, 400, 404].includes(r.status), `${target} → ${r.status}`)
    const decoded = target.split('?')[0].split('/').map(s => { try { return decodeURIComponent(s) } catch { return null } })
    if (decoded.some(s => s === '..' || (s !== null && /[/\\\0]/.test(s)))) assert.is(r.status, 400, target)
    if (r.status === 200 && r.headers['Content-Type'] !== 'text/html; charset=utf-8') {
      // A file was served: it is exactly one of the torrent's files.
      const body = await bodyOf(r.body)
      assert.ok(Object.values(files).some(f => f.equals(body)), target)
    } else {
      await bodyOf(r.body)
    }
  }), { numRuns: 3000 })
})

test('fuzz: Range answers are exact slices, 416s or whole files', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 300 }),
    fc.oneof(
      fc.tuple(fc.option(fc.nat(400), { nil: undefined }), fc.option(fc.nat(400), { nil: undefined })).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
      fc.array(fc.tuple(fc.nat(400), fc.nat(400)), { minLength: 2, maxLength: 3 }).map(l => 'bytes=' + l.map(([a, b]) => `${a}-${b}`).join(',')),
      fc.string({ maxLength: 12 }).map(s => 'bytes=' + s),
      fc.string({ maxLength: 12 })
    ),
    fc.constantFrom('GET', 'HEAD'),
    async (length, range, method) => {
      const data = randomBytes(length)
      const engine = fakeSiteEngine({ 'f.bin': data })
      const r = await handleSiteRequest(fakeReq('/f.bin', { range }, method), mutable, engine, { port: 1 })
      const body = await bodyOf(r.body)
      const expected = parseRange(range, length)
      if (r.status === 416) {
        assert.is(expected.kind, 'unsatisfiable')
        assert.is(r.headers['Content-Range'], `bytes */${length}`)
      } else if (r.status === 206) {
        assert.is(expected.kind, 'partial')
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers['Content-Range'])!
        const [start, end] = [Number(m[1]), Number(m[2])]
        assert.ok(start <= end && end < length && Number(m[3]) === length)
        assert.is(Number(r.headers['Content-Length']), end - start + 1)
        if (method === 'GET') assert.ok(body.equals(data.subarray(start, end + 1)), range)
      } else {
        assert.is(r.status, 200, `${range} → ${r.status}`)
        assert.is(Number(r.headers['Content-Length']), length)
        if (method === 'GET') assert.ok(body.equals(data))
      }
      if (method === 'HEAD') assert.is(body.length, 0)
    }
  ), { numRuns: 3000 })
})

test('listings escape hostile names', async () => {
  const engine = fakeSiteEngine({ 'd/<img src=x onerror=alert(1)>': Buffer.from('x'), 'd/"q\'.txt': Buffer.from('y') })
  const r = await handleSiteRequest(fakeReq('/d/'), mutable, engine, { port: 1 })
  const html = (await bodyOf(r.body)).toString()
  assert.not.match(html, '<img')
  assert.match(html, '&lt;img src=x onerror=alert(1)&gt;')
  assert.match(html, '&quot;q&#39;.txt')
})

test('page script goes after <head>, else after the doctype, else first; Content-Length matches', async () => {
  const tag = '<script>/*btweb*/</script>'
  for (const [html, want] of [
    ['<!doctype html><html><head lang="x"><title>t</title></head></html>', '<!doctype html><html><head lang="x"><script>/*btweb*/</script><title>t</title></head></html>'],
    ['<!DOCTYPE html><p>x</p>', '<!DOCTYPE html><script>/*btweb*/</script><p>x</p>'],
    ['<p>no head</p><header>h</header>', '<script>/*btweb*/</script><p>no head</p><header>h</header>']
  ]) {
    const engine = fakeSiteEngine({ 'index.html': Buffer.from(html) })
    const r = await handleSiteRequest(fakeReq('/'), mutable, engine, { port: 1, injectTag: tag })
    const body = await bodyOf(r.body)
    assert.is(body.toString(), want)
    assert.is(Number(r.headers['Content-Length']), body.length)
    const head = await handleSiteRequest(fakeReq('/', {}, 'HEAD'), mutable, engine, { port: 1, injectTag: tag })
    assert.is(head.headers['Content-Length'], r.headers['Content-Length'])
  }
})

test.run()
