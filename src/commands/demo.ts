/**
 * `btweb demo`: a private DHT on 127.0.0.1 and a publisher of the two built-in demo sites run in
 * a child process (`btweb demo-network`); the window opens site 1 with that DHT as bootstrap.
 * No internet is needed. `--no-window` serves instead (for machines without a display).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { gatewayUrl, parseAddress } from '../address.js'
import { parseArgs } from '../args.js'
import { BtwebError } from '../errors.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { startDemoNetwork } from '../demo-network.js'
import { waitForSignal } from '../signals.js'
import { HELP } from '../help.js'

export async function demoCommand (argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { ...GLOBAL_FLAGS, window: { type: 'boolean' } })
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const opts = globalOptions(flags)
  const demoDir = path.join(opts.dataDir, 'demo')
  const withWindow = flags.window ?? true
  if (withWindow) (await import('../window/main.js')).checkDisplay()

  const child = spawn(process.execPath, [...process.execArgv, path.resolve(process.argv[1]), 'demo-network', '--data-dir', demoDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('close', resolve))
  }
  try {
    const info = await new Promise<{ bootstrap: string[], site1: string, site2: string }>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! })
      lines.once('line', line => { try { resolve(JSON.parse(line)) } catch (err) { reject(err) } })
      child.once('close', code => reject(new BtwebError('PUBLISH_ERROR', `The demo network stopped (exit ${code}).`)))
    })
    process.stdout.write(`Demo network on 127.0.0.1 (${info.bootstrap.length} bootstrap nodes)\n  site 1: ${info.site1}\n  site 2: ${info.site2}\n  bootstrap: ${info.bootstrap.join(',')}\n`)
    const engineOptions = { dataDir: path.join(demoDir, 'browser'), bootstrap: info.bootstrap, bind: '127.0.0.1', utp: false, queryTimeoutMs: 500 }
    if (!withWindow) {
      const { Engine } = await import('../engine.js')
      const engine = await Engine.open(engineOptions)
      const port = engine.gateway!.port
      process.stdout.write(`Gateway: http://btweb.localhost:${port}/\n  site 1 in any browser that resolves *.localhost (Chromium, Firefox): ${gatewayUrl(parseAddress(info.site1), port)}\nPress Ctrl+C to stop.\n`)
      await waitForSignal()
      await engine.close()
      return 0
    }
    const { openWindow } = await import('../window/main.js')
    return await openWindow({ url: info.site1, engineOptions })
  } finally {
    await stop()
  }
}

/** The hidden child command: run the demo network, print its addresses as one JSON line, run until signalled. */
export async function demoNetworkCommand (argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, GLOBAL_FLAGS)
  const net = await startDemoNetwork({ dir: globalOptions(flags).dataDir })
  process.stdout.write(JSON.stringify({ bootstrap: net.bootstrap, site1: net.site1, site2: net.site2 }) + '\n')
  await waitForSignal()
  await net.close()
  return 0
}
