import { SHELL_HOST } from '../address.js'
import { parseArgs, parseSize } from '../args.js'
import { Engine } from '../engine.js'
import { BtwebError } from '../errors.js'
import { HELP } from '../help.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { waitForSignal } from '../signals.js'

export const SERVE_FLAGS = {
  ...GLOBAL_FLAGS,
  port: { type: 'number' },
  'cache-size': { type: 'string' },
  seed: { type: 'boolean' }, // --no-seed: stop sharing visited sites once nobody reads them
  utp: { type: 'boolean' } // --no-utp: TCP only
} as const

/**
 * `btweb serve [--port N] [--bootstrap …] [--data-dir …] [--bind addr] [--cache-size 2G] [--no-seed] [--no-utp]`:
 * the engine and its gateway without a window, until SIGINT/SIGTERM.
 */
export async function serveCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, SERVE_FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  if (positionals.length > 0) { process.stderr.write('btweb: usage: btweb serve [--port N] [--cache-size 2G] [--no-seed] [--no-utp]\n'); return 2 }
  const port = flags.port ?? 0
  if (!Number.isInteger(port) || port > 65535) throw new BtwebError('BAD_ARGUMENT', `--port takes a port number (0-65535), not ${port}.`)
  const opts = globalOptions(flags)
  const engine = await Engine.open({
    dataDir: opts.dataDir,
    bootstrap: opts.bootstrap,
    bind: opts.bind,
    gatewayPort: port,
    cacheMaxBytes: flags['cache-size'] !== undefined ? parseSize(flags['cache-size']) : undefined,
    seed: flags.seed ?? true,
    utp: flags.utp ?? false
  })
  const signal = waitForSignal()
  try {
    const p = engine.gateway!.port
    process.stdout.write(
      `btweb gateway on http://${SHELL_HOST}:${p}/\n` +
      `sites: http://<key base32>.btpk.localhost:${p}/  ·  http://<infohash hex>.btih.localhost:${p}/\n` +
      `try:   curl -H "Host: <key base32>.btpk.localhost:${p}" http://127.0.0.1:${p}/\n` +
      'Ctrl-C stops.\n')
    await signal
    process.stderr.write('btweb: shutting down…\n')
  } finally {
    await engine.close()
  }
  return 0
}
