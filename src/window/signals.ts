/**
 * Termination signals for the engine worker.
 *
 * Measured: while webview's show() blocks the main thread, handlers registered there with
 * process.on('SIGINT') never run (libuv queues the signal for a loop that does not turn), and
 * Node does not deliver process.on signals in workers. libuv itself can watch a signal from
 * any loop, so the worker starts a watcher through the signal_wrap binding: the signal then
 * reaches the worker's loop, which is running. If that binding ever goes away we fall back to
 * the default disposition (the process dies; same process, so no orphaned worker).
 */
import { constants } from 'node:os'

interface SignalHandle { onsignal: (signum: number) => void, start: (signum: number) => number, close: () => void, unref: () => void }

const WATCHED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Calls `fn` on SIGINT/SIGTERM/SIGHUP; returns a function that stops watching. */
export function onTerminationSignal (fn: (name: string) => void): () => void {
  const handles: SignalHandle[] = []
  try {
    // process.binding is deprecated (DEP0111) but the only way to a signal watcher in a worker;
    // silence the one-time warning so users do not see it on every start.
    const quiet = process.noDeprecation
    process.noDeprecation = true
    let binding: { Signal: new () => SignalHandle }
    try {
      binding = (process as unknown as { binding: (name: string) => { Signal: new () => SignalHandle } }).binding('signal_wrap')
    } finally {
      process.noDeprecation = quiet
    }
    for (const name of WATCHED) {
      const handle = new binding.Signal()
      handle.onsignal = () => fn(name)
      if (handle.start(constants.signals[name]) !== 0) { handle.close(); continue }
      handle.unref() // never keep the worker alive just for this
      handles.push(handle)
    }
  } catch {
    // no signal_wrap: keep the default disposition (see above)
  }
  return () => { for (const h of handles.splice(0)) h.close() }
}
