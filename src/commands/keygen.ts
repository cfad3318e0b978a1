import { formatAddress } from '../address.js'
import { parseArgs } from '../args.js'
import { dataPaths } from '../data-dir.js'
import { KeyStore } from '../keys.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { HELP } from '../help.js'

export async function keygenCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, GLOBAL_FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const name = positionals[0] ?? 'default'
  const keys = new KeyStore(dataPaths(globalOptions(flags).dataDir).keys)
  const key = await keys.create(name)
  const url = formatAddress({ kind: 'mutable', publicKey: key.publicKey, salt: new Uint8Array(0), path: '/', query: '', fragment: '' })
  process.stdout.write(`Created key "${name}" in ${key.file}\nIts site address: ${url}\nKeep this file safe: whoever holds it can publish as this site.\n`)
  return 0
}
