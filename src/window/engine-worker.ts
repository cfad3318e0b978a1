/**
 * The engine side of the window, run in a worker_thread (the window blocks the main thread).
 * Opens the engine, tells the window where the shell is, forwards window-only requests, and
 * owns shutdown: on a termination signal it asks the window to close; on 'shutdown' from the
 * window it closes the engine and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isBtwebError } from '../errors.js'
import { log } from '../log.js'
import { InstanceServer } from '../single-instance.js'
import { windowChannel } from './channel.js'
import type { ControlMessage, LifecycleMessage, WindowMessage, WorkerData } from './messages.js'
import { onTerminationSignal } from './signals.js'

/** What the window needs from an engine; the real Engine fits, tests pass a stand-in. */
export interface WindowEngine {
  gateway: { port: number } | null
  shellToken: string
  close (): Promise<void>
}

const CLOSE_TIMEOUT_MS = 10_000

export async function runEngineWorker (open: (options: unknown) => Promise<WindowEngine>): Promise<void> {
  if (!parentPort) throw new Error('runEngineWorker runs in a worker thread')
  const parent = parentPort
  const { engineOptions, windowPort, ipcDir } = workerData as WorkerData
  const toWindow = (m: WindowMessage): void => windowPort.postMessage(m)
  const toMain = (m: LifecycleMessage): void => parent.postMessage(m)

  let engine: WindowEngine | null = null
  let instance: InstanceServer | null = null
  let ready = false
  let closeRequested = false // a signal or 'shutdown' came while the engine was still opening
  let stopping = false
  const exit = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    stopSignals()
    try {
      await instance?.close()
      if (engine) await Promise.race([engine.close(), new Promise(resolve => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())])
    } catch (err) {
      log('window', `engine close failed: ${(err as Error).message}`)
    }
    windowChannel.removeAllListeners('title')
    windowChannel.removeAllListeners('open')
    windowPort.close()
    parent.close()
  }

  // Signals arrive here, not on the (blocked) main thread: ask the window to close; the window
  // then sends 'shutdown'. Before the window exists there is nothing to close but the engine.
  const stopSignals = onTerminationSignal((name) => {
    log('window', `${name}: closing`)
    if (ready) toWindow({ type: 'close' })
    else closeRequested = true
  })

  parent.on('message', (m: ControlMessage) => {
    if (m?.type !== 'shutdown') return
    if (engine) void exit()
    else closeRequested = true
  })

  try {
    engine = await open(engineOptions)
  } catch (err) {
    toMain({ type: 'failed', code: isBtwebError(err) ? err.code : null, message: (err as Error)?.message ?? String(err) })
    await exit()
    return
  }
  if (closeRequested) { await exit(); return }
  if (!engine.gateway) {
    toMain({ type: 'failed', code: 'BAD_ARGUMENT', message: 'The window needs the engine\'s gateway (gatewayPort must not be false).' })
    await exit()
    return
  }
  windowChannel.on('title', (title) => toWindow({ type: 'title', title }))
  if (ipcDir) {
    // Later `btweb <url>` calls hand their address to this window (see single-instance.ts).
    try {
      instance = await InstanceServer.listen(ipcDir, (url) => windowChannel.emit('open', url))
    } catch (err) {
      log('window', `no single-instance socket: ${(err as Error).message}`)
    }
  }
  ready = true
  toMain({ type: 'ready', port: engine.gateway.port, token: engine.shellToken })
}
