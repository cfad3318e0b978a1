/**
 * The gateway's pure parts, fuzzed with fast-check (no network): Range parsing against an
 * independent RFC 9110 oracle (BigInt arithmetic, so huge numbers are judged right), the site
 * handler against an oracle of which file a request target names (a nested in-memory site with
 * hostile names, HTML with the page script, ranges, conditional requests, odd methods), and the
 * dispatcher: which Host reaches which handler, and that btweb's API never answers without its token.
 */
import { test } from 'uvu'
import { bodyOf, fakeSiteEngine } from './helpers/fake-site.js'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { SHELL_HOST, encodePath, originHost, type Address } from '../src/address.js'
import type { Engine } from '../src/engine.js'
import { dispatch, route } from '../src/gateway/dispatch.js'
import { parseRange } from '../src/gateway/http-range.js'
import { handleSiteRequest, injectScript, makeEtag, type SiteEngine } from '../src/gateway/site.js'
import type { GatewayRequest, GatewayResponse } from '../src/gateway/types.js'
import type { DirEntry, SiteContent, SiteFile } from '../src/torrents.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 4000)
const counts: Record<string, number> = {}
const count = (name: string) => { counts[name] = (counts[name] ?? 0) + 1 }
test.after(() => console.log(`  COUNTS fuzz cases: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`))

// --- Range: an independent oracle ---

type Expect = { kind: 'full' } | { kind: 'unsatisfiable' } | { kind: 'partial', start: number, end: number }

/** RFC 9110 §14 with btweb's policy: one range → 206, several → whole (200), other units → 200, malformed bytes ranges → 416. */
function rangeOracle (header: string | undefined, length: number): Expect {
  if (header === undefined) return { kind: 'full' }
  const text = header.trim()
  const eq = text.indexOf('=')
  if (eq < 0) return { kind: 'unsatisfiable' }
  if (text.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' }
  if (text.length > 4096) return { kind: 'unsatisfiable' }
  const specs = text.slice(eq + 1).split(',').map(s => s.trim()).filter(Boolean)
  if (specs.length === 0) return { kind: 'unsatisfiable' }
  const len = BigInt(length)
  const ranges: Array<[bigint, bigint] | null> = []
  for (const spec of specs) {
    const m = /^(\d*)-(\d*)$/.exec(spec)
    if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable' }
    if (m[1] === '') {
      const n = BigInt(m[2])
      ranges.push(n === 0n || len === 0n ? null : [n >= len ? 0n : len - n, len - 1n])
      continue
    }
    const start = BigInt(m[1])
    const end = m[2] === '' ? len - 1n : BigInt(m[2])
    if (m[2] !== '' && end < start) return { kind: 'unsatisfiable' }
    ranges.push(start >= len ? null : [start, end < len - 1n ? end : len - 1n])
  }
  const ok = ranges.filter((r): r is [bigint, bigint] => r !== null)
  if (ok.length === 0) return { kind: 'unsatisfiable' }
  if (specs.length > 1) return { kind: 'full' }
  return { kind: 'partial', start: Number(ok[0][0]), end: Number(ok[0][1]) }
}

const digits = fc.oneof(
  fc.nat(2000).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.constantFrom('0', '00', '007', '9007199254740991', '9007199254740993', '18446744073709551615', '9'.repeat(400))
)
const spec = fc.oneof(
  fc.tuple(fc.option(digits, { nil: '' }), fc.option(digits, { nil: '' })).map(([a, b]) => `${a}-${b}`),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('-', '--', '1-2-3', ' 5 - 6', '-0', 'a-b', '0x10-20', '１-２')
)
export const rangeHeader = fc.oneof(
  fc.array(spec, { minLength: 1, maxLength: 4 }).chain(specs => fc.tuple(
    fc.constantFrom('bytes=', 'BYTES =', ' bytes= ', 'bytes=,', 'items=', '=', 'bytes'),
    fc.constantFrom(',', ', ', ' ,')
  ).map(([unit, sep]) => unit + specs.join(sep))),
  fc.string({ maxLength: 20 }),
  fc.constant('bytes=' + '1-2,'.repeat(1100))
)

test('fuzz: parseRange agrees with the RFC 9110 oracle and never throws', () => {
  fc.assert(fc.property(fc.option(rangeHeader, { nil: undefined }), fc.oneof(fc.nat(5000), fc.constantFrom(0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER)), (header, length) => {
    count('parseRange')
    const got = parseRange(header, length)
    assert.equal(got, rangeOracle(header, length), `${JSON.stringify(header)} of ${length}`)
    if (got.kind === 'partial') assert.ok(got.start >= 0 && got.start <= got.end && got.end < length)
  }), { numRuns: RUNS * 2 })
})

// --- the site handler against an oracle of the path ---

const TAG = '<script>/*btweb page script*/</script>'
const FILES: Record<string, Buffer> = {
  'index.html': Buffer.from('<!doctype html><html><head><title>root</title></head><body>root</body></html>'),
  'a b.txt': Buffer.from('space'),
  'é/ü.html': Buffer.from('<p>unicode</p>'),
  '100%.txt': Buffer.from('percent'),
  'q?x.txt': Buffer.from('question'),
  'dir/index.html': Buffer.from('<head></head>dir index'),
  'dir/sub/deep.bin': randomBytes(70_000),
  'dir/sub/empty.txt': Buffer.alloc(0),
  'list/one.txt': Buffer.from('one'),
  'list/two.css': Buffer.from('b{}'),
  '..hidden.txt': Buffer.from('dots in a name are fine'),
  'secret-outside': Buffer.from('never served unless named')
}


/** What a request target names: 400 (refused), or the decoded path. */
function pathOracle (target: string): { bad: true } | { bad: false, segs: string[], trailing: boolean, query: string } {
  const q = target.indexOf('?')
  const raw = q < 0 ? target : target.slice(0, q)
  const query = q < 0 ? '' : target.slice(q)
  const segs: string[] = []
  for (const s of raw.split('/')) {
    if (s === '') continue
    let d: string
    try { d = decodeURIComponent(s) } catch { return { bad: true } }
    if (d === '.') continue
    if (d === '..' || /[/\\\0]/.test(d)) return { bad: true }
    segs.push(d)
  }
  return { bad: false, segs, trailing: raw.endsWith('/') && segs.length > 0, query }
}

/** Ways to write one path segment: as is, percent-encoded, every byte escaped in upper or lower case. */
function spellings (seg: string): fc.Arbitrary<string> {
  const escAll = (upper: boolean) => [...Buffer.from(seg, 'utf8')].map(b => '%' + b.toString(16).padStart(2, '0')).join('')[upper ? 'toUpperCase' : 'toLowerCase']()
  return fc.constantFrom(encodeURIComponent(seg), escAll(true), escAll(false), /^[\w.-]+$/.test(seg) ? seg : encodeURIComponent(seg))
}
const treeSegment = fc.constantFrom(...new Set(Object.keys(FILES).flatMap(p => p.split('/')))).chain(spellings)
const hostileSegment = fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e', '%2f', '%2F', '%5c', '\\', '%00', '%', '%zz', '%c3', '%ff', '%e2%80', '..%2f..', '%252e%252e', ';', 'index.html%00.txt', 'secret-outside%2f..')
const target = fc.tuple(
  fc.array(fc.oneof({ weight: 5, arbitrary: treeSegment }, { weight: 2, arbitrary: hostileSegment }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }).map(encodeURIComponent) }, { weight: 1, arbitrary: fc.constant('') }), { maxLength: 5 }),
  fc.boolean(),
  fc.option(fc.constantFrom('?x=1', '?', '?a=..%2f', '?#frag'), { nil: '' })
).map(([segs, trailing, query]) => '/' + segs.join('/') + (trailing && segs.length ? '/' : '') + query)

