/**
 * Between the window's engine worker and the shell handler (both in the worker thread):
 *  - 'title': the shell asks for a window title; the worker forwards it to the main thread;
 *  - 'open': another `btweb <url>` handed its address over; the shell handler passes it to the
 *    shell page on its event stream.
 * Under `btweb serve` nobody listens and nothing is sent, which is what we want.
 */
import { EventEmitter } from 'node:events'

interface WindowChannelEvents {
  title: [string]
  open: [string]
}

export const windowChannel = new EventEmitter<WindowChannelEvents>()
