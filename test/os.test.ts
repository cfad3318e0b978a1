/** OS integration: link handler registration (XDG, in temporary dirs) and the single-instance hand-off. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile, spawn } from 'node:child_process'
import { readFile, mkdir, writeFile, access, stat } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { handOff, instanceSocketPath, InstanceServer } from '../src/single-instance.js'
import { tempDir } from './helpers/tmp.js'
import { runCli } from './helpers/cli.js'
import { startCli } from './helpers/process.js'

const run = promisify(execFile)
const KEY = 'ab'.repeat(32)

async function xdgEnv () {
  const t = await tempDir()
  const env = { ...process.env, XDG_DATA_HOME: path.join(t.dir, 'data'), XDG_CONFIG_HOME: path.join(t.dir, 'config'), XDG_DATA_DIRS: path.join(t.dir, 'sys'), XDG_CURRENT_DESKTOP: '', DE: '', DISPLAY: ':98' } // xdg-open only consults scheme handlers when it believes there is a display
  return { t, env }
}

async function query (env: NodeJS.ProcessEnv, scheme: string): Promise<string> {
  return (await run('xdg-mime', ['query', 'default', `x-scheme-handler/${scheme}`], { env })).stdout.trim()
}

async function waitForLines (file: string, n: number, timeoutMs = 15_000): Promise<Array<{ pid: number, open: string }>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '')
    const lines = text.trim().split('\n').filter(Boolean).map(l => JSON.parse(l))
    if (lines.length >= n || Date.now() > deadline) return lines
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

test('register makes btweb the btpk: handler, xdg-open reaches it, unregister restores the previous state', async () => {
  const { t, env } = await xdgEnv()
  try {
    // A previous handler for bittorrent: that must come back afterwards.
    await mkdir(path.join(env.XDG_DATA_HOME!, 'applications'), { recursive: true })
    await writeFile(path.join(env.XDG_DATA_HOME!, 'applications', 'other.desktop'), '[Desktop Entry]\nType=Application\nName=Other\nExec=true %u\nMimeType=x-scheme-handler/bittorrent;\n')
    await run('xdg-mime', ['default', 'other.desktop', 'x-scheme-handler/bittorrent'], { env })
    const mimeBefore = await readFile(path.join(env.XDG_CONFIG_HOME!, 'mimeapps.list'), 'utf8')
    const dataDir = path.join(t.dir, 'btweb')
    const reg = await runCli(['register', '--data-dir', dataDir], { env })
    assert.is(reg.code, 0, reg.stderr)
    assert.is(await query(env, 'btpk'), 'btweb.desktop')
    assert.is(await query(env, 'bittorrent'), 'btweb.desktop')
    assert.is.not(await query(env, 'magnet'), 'btweb.desktop') // never taken without --magnet
    const entry = await readFile(path.join(env.XDG_DATA_HOME!, 'applications', 'btweb.desktop'), 'utf8')
    assert.match(entry, /^MimeType=x-scheme-handler\/btpk;x-scheme-handler\/bittorrent;$/m)
    assert.match(entry, /^Exec=.*cli\.js open %u$/m)
    // Idempotent.
    assert.is((await runCli(['register', '--data-dir', dataDir], { env })).code, 0)

    // xdg-open → the desktop entry → `btweb open <url>` → (window replaced by a recorder).
    const log = path.join(t.dir, 'window.log')
    // xdg-open (generic mode) waits for the handler, which runs until it is told to stop.
    const opener = spawn('xdg-open', [`btpk://${KEY}/hello.html`], { env: { ...env, BTWEB_TEST_WINDOW_LOG: log, BTWEB_DATA_DIR: dataDir }, stdio: 'ignore' })
    const openerDone = new Promise(resolve => opener.on('close', resolve))
    const lines = await waitForLines(log, 1)
    assert.is(lines[0]?.open, `btpk://${KEY}/hello.html`)
    // A second link is handed to that running instance.
    await run('xdg-open', [`btpk://${KEY}/second.html`], { env: { ...env, BTWEB_TEST_WINDOW_LOG: log, BTWEB_DATA_DIR: dataDir } }).catch(() => undefined)
    const two = await waitForLines(log, 2)
    assert.is(two[1]?.open, `btpk://${KEY}/second.html`)
    assert.is(two[1].pid, two[0].pid)
    process.kill(two[0].pid, 'SIGTERM')
    await openerDone

    const un = await runCli(['unregister', '--data-dir', dataDir], { env })
    assert.is(un.code, 0)
    assert.is(await query(env, 'bittorrent'), 'other.desktop')
    assert.is(await query(env, 'btpk'), '')
    assert.is(await readFile(path.join(env.XDG_CONFIG_HOME!, 'mimeapps.list'), 'utf8'), mimeBefore)
    assert.not.ok(await access(path.join(env.XDG_DATA_HOME!, 'applications', 'btweb.desktop')).then(() => true, () => false))
  } finally {
    await t.cleanup()
  }
})

test('single instance: a second launch hands its URL over and exits 0; malformed URLs are refused', async () => {
  const t = await tempDir()
  try {
    const log = path.join(t.dir, 'window.log')
    const env = { BTWEB_TEST_WINDOW_LOG: log }
    const first = startCli(['open', `btpk://${KEY}/`, '--data-dir', t.dir], env)
    await waitForLines(log, 1)
    const second = await runCli(['open', `magnet:?xs=urn:btpk:${KEY}`, '--data-dir', t.dir], { env })
    assert.is(second.code, 0, second.stderr)
    assert.match(second.stdout, /running btweb/)
    const lines = await waitForLines(log, 2)
    assert.is(lines[1].open, `btpk://${KEY}/`)
    const bad = await runCli(['open', 'btpk://nope', '--data-dir', t.dir], { env })
    assert.is(bad.code, 2)
    // A raw, malformed message straight to the socket is answered with a refusal, nothing opens.
    const sock = instanceSocketPath(path.join(t.dir, 'ipc'))
    for (const msg of ['{"open":"javascript:alert(1)"}', 'not json', '{"open":42}', 'x'.repeat(20_000)]) {
      const reply = await new Promise<string>(resolve => {
        const s = net.connect(sock, () => s.end(msg + '\n'))
        let r = ''
        s.on('data', d => { r += d })
        s.on('close', () => resolve(r))
        s.on('error', () => resolve(r))
      })
      assert.ok(reply === '' || JSON.parse(reply).ok === false, reply)
    }
    assert.is((await waitForLines(log, 3, 500)).length, 2)
    // The channel is owner-only.
    assert.is((await stat(path.join(t.dir, 'ipc'))).mode & 0o777, 0o700)
    assert.is((await stat(sock)).mode & 0o077, 0)
    assert.is(await first.stop(), 0)
  } finally {
    await t.cleanup()
  }
})

test('another user cannot reach the hand-off socket; a stale socket is replaced', async () => {
  const t = await tempDir()
  try {
    const opened: string[] = []
    const server = await InstanceServer.listen(path.join(t.dir, 'ipc'), u => opened.push(u))
    assert.ok(server)
    assert.is(await handOff(server!.path, `btpk://${KEY}/x`), true)
    assert.equal(opened, [`btpk://${KEY}/x`])
    // Only root can switch users to try; the socket's folder is 0700, so connect fails.
    if (process.getuid?.() === 0) {
      const code = await new Promise<number | null>(resolve => {
        const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(server!.path)}).on('connect',()=>process.exit(0)).on('error',e=>process.exit(e.code==='EACCES'?3:4))`], { uid: 65534, gid: 65534, cwd: '/' })
        child.on('close', resolve)
      })
      assert.is(code, 3)
    }
    // Two servers cannot both own the socket; after close a new one can.
    assert.is(await InstanceServer.listen(path.join(t.dir, 'ipc'), () => undefined), null)
    await server!.close()
    // A crashed instance (SIGKILL) leaves its socket file behind: the next one replaces it.
    const sockPath = instanceSocketPath(path.join(t.dir, 'ipc'))
    const crashed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => console.log('up'))`])
    await new Promise(resolve => crashed.stdout.once('data', resolve))
    crashed.kill('SIGKILL')
    await new Promise(resolve => crashed.on('close', resolve))
    assert.ok(await access(sockPath).then(() => true, () => false))
    const again = await InstanceServer.listen(path.join(t.dir, 'ipc'), () => undefined)
    assert.ok(again)
    await again!.close()
  } finally {
    await t.cleanup()
  }
})

test.run()
