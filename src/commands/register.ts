import path from 'node:path'
import { parseArgs } from '../args.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { packageRoot } from '../package-root.js'
import { assertRegisterable, register, unregister } from '../os/register.js'
import { HELP } from '../help.js'

/** `btweb register [--magnet]`: btweb opens btpk: and bittorrent: links (magnet: only with --magnet). */
export async function registerCommand (argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { ...GLOBAL_FLAGS, magnet: { type: 'boolean' } })
  if (flags.help) { process.stdout.write(HELP); return 0 }
  assertRegisterable()
  const root = packageRoot()
  const r = await register({
    command: [process.execPath, path.join(root, 'dist', 'cli.js')],
    icon: path.join(root, 'assets', 'icon.svg'),
    dataDir: globalOptions(flags).dataDir,
    magnet: flags.magnet
  })
  if (r.note) { process.stdout.write(r.note + '\n'); return 0 }
  process.stdout.write(`btweb now opens ${r.schemes.map(s => s + ':').join(', ')} links${r.desktopFile ? ` (${r.desktopFile})` : ''}. Undo with "btweb unregister".\n`)
  return 0
}

export async function unregisterCommand (argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, GLOBAL_FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const { removed } = await unregister({ dataDir: globalOptions(flags).dataDir })
  process.stdout.write(removed ? 'btweb no longer handles btpk: links; the previous handlers are back.\n' : 'btweb was not registered.\n')
  return 0
}
