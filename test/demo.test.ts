/**
 * The whole product, end to end: the built `btweb demo` (dist/cli.js) under a private Xvfb, with
 * the real engine, gateway, DHT and torrents — no stand-ins. Driven by real X input, checked by
 * reading the screen back with OCR. A second process (`btweb publish`) publishes a new version of
 * site 1 into the demo's network while it is open. Also measures the time from launch to a
 * readable page and the memory (PSS) of the processes.
 *
 * Needs `npm run build` first (the test runs dist/, as a user would).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { buildInputHelper, click, descendants, isRunning, key, screenshot, startXvfb, stop, type, type Display } from './fixtures/x11.js'
import { colourShare, norm, reads, readsRoughly, waitForScreen, type Region } from './fixtures/screen.js'
import { cmdline, comm, pssKb } from './helpers/procs.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'dist', 'cli.js')
const run = promisify(execFile)

// Where things are on the 1024x768 window at the screen's top left (ui/shell.css, assets/demo).
const ADDRESS_BAR: Region = { x: 110, y: 0, w: 914, h: 41 }
const CONTENT: Region = { x: 0, y: 42, w: 1024, h: 660 }
const NOTICE: Region = { x: 0, y: 42, w: 1024, h: 36 }
const STATUS_LINE: Region = { x: 0, y: 745, w: 1024, h: 23 }
const BACK_BUTTON = [22, 20] as const
const NOTICE_RELOAD = [937, 59] as const
const ANOTHER_SITE_LINK = [560, 322] as const // site 1's nav bar: "Another site →"
const SITE2_PLAIN_AREA = [960, 450] as const // right of site 2's text: nothing to click there
const HILLS_BROWN = '#5b3a29' // the front hill of site 2's picture (hills.svg)

let display: Display | undefined
let demo: ChildProcess | undefined
let publisher: ChildProcess | undefined
let dataDir = ''
let workDir = ''
let stdout = ''
let stderr = ''
let publishErr = ''
let launchedAt = 0
let addressesAt = 0 // when the demo printed its addresses: its network is up and site 1 published
const seenPids = new Set<number>() // every process of the demo we saw, for test.after
let site1 = ''
let site2 = ''
let bootstrap = ''

const context = (): string => `--- demo stdout:\n${stdout}--- demo stderr:\n${stderr}` + (publishErr ? `--- publish stderr:\n${publishErr}` : '')
const opts = (timeoutMs: number, scale = 1) => ({ timeoutMs, scale, context })

const page = (expected: string, timeoutMs = 20_000) => waitForScreen(display!, CONTENT, `"${expected}" in the page`, t => reads(t, expected), opts(timeoutMs))
const addressBar = (expected: string, timeoutMs = 10_000) => waitForScreen(display!, ADDRESS_BAR, `"${expected}" in the address bar`, t => readsRoughly(t, expected), opts(timeoutMs, 3))
const status = (what: string, check: (t: string) => boolean, timeoutMs = 10_000) => waitForScreen(display!, STATUS_LINE, what, check, opts(timeoutMs, 3))

/** The demo's processes now: its own node (the window and engine worker), WebKit, and the demo-network child. */
function processes (): { window: number[], network: number[] } {
  const all = descendants(demo!.pid!)
  const netRoots = all.filter(p => cmdline(p).includes('demo-network'))
  const network = netRoots.flatMap(p => [p, ...descendants(p)])
  for (const p of all) seenPids.add(p)
  return { window: [demo!.pid!, ...all.filter(p => !network.includes(p))], network }
}

function memoryReport (when: string): { windowMb: number, networkMb: number } {
  const { window, network } = processes()
  const mb = (kb: number): number => Math.round(kb / 1024)
  const windowMb = mb(window.reduce((s, p) => s + pssKb(p), 0))
  const networkMb = mb(network.reduce((s, p) => s + pssKb(p), 0))
  const parts = window.map(p => `${p === demo!.pid ? 'node' : comm(p)} ${mb(pssKb(p))}`).join(', ')
  console.log(`  [demo] PSS ${when}: btweb window ${windowMb} MB (${parts}); demo network child ${networkMb} MB`)
  return { windowMb, networkMb }
}

