/** Options every command shares (--bootstrap, --data-dir, …), resolved to values with their defaults. */
import { defaultDataDir } from './data-dir.js'
import { MAINLINE_BOOTSTRAP, parseBootstrap } from './dht.js'
import type { FlagSpec } from './args.js'

export const GLOBAL_FLAGS = {
  bootstrap: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', alias: 'h' },
  bind: { type: 'string' } // address the DHT and torrent sockets bind (default all interfaces; tests: 127.0.0.1)
} as const satisfies FlagSpec

export interface GlobalOptions {
  bootstrap: string[]
  dataDir: string
  bind: string
}

export function globalOptions (flags: { bootstrap?: string, 'data-dir'?: string, bind?: string }, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  return {
    bootstrap: parseBootstrap(flags.bootstrap) ?? parseBootstrap(env.BTWEB_BOOTSTRAP) ?? MAINLINE_BOOTSTRAP,
    dataDir: flags['data-dir'] ?? defaultDataDir(env),
    bind: flags.bind ?? env.BTWEB_BIND ?? '0.0.0.0'
  }
}
