/**
 * The window: webview-nodejs on the main thread, the engine in a worker (see DESIGN.md: show()
 * blocks this thread's event loop, so nothing else can run here while the window is open).
 *
 * The only binding is the poll function. Bindings are callable from every frame of every
 * origin, so it takes no arguments, returns nothing, and only performs window-only work the
 * worker queued: any page calling it merely makes that work happen a little earlier.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { SHELL_HOST } from '../address.js'
import { BtwebError, type ErrorCode } from '../errors.js'
import { log } from '../log.js'
import { packageRoot } from '../package-root.js'
import type { ControlMessage, LifecycleMessage, WindowMessage, WorkerData } from './messages.js'

export interface OpenWindowOptions {
  /** Address to open first (any form parseAddress accepts); the shell shows a start page without one. */
  url?: string
  /** Passed as is to Engine.open in the worker. */
  engineOptions: unknown
  /** The worker script; default dist/worker.js (src/window/worker.ts when run from source). Tests pass a stand-in. */
  workerUrl?: URL
  /** Folder of the single-instance socket: later `btweb <url>` calls open their address here. */
  ipcDir?: string
  /** WebKit developer tools and console output. */
  debug?: boolean
}

const POLL = '__btweb_poll'
const POLL_MS = 200
const SHUTDOWN_TIMEOUT_MS = 15_000
const MAX_TITLE = 300

/** Throws NO_DISPLAY when a window cannot open (checked before anything starts). */
export function checkDisplay (): void {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    throw new BtwebError('NO_DISPLAY', 'No display found: run "btweb serve" and use any browser, or run under xvfb-run.')
  }
}

function defaultWorkerUrl (): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('./worker.ts', import.meta.url) // from source, under tsx
  const file = path.join(packageRoot(), 'dist', 'worker.js') // bundled: this code is in dist/ or dist/chunks/
  if (!existsSync(file)) throw new BtwebError('BAD_ARGUMENT', 'dist/worker.js is missing: run "npm run build".')
  return pathToFileURL(file)
}

/**
 * Node 20 does not carry tsx's loader (`--import tsx`) into workers, so a TypeScript worker
 * (running from source) starts from a one-line module that registers tsx first.
 */
function workerEntry (url: URL): URL {
  if (!url.pathname.endsWith('.ts')) return url
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(url.href)})`
  return new URL('data:text/javascript,' + encodeURIComponent(boot))
}

interface WebviewLike {
  title (v: string): void
  size (w: number, h: number, hints?: number): void
  navigate (url: string): void
  init (js: string): void
  bind (name: string, fn: (...args: unknown[]) => unknown): void
  start (): void
  terminate (): void
  destroy (): void
}

/** Opens the window and returns the process exit code once it is closed (window, SIGINT, SIGTERM). */
export async function openWindow (opts: OpenWindowOptions): Promise<number> {
  checkDisplay()
  // Measured: software rendering without compositing saves ~70 MB in the web process.
  process.env.WEBKIT_DISABLE_COMPOSITING_MODE ??= '1'

  const { port1: windowPort, port2 } = new MessageChannel()
  const data: WorkerData = { engineOptions: opts.engineOptions, windowPort: port2, ipcDir: opts.ipcDir }
  const worker = new Worker(workerEntry(opts.workerUrl ?? defaultWorkerUrl()), { workerData: data, transferList: [port2] })
  let workerError: Error | null = null
  worker.on('error', (err) => { workerError = err })
  const exited = new Promise<number>(resolve => worker.once('exit', resolve))

  try {
    const first = await firstMessage(worker, exited)
    if (workerError) throw workerError
    if (first === null) return 0 // a signal closed btweb before the window opened
    if (first.type === 'failed') {
      await exited
      throw first.code ? new BtwebError(first.code as ErrorCode, first.message) : new Error(first.message)
    }
    showWindow(first.port, first.token, opts, windowPort) // blocks until the window closes
  } finally {
    worker.postMessage({ type: 'shutdown' } satisfies ControlMessage)
    const timer = setTimeout(() => { log('window', 'engine did not stop in time; terminating it'); void worker.terminate() }, SHUTDOWN_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
    windowPort.close()
  }
  if (workerError) throw workerError
  return 0
}

/** The worker's first lifecycle message, or null if it ended without one. */
function firstMessage (worker: Worker, exited: Promise<number>): Promise<LifecycleMessage | null> {
  return new Promise((resolve) => {
    const onMessage = (m: LifecycleMessage): void => { worker.off('message', onMessage); resolve(m) }
    worker.on('message', onMessage)
    exited.then(() => { worker.off('message', onMessage); resolve(null) }, () => resolve(null))
  })
}

function showWindow (port: number, token: string, opts: OpenWindowOptions, windowPort: MessagePort): void {
  const require = createRequire(import.meta.url)
  const { Webview } = require('webview-nodejs') as { Webview: new (debug?: boolean) => WebviewLike }
  const w = new Webview(opts.debug ?? false)
  w.title('btweb')
  w.size(1024, 768)

  w.bind(POLL, () => {
    let m: { message: WindowMessage } | undefined
    while ((m = receiveMessageOnPort(windowPort) as { message: WindowMessage } | undefined) !== undefined) {
      applyWindowMessage(w, m.message)
    }
    return null
  })
  // init() runs in the top frame only, on every page (also WebKit's error page), so the poll
  // keeps going even if the shell fails to load; errors are swallowed so a page cannot make it loud.
  w.init(`setInterval(function(){try{var p=window.${POLL}&&window.${POLL}();p&&p.catch&&p.catch(function(){})}catch(e){}},${POLL_MS})`)

  // The token and first address travel in the fragment: never sent to a server, never logged.
  const fragment = new URLSearchParams({ token, ...(opts.url ? { url: opts.url } : {}) })
  w.navigate(`http://${SHELL_HOST}:${port}/#${fragment.toString()}`)
  w.start()
  w.destroy()
}

function applyWindowMessage (w: WebviewLike, m: WindowMessage): void {
  switch (m?.type) {
    case 'title': w.title(String(m.title).slice(0, MAX_TITLE)); break
    case 'close': w.terminate(); break
  }
}
