import { readFile } from 'node:fs/promises'
import { formatAddress } from '../address.js'
import { parseArgs } from '../args.js'
import { dataPaths } from '../data-dir.js'
import { BtwebError } from '../errors.js'
import { fromHex, toHex } from '../hex.js'
import { KeyStore } from '../keys.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { HELP } from '../help.js'

const siteUrl = (publicKey: Uint8Array) => formatAddress({ kind: 'mutable', publicKey, salt: new Uint8Array(0), path: '/', query: '', fragment: '' })

/**
 * `btweb keys [list]`, `btweb keys export <name>` (prints the secret seed as hex, with a warning
 * on stderr), `btweb keys import <name> <file|->` (a 64-hex seed or an exported key file; never
 * overwrites an existing name).
 */
export async function keysCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, GLOBAL_FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const keys = new KeyStore(dataPaths(globalOptions(flags).dataDir).keys)
  const [action = 'list', name, source] = positionals
  if (action === 'list') {
    const list = await keys.list()
    if (list.length === 0) process.stdout.write(`No keys in ${keys.dir}. Create one with "btweb keygen".\n`)
    for (const k of list) process.stdout.write(k.publicKey ? `${k.name}\t${siteUrl(k.publicKey)}\n` : `${k.name}\tERROR: ${k.error}\n`)
    return 0
  }
  if (action === 'export' && name) {
    const key = await keys.load(name)
    if (!key) throw new BtwebError('KEY_ERROR', `There is no key named "${name}" in ${keys.dir}.`)
    process.stderr.write('btweb: WARNING: this is the secret key. Anyone who has it can publish as this site. Store it safely.\n')
    process.stdout.write(JSON.stringify({ type: 'ed25519', seed: toHex(key.seed), publicKey: toHex(key.publicKey) }) + '\n')
    return 0
  }
  if (action === 'import' && name && source) {
    const text = (source === '-' ? await readStdin() : await readFile(source, 'utf8')).trim()
    let seedHex = text
    if (text.startsWith('{')) {
      try { seedHex = String(JSON.parse(text).seed ?? '') } catch { seedHex = '' }
    }
    const seed = fromHex(seedHex)
    if (!seed || seed.length !== 32) throw new BtwebError('KEY_ERROR', 'The input is neither a 64-hex ed25519 seed nor a key exported by "btweb keys export".')
    const key = await keys.import(name, seed)
    process.stdout.write(`Imported key "${name}" into ${key.file}\nIts site address: ${siteUrl(key.publicKey)}\n`)
    return 0
  }
  process.stderr.write('btweb: usage: btweb keys [list | export <name> | import <name> <file|->]\n')
  return 2
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