const STATUSES = new Set([200, 206, 301, 304, 400, 404, 405, 416])
const mutable: Address = { kind: 'mutable', publicKey: new Uint8Array(32), salt: new Uint8Array(0), path: '/', query: '', fragment: '' }
const engine = fakeSiteEngine(FILES, { seq: 1, infohash: 'ab'.repeat(20) })

test('fuzz: the site handler serves exactly the file the path names, slices exactly, and answers only known statuses', async () => {
  await fc.assert(fc.asyncProperty(
    target,
    fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'get', 'PROPFIND', 'GET '),
    fc.option(rangeHeader, { nil: undefined }),
    fc.constantFrom<'none' | 'match' | 'other'>('none', 'none', 'match', 'other'),
    fc.constantFrom<'none' | 'match' | 'other'>('none', 'none', 'match', 'other'),
    fc.boolean(),
    async (t, method, range, inm, ifRange, inject) => {
      count('handleSiteRequest')
      const injectTag = inject ? TAG : null
      const o = pathOracle(t)
      let key = ''
      if (!o.bad) key = o.segs.join('/')
      const file = !o.bad ? (o.trailing || o.segs.length === 0 ? (Object.hasOwn(FILES, key ? `${key}/index.html` : 'index.html') ? (key ? `${key}/index.html` : 'index.html') : null) : (Object.hasOwn(FILES, key) ? key : null)) : null
      const isHtml = file !== null && /\.html$/.test(file)
      const etag = file ? makeEtag('ab'.repeat(20), file, injectTag !== null && isHtml ? injectTag : null) : '"none"'
      const headers: Record<string, string> = {}
      if (range !== undefined) headers.range = range
      if (inm !== 'none') headers['if-none-match'] = inm === 'match' ? etag : '"nope"'
      if (ifRange !== 'none') headers['if-range'] = ifRange === 'match' ? etag : '"nope"'
      const req: GatewayRequest = { method, host: 'x', target: t, headers, signal: new AbortController().signal }
      const r = await handleSiteRequest(req, mutable, engine, { port: 1, injectTag })
      const body = await bodyOf(r.body)
      assert.ok(STATUSES.has(r.status), `${method} ${t} → ${r.status}`)
      if (method !== 'GET' && method !== 'HEAD') { assert.is(r.status, 405); return }
      if (o.bad) { assert.is(r.status, 400, t); return }
      if (method === 'HEAD') assert.is(body.length, 0)
      if (file !== null) {
        const source = injectTag !== null && isHtml ? injectScript(FILES[file], Buffer.from(injectTag)) : FILES[file]
        if (inm !== 'none' && inm === 'match') { assert.is(r.status, 304, t); return }
        const expected = ifRange === 'other' ? { kind: 'full' as const } : rangeOracle(range, source.length)
        if (expected.kind === 'unsatisfiable') { assert.is(r.status, 416); assert.is(r.headers['Content-Range'], `bytes */${source.length}`); return }
        if (expected.kind === 'partial') {
          assert.is(r.status, 206, `${t} ${range}`)
          assert.is(r.headers['Content-Range'], `bytes ${expected.start}-${expected.end}/${source.length}`)
          assert.is(Number(r.headers['Content-Length']), expected.end - expected.start + 1)
          if (method === 'GET') assert.ok(body.equals(source.subarray(expected.start, expected.end + 1)), `${t} ${range}: wrong bytes`)
          return
        }
        assert.is(r.status, 200, `${t} ${range}`)
        assert.is(Number(r.headers['Content-Length']), source.length)
        if (method === 'GET') assert.ok(body.equals(source), `${t}: not the file ${file}`)
        return
      }
      // No file: a directory (listing or redirect) or nothing.
      const dirKey = key
      const isDir = dirKey === '' || Object.keys(FILES).some(p => p.startsWith(dirKey + '/'))
      if (o.trailing || o.segs.length === 0) {
        assert.is(r.status, isDir ? 200 : 404, t)
        if (isDir) assert.match(String(r.headers['Content-Type']), 'text/html')
      } else if (isDir) {
        assert.is(r.status, 301, t)
        assert.is(r.headers.Location, encodePath('/' + key) + '/' + o.query)
      } else {
        assert.is(r.status, 404, t)
      }
    }
  ), { numRuns: RUNS })
})

