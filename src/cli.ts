/**
 * btweb's command line. Each command lives in src/commands/<name>.ts and is loaded on demand,
 * so `btweb resolve` does not pay for loading webtorrent or the webview.
 */
import { BtwebError } from './errors.js'
import { EXIT } from './exit-codes.js'
import { HELP, VERSION } from './help.js'

type Command = (argv: string[]) => Promise<number>

const COMMANDS: Record<string, () => Promise<Command>> = {
  keygen: async () => (await import('./commands/keygen.js')).keygenCommand,
  keys: async () => (await import('./commands/keys.js')).keysCommand,
  resolve: async () => (await import('./commands/resolve.js')).resolveCommand,
  publish: async () => (await import('./commands/publish.js')).publishCommand,
  sites: async () => (await import('./commands/sites.js')).sitesCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  fetch: async () => (await import('./commands/fetch.js')).fetchCommand,
  open: async () => (await import('./commands/open.js')).openCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  'demo-network': async () => (await import('./commands/demo.js')).demoNetworkCommand,
  register: async () => (await import('./commands/register.js')).registerCommand,
  unregister: async () => (await import('./commands/register.js')).unregisterCommand
}

export async function main (argv: string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--version' || first === '-v') { process.stdout.write(VERSION + '\n'); return 0 }
  if (first === 'help' || first === '--help' || first === '-h') { process.stdout.write(HELP); return 0 }
  // `btweb` alone or `btweb <url>` opens the window.
  const name = first === undefined || !(first in COMMANDS) ? 'open' : first
  if (!(name in COMMANDS)) { process.stderr.write(`btweb: unknown command "${first ?? ''}". See "btweb --help".\n`); return 2 }
  const args = name === first ? rest : argv
  const command = await COMMANDS[name]()
  return await command(args)
}

export function reportError (err: unknown): number {
  if (err instanceof BtwebError) {
    process.stderr.write(`btweb: ${err.message}\n`)
    return EXIT[err.code] ?? 1
  }
  process.stderr.write(`btweb: internal error: ${(err as Error)?.stack ?? String(err)}\n`)
  return 1
}

// Run when executed (dist/cli.js is the package's bin).
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err) => { process.exitCode = reportError(err) }
)
