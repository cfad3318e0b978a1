/**
 * What the window (main thread) and the engine worker say to each other. Two channels:
 *  - the worker's own port (worker.on('message') / parentPort): lifecycle, read while the main
 *    thread's event loop runs (before and after show());
 *  - `windowPort`: window-only work, drained with receiveMessageOnPort by the poll binding while
 *    show() blocks the main thread's event loop.
 */
import type { MessagePort } from 'node:worker_threads'

export interface WorkerData {
  engineOptions: unknown
  windowPort: MessagePort
  /** Where the single-instance socket lives; none: no single-instance server. */
  ipcDir?: string
}

/** worker → main, lifecycle. */
export type LifecycleMessage =
  | { type: 'ready', port: number, token: string }
  | { type: 'failed', code: string | null, message: string }

/** worker → main, drained during show(). */
export type WindowMessage =
  | { type: 'title', title: string }
  | { type: 'close' }

/** main → worker. */
export type ControlMessage = { type: 'shutdown' }