// --- the dispatcher: Host routing and the API token ---

const PORT = 4242
const shellEngine = Object.assign(new EventEmitter(), { shellToken: randomBytes(32).toString('hex'), ...engine }) as unknown as Engine
const siteHosts = [originHost(mutable), `${'0f'.repeat(20)}.btih.localhost`, `626c6f67.${originHost(mutable)}`]
const host = fc.oneof(
  fc.constantFrom(SHELL_HOST, 'localhost', '127.0.0.1', 'BTWEB.LOCALHOST', 'btweb.localhost.', ...siteHosts, 'evil.example', 'btweb.localhost.evil.example', `x.${SHELL_HOST}`, '[::1]', 'localhost.btih.localhost', '').chain(name =>
    fc.constantFrom('', `:${PORT}`, `:${PORT + 1}`, ':80', ':0', `:${PORT}0`, ' ', `:${PORT}:${PORT}`).map(p => name + p)),
  fc.string({ maxLength: 30 })
)

test('fuzz: only the shell names reach the shell, and its API refuses every request without the token', async () => {
  await fc.assert(fc.asyncProperty(host, fc.constantFrom('/api/events', '/api/title?title=x', '/api/open-external?url=https://e.example/', '/api/', '/api/%2e%2e/title', '/API/title', '/', '/shell.js'), fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD'), fc.option(fc.constantFrom('', 'guess', 'Bearer x', shellEngine.shellToken.slice(0, 63), shellEngine.shellToken + ' '), { nil: undefined }), async (h, t, method, token) => {
    count('dispatch')
    const r0 = route(h, PORT)
    const headers: Record<string, string> = { origin: `http://${siteHosts[0]}:${PORT}` }
    if (token !== undefined) headers['x-btweb-token'] = token
    const r = await dispatch({ method, host: h, target: t, headers, signal: AbortSignal.timeout(5000) }, { engine: shellEngine, port: PORT, injectTag: null })
    const body = await bodyOf(r.body)
    for (const k of Object.keys(r.headers)) assert.not.ok(k.toLowerCase().startsWith('access-control-'), `${k} granted`)
    assert.not.ok(body.toString('latin1').includes(shellEngine.shellToken), 'token leaked')
    if (r0.kind === 'misdirected') { assert.is(r.status, 421, h); return }
    if (r0.kind === 'shell') {
      const name = h.trim().replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '')
      assert.ok(['btweb.localhost', 'localhost', '127.0.0.1'].includes(name), `${h} reached the shell`)
      // (WHATWG URL parsing turns /api/%2e%2e/title into /title: not the API, a 404.)
      if (t.startsWith('/api/')) assert.ok(r.status === 403 || (r.status === 404 && new URL(t, 'http://x').pathname.slice(0, 5) !== '/api/'), `${method} ${h}${t} without the token → ${r.status}`)
      return
    }
    // A site: never the shell's API or assets, whatever the path.
    assert.not.match(String(r.headers['content-type'] ?? r.headers['Content-Type']), 'event-stream')
    assert.ok(r.status !== 204 && r.status !== 403, `${h}${t} → ${r.status}`)
  }), { numRuns: RUNS })
})

test.run()