test.before(async () => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" first')
  await buildInputHelper()
  display = await startXvfb()
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'btweb-demo-e2e-'))
  workDir = await mkdtemp(path.join(os.tmpdir(), 'btweb-demo-e2e-work-'))
  launchedAt = Date.now()
  demo = spawn(process.execPath, [cli, 'demo', '--data-dir', dataDir], {
    cwd: root, env: { ...process.env, DISPLAY: display.name, WAYLAND_DISPLAY: '' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  demo.stderr!.on('data', (d: Buffer) => { stderr += d })
  // "  site 1: btpk://…/", "  site 2: btpk://…/", "  bootstrap: 127.0.0.1:p,…"
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo never printed its addresses\n' + context())), 30_000)
    const lines = createInterface({ input: demo!.stdout! })
    lines.on('line', (line) => {
      stdout += line + '\n'
      const m = /^\s*(site 1|site 2|bootstrap):\s*(\S+)/.exec(line)
      if (m?.[1] === 'site 1') site1 = m[2]
      if (m?.[1] === 'site 2') site2 = m[2]
      if (m?.[1] === 'bootstrap') bootstrap = m[2]
      if (site1 && site2 && bootstrap) { addressesAt = Date.now(); clearTimeout(timer); resolve() }
    })
    demo!.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code})\n` + context())) })
  })
})

test.after(async () => {
  if (publisher) await stop(publisher, 'SIGKILL')
  if (demo) {
    if (demo.exitCode === null && demo.signalCode === null) for (const p of descendants(demo.pid!)) seenPids.add(p)
    await stop(demo, 'SIGKILL')
  }
  for (const p of seenPids) if (isRunning(p)) { try { process.kill(p, 'SIGKILL') } catch { /* gone meanwhile */ } }
  if (display) await display.close()
  for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true })
})

test('btweb demo opens site 1: the page, its btpk:// address and the status line read back from the screen', async () => {
  assert.match(site1, /^btpk:\/\/[0-9a-f]{64}\/$/)
  assert.match(site2, /^btpk:\/\/[0-9a-f]{64}\/$/)
  assert.is.not(site1, site2)
  const { shotAt } = await page('Welcome to btweb', 40_000)
  console.log(`  [demo] launch → page readable by OCR: ${shotAt - launchedAt} ms (first screenshot that read it; demo network up and sites published after ${addressesAt - launchedAt} ms)`)
  const bar = await addressBar(site1)
  assert.not.ok(/localhost|127\.0\.0\.1|http/i.test(bar.text), bar.text)
  // "Done · 1 peer        version 0"
  await status('done, peers and version in the status line', t => reads(t, 'Done') && /\d+peers?/.test(norm(t)) && reads(t, 'version 0'))
  // The window title comes from the page (xwininfo is in x11-utils, not in scripts/setup.sh's list: checked when present).
  if (existsSync('/usr/bin/xwininfo')) {
    const { stdout: tree } = await run('xwininfo', ['-root', '-tree'], { env: { ...process.env, DISPLAY: display!.name } })
    assert.ok(tree.includes('Welcome to btweb'), 'window title from the page:\n' + tree)
  }
  memoryReport('on the first page')
})

test('a btpk: link in site 1 loads site 2 through the swarm; back button and Alt+Left return to site 1', async () => {
  await click(display!, ...ANOTHER_SITE_LINK)
  await page('Notes from a site without a host')
  await addressBar(site2)
  await click(display!, ...BACK_BUTTON)
  await page('Welcome to btweb')
  await addressBar(site1)
  // A site the engine knows already still gets its version and peers in the status line.
  await status('version and peers after going back', t => reads(t, 'version 0') && /\d+peers?/.test(norm(t)))
  await click(display!, ...ANOTHER_SITE_LINK)
  await page('Notes from a site without a host')
  await addressBar(site2)
  await click(display!, ...SITE2_PLAIN_AREA) // keyboard focus in the page: Alt+Left from inside the site
  await key(display!, 'alt+Left')
  await page('Welcome to btweb')
  await addressBar(site1)
})

test('typing an address with a path navigates: site 2\'s picture page, image drawn', async () => {
  await key(display!, 'ctrl+l')
  await type(display!, `${site2}picture.html`)
  await key(display!, 'Return')
  await page('Evening hills')
  await addressBar(`${site2}picture.html`)
  // The image is a file of the torrent too: its darkest hill covers a few % of the page.
  let share = 0
  const until = Date.now() + 10_000
  while ((share = await colourShare(await screenshot(display!), CONTENT, HILLS_BROWN)) < 0.01) {
    if (Date.now() > until) assert.unreachable(`the picture was not drawn (${(share * 100).toFixed(2)}% of the page is its hill colour)`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
})

test('a new version of the open site, published meanwhile, shows the notice; Reload shows it', async () => {
  await key(display!, 'ctrl+l')
  await type(display!, site1)
  await key(display!, 'Return')
  await page('Welcome to btweb')
  await addressBar(site1)

  // Version 2 of site 1: the demo's pages with site 2's address filled in, and a new headline.
  const folder = path.join(workDir, 'site1')
  await cp(path.join(root, 'assets/demo/site1'), folder, { recursive: true })
  for (const f of await readdir(folder)) {
    if (!f.endsWith('.html')) continue
    const file = path.join(folder, f)
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll('btpk://DEMO_SITE2/', site2).replaceAll('Welcome to btweb', 'Second edition of btweb'))
  }
  // Same key, same publisher data dir as the demo network; keeps running to seed the new torrent.
  const publisherDir = path.join(dataDir, 'demo', 'publisher')
  assert.ok(existsSync(path.join(publisherDir, 'keys', 'demo-site1.key')), 'the demo publisher keeps its key here')
  publisher = spawn(process.execPath, [cli, 'publish', folder, '--key', 'demo-site1', '--data-dir', publisherDir, '--bootstrap', bootstrap, '--bind', '127.0.0.1', '--json'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe']
  })
  publisher.stderr!.on('data', (d: Buffer) => { publishErr += d })
  const published = await new Promise<{ url: string, seq: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('publish printed nothing\n' + context())), 30_000)
    createInterface({ input: publisher!.stdout! }).once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)) })
    publisher!.once('exit', (code) => { clearTimeout(timer); reject(new Error(`publish exited (${code})\n` + context())) })
  })
  assert.is(published.url, site1)
  assert.is(published.seq, 1)

  // The window's engine looks again on a visit once its answer is older than refreshAfterMs
  // (10 s): reload now and then until it has, and the notice shows.
  const publishedAt = Date.now()
  let lastReload = 0
  const until = Date.now() + 30_000
  for (;;) {
    const shotAt = Date.now()
    const { text } = await waitForScreen(display!, NOTICE, 'notice', () => true, opts(0, 3))
    if (reads(text, 'A newer version of this site has been published (version 1)')) {
      console.log(`  [demo] update notice ${shotAt - publishedAt} ms after publish returned`)
      break
    }
    if (Date.now() > until) assert.unreachable('no update notice; last read:\n' + text + '\n' + context())
    if (Date.now() - lastReload > 2000) { await key(display!, 'F5'); lastReload = Date.now() }
    await new Promise(resolve => setTimeout(resolve, 300))
  }
  await click(display!, ...NOTICE_RELOAD)
  await page('Second edition of btweb')
  await addressBar(site1)
  await status('version 1 in the status line', t => reads(t, 'version 1'))
  const notice = await waitForScreen(display!, NOTICE, 'notice', () => true, opts(0, 3))
  assert.not.ok(reads(notice.text, 'newer version'), notice.text)
})

test('SIGTERM: btweb demo exits 0 and leaves no WebKit or node process behind', async () => {
  memoryReport('after browsing')
  assert.is(await stop(publisher!, 'SIGTERM', 15_000), 0, 'publish exit code\n' + publishErr)
  const { window, network } = processes()
  const children = [...window.slice(1), ...network]
  const names = children.map(p => comm(p))
  assert.ok(names.some(n => n.startsWith('WebKitWebProces')), 'a WebKit web process: ' + names.join(','))
  assert.ok(names.some(n => n.startsWith('WebKitNetworkP')), 'a WebKit network process: ' + names.join(','))
  assert.ok(network.length >= 1, 'the demo-network child: ' + children.map(cmdline).join('\n'))
  const code = await stop(demo!, 'SIGTERM', 20_000)
  assert.is(code, 0, context())
  await new Promise(resolve => setTimeout(resolve, 500))
  const left = children.filter(isRunning)
  assert.equal(left, [], 'processes left: ' + left.map(p => `${p} ${cmdline(p)}`).join('\n'))
})

test.run()
