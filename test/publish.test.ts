/**
 * Publishing as a person does it: `btweb publish` in its own process, a visitor engine in
 * another, a private loopback DHT between them.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdir, readdir, readFile, writeFile, chmod, stat } from 'node:fs/promises'
import path from 'node:path'
import { originHost, parseAddress } from '../src/address.js'
import { Engine } from '../src/engine.js'
import { Resolver } from '../src/resolver.js'
import { PointerStore } from '../src/pointer-store.js'
import { startDhtNet, type DhtNet } from './helpers/net.js'
import { tempDir } from './helpers/tmp.js'
import { request } from './helpers/http.js'
import { runCli } from './helpers/cli.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startCli, type Running } from './helpers/process.js'

let net: DhtNet
let tmp: { dir: string, cleanup: () => Promise<void> }
const running: Running[] = []
const engines: Engine[] = []
test.before(async () => { net = await startDhtNet(8); tmp = await tempDir() })
test.after(async () => {
  await Promise.all(running.map(r => r.stop()))
  await Promise.all(engines.map(e => e.close()))
  await net.close()
  await tmp.cleanup()
})

const common = () => ['--bootstrap', net.bootstrap.join(','), '--bind', '127.0.0.1', '--no-utp']

function publisher (dir: string, dataDir: string, extra: string[] = []): Running {
  const r = startCli(['publish', dir, '--data-dir', dataDir, '--json', '--republish-interval', '300', ...common(), ...extra])
  running.push(r)
  return r
}

async function visitor (name: string): Promise<Engine> {
  const e = await Engine.open({ dataDir: path.join(tmp.dir, name), bootstrap: net.bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500, lookupTimeoutMs: 5000, metadataTimeoutMs: 15_000, refreshAfterMs: 200 })
  engines.push(e)
  return e
}

async function page (e: Engine, url: string, p = '/'): Promise<{ status: number, body: string, seq?: string }> {
  const port = e.gateway!.port
  const r = await request(port, `${originHost(parseAddress(url))}:${port}`, p)
  return { status: r.status, body: r.body.toString('utf8'), seq: r.headers['x-btweb-seq'] as string | undefined }
}

async function eventually<T> (fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (ok(v) || Date.now() > deadline) return v
    await new Promise(resolve => setTimeout(resolve, 300))
  }
}

test('publish, browse from another process, edit and republish, see version 2', async () => {
  const site = path.join(tmp.dir, 'mysite')
  await mkdir(path.join(site, 'css'), { recursive: true })
  await writeFile(path.join(site, 'index.html'), '<html><head><title>v1</title></head><body>version one</body></html>')
  await writeFile(path.join(site, 'css', 'a.css'), 'body{}')
  const pubData = path.join(tmp.dir, 'pub')
  const p1 = publisher(site, pubData)
  const first = await p1.json<{ url: string, seq: number, infohash: string, stored: number, magnet: string }>()
  assert.is(first.seq, 0)
  assert.ok(first.stored >= 1)
  assert.match(first.url, /^btpk:\/\/[0-9a-f]{64}\/$/)
  assert.match(first.magnet, /^magnet:\?xs=urn:btpk:[0-9a-f]{64}$/)
  assert.match(p1.stderr(), /Created a new key "default" in .*default\.key/)

  const v = await visitor('visitor')
  const updates: number[] = []
  v.on('update', u => updates.push(u.seq))
  const one = await page(v, first.url)
  assert.is(one.status, 200)
  assert.match(one.body, /version one/)

  await writeFile(path.join(site, 'index.html'), '<html><head><title>v2</title></head><body>version two</body></html>')
  const p2 = publisher(site, pubData)
  const second = await p2.json<{ url: string, seq: number, infohash: string }>()
  assert.is(second.seq, 1)
  assert.is(second.url, first.url)
  assert.is.not(second.infohash, first.infohash)
  const two = await eventually(() => page(v, first.url), r => /version two/.test(r.body))
  assert.match(two.body, /version two/)
  assert.is(two.seq, '1')
  assert.ok(updates.includes(1))

  // `btweb sites` lists it, newest version.
  const sites = await runCli(['sites', '--json', '--data-dir', pubData])
  const listed = JSON.parse(sites.stdout.trim().split('\n')[0])
  assert.is(listed.url, first.url)
  assert.is(listed.seq, 1)
  assert.is(listed.folder, site)

  // Stop both publishers: clean exit.
  assert.is(await p1.stop(), 0)
  assert.is(await p2.stop(), 0)

  // Restart: same content → same seq (re-put), edited → next seq. Never back.
  const p3 = publisher(site, pubData)
  assert.is((await p3.json<{ seq: number }>()).seq, 1)
  await p3.stop()
  await writeFile(path.join(site, 'index.html'), 'three')
  const p4 = publisher(site, pubData)
  assert.is((await p4.json<{ seq: number }>()).seq, 2)

  // Items expire: wipe every DHT node's store; the republisher (300 ms here) puts it back.
  for (const node of net.nodes) (node as unknown as { _values: { clear (): void } })._values.clear()
  await new Promise(resolve => setTimeout(resolve, 1200))
  const fresh = await net.client()
  const r = await new Resolver({ dht: fresh, store: new PointerStore(path.join(tmp.dir, 'fresh')) }).resolve(parseAddress(first.url) as never)
  assert.is(r.seq, 2)
  // The previous version (seq 1) keeps seeding for its grace period: a visitor mid-download of
  // it is not stranded, even though only the restarted publisher (p4) is running now.
  const late = await visitor('visitor-grace')
  const old = await page(late, `bittorrent://${second.infohash}/`)
  assert.is(old.status, 200)
  assert.match(old.body, /version two/)
  assert.is(await p4.stop(), 0)
})

test('--once exits after the put; bad input is a one-line error and changes nothing', async () => {
  const site = path.join(tmp.dir, 'once')
  await mkdir(site)
  await writeFile(path.join(site, 'index.html'), 'once')
  const data = path.join(tmp.dir, 'pub-once')
  const once = await runCli(['publish', site, '--once', '--json', '--data-dir', data, ...common()])
  assert.is(once.code, 0, once.stderr)
  assert.is(JSON.parse(once.stdout).seq, 0)

  const snapshot = async () => {
    const files = (await readdir(data, { recursive: true })).sort()
    return JSON.stringify(await Promise.all(files.map(async f => [f, (await stat(path.join(data, f))).mtimeMs])))
  }
  const before = await snapshot()
  await mkdir(path.join(tmp.dir, 'empty'))
  const cases: Array<[string[], number, RegExp]> = [
    [[path.join(tmp.dir, 'missing')], 5, /does not exist/],
    [[path.join(tmp.dir, 'empty')], 5, /no files/],
    [[site, '--salt', 'x'.repeat(65)], 2, /at most 64 bytes/],
    [[site, '--salt-hex', 'zz'], 2, /hexadecimal/],
    [[site, '--key', '../evil'], 2, /key name/],
    [[site, '--cache-size', '1'], 5, /more than the cache cap/]
  ]
  for (const [args, code, message] of cases) {
    const r = await runCli(['publish', ...args, '--once', '--data-dir', data, ...common()])
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
  assert.is(await snapshot(), before)
  // A key file with loose permissions, then a corrupt one: refused, not replaced.
  const keyFile = path.join(data, 'keys', 'default.key')
  await chmod(keyFile, 0o644)
  const loose = await runCli(['publish', site, '--once', '--data-dir', data, ...common()])
  assert.is(loose.code, 5)
  assert.match(loose.stderr, /chmod 600/)
  await chmod(keyFile, 0o600)
  const good = await readFile(keyFile)
  await writeFile(keyFile, 'corrupt')
  const corrupt = await runCli(['publish', site, '--once', '--data-dir', data, ...common()])
  assert.is(corrupt.code, 5)
  assert.is(await readFile(keyFile, 'utf8'), 'corrupt')
  await writeFile(keyFile, good)
})

test('btweb serve answers curl for a site another process publishes; btweb fetch saves a file', async () => {
  const site = path.join(tmp.dir, 'served')
  await mkdir(site)
  await writeFile(path.join(site, 'index.html'), '<p>served by btweb serve</p>')
  await writeFile(path.join(site, 'data.bin'), Buffer.alloc(300_000, 9))
  const pub = publisher(site, path.join(tmp.dir, 'pub-serve'))
  const { url } = await pub.json<{ url: string }>()
  const serve = startCli(['serve', '--data-dir', path.join(tmp.dir, 'serve'), ...common()])
  running.push(serve)
  // First line: "btweb gateway on http://btweb.localhost:<port>/"
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    serve.child.stdout.on('data', d => { out += d; const m = /btweb\.localhost:(\d+)/.exec(out); if (m) resolve(Number(m[1])) })
    serve.child.on('close', () => reject(new Error('serve exited: ' + serve.stderr())))
  })
  const host = `${originHost(parseAddress(url))}:${port}`
  const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '30', '-H', `Host: ${host}`, `http://127.0.0.1:${port}/`])
  assert.match(stdout, /served by btweb serve/)
  const wrongHost = await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: evil.example:' + port, `http://127.0.0.1:${port}/`])
  assert.is(wrongHost.stdout, '421')
  const out = path.join(tmp.dir, 'fetched.bin')
  const fetched = await runCli(['fetch', url + 'data.bin', '-o', out, '--data-dir', path.join(tmp.dir, 'fetch'), ...common()])
  assert.is(fetched.code, 0, fetched.stderr)
  assert.equal(await readFile(out), Buffer.alloc(300_000, 9))
  const missing = await runCli(['fetch', url + 'nope.html', '--data-dir', path.join(tmp.dir, 'fetch'), ...common()])
  assert.is(missing.code, 3)
  assert.is(await serve.stop(), 0)
  assert.is(await pub.stop(), 0)
})

test.run()
