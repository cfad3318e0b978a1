/**
 * `btweb [url]` / `btweb open <url>`: hand the URL to a running btweb if there is one (single
 * instance), else open the window. The engine (and the instance socket) run in the window's
 * worker thread.
 */
import { formatAddress, parseAddress } from '../address.js'
import { parseArgs, parseSize } from '../args.js'
import { dataPaths } from '../data-dir.js'
import type { EngineOptions } from '../engine.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { handOff, instanceSocketPath, InstanceServer } from '../single-instance.js'
import { waitForSignal } from '../signals.js'
import { appendFile } from 'node:fs/promises'
import { HELP } from '../help.js'

export const OPEN_FLAGS = {
  ...GLOBAL_FLAGS,
  'cache-size': { type: 'string' },
  seed: { type: 'boolean' },
  utp: { type: 'boolean' }
} as const

export async function openCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, OPEN_FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const url = positionals[0] !== undefined ? formatAddress(parseAddress(positionals[0])) : undefined
  const opts = globalOptions(flags)
  const ipcDir = dataPaths(opts.dataDir).ipc
  if (url && await handOff(instanceSocketPath(ipcDir), url)) {
    process.stdout.write('Opened in the running btweb window.\n')
    return 0
  }
  const engineOptions: EngineOptions = {
    dataDir: opts.dataDir,
    bootstrap: opts.bootstrap,
    bind: opts.bind,
    cacheMaxBytes: flags['cache-size'] ? parseSize(flags['cache-size']) : undefined,
    seed: flags.seed,
    utp: flags.utp
  }
  // Tests replace only the window itself (the very edge) with a recorder of what it was asked to show.
  const recorder = process.env.BTWEB_TEST_WINDOW_LOG
  if (recorder) return await recordingWindow(recorder, ipcDir, url)
  const { openWindow } = await import('../window/main.js')
  return await openWindow({ url, engineOptions, ipcDir })
}

async function recordingWindow (logFile: string, ipcDir: string, url: string | undefined): Promise<number> {
  const record = (u: string) => appendFile(logFile, JSON.stringify({ pid: process.pid, open: u }) + '\n')
  const server = await InstanceServer.listen(ipcDir, (u) => { void record(u) })
  if (!server) return 1
  await record(url ?? 'start-page')
  process.stdout.write('ready\n')
  await waitForSignal()
  await server.close()
  return 0
}
