/**
 * `btweb publish <dir>`: publish a folder as a site (see publish-site.ts), then keep seeding it
 * and re-putting its pointer until SIGINT/SIGTERM. `--once` exits after the put.
 */
import { MAX_SALT_BYTES, parseSaltHex } from '../address.js'
import { parseArgs, parseSize } from '../args.js'
import { dataPaths } from '../data-dir.js'
import { Engine } from '../engine.js'
import { BtwebError } from '../errors.js'
import { KeyStore, checkKeyName } from '../keys.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { progressBar } from '../progress-bar.js'
import { checkFolder, publishFolder, seedPreviousVersions } from '../publish-site.js'
import { Republisher } from '../publisher.js'
import { waitForSignal } from '../signals.js'
import { HELP } from '../help.js'

const FLAGS = {
  ...GLOBAL_FLAGS,
  key: { type: 'string' },
  salt: { type: 'string' },
  'salt-hex': { type: 'string' },
  once: { type: 'boolean' },
  json: { type: 'boolean' },
  'include-hidden': { type: 'boolean' },
  'cache-size': { type: 'string' },
  'republish-interval': { type: 'number' }, // ms
  grace: { type: 'number' }, // seconds the previous version keeps seeding
  utp: { type: 'boolean' },
  'torrent-port': { type: 'number' }
} as const

export async function publishCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS)
  if (flags.help) { process.stdout.write(HELP); return 0 }
  if (positionals.length !== 1) throw new BtwebError('BAD_ARGUMENT', 'Usage: btweb publish <folder> [--key name] [--salt text | --salt-hex hex] [--once]')
  const opts = globalOptions(flags)
  // Validate everything before touching keys or state: bad input changes nothing.
  const salt = saltFrom(flags.salt, flags['salt-hex'])
  const keyName = checkKeyName(flags.key ?? 'default')
  const cacheMaxBytes = flags['cache-size'] ? parseSize(flags['cache-size']) : 2 * 2 ** 30
  await checkFolder(positionals[0], { includeHidden: flags['include-hidden'], maxBytes: cacheMaxBytes })
  const { key, created } = await new KeyStore(dataPaths(opts.dataDir).keys).loadOrCreate(keyName)
  if (created) process.stderr.write(`Created a new key "${keyName}" in ${key.file} — keep it safe: it is this site's identity.\n`)

  const engine = await Engine.open({
    dataDir: opts.dataDir,
    bootstrap: opts.bootstrap,
    bind: opts.bind,
    gatewayPort: false,
    cacheMaxBytes,
    utp: flags.utp ?? false,
    torrentPort: flags['torrent-port'] ?? 0
  })
  const republisher = new Republisher({ dht: engine.dht, store: engine.store, intervalMs: flags['republish-interval'] ?? 30 * 60_000 })
  try {
    const bar = progressBar('hashing')
    const r = await publishFolder(engine, {
      folder: positionals[0],
      key,
      salt,
      includeHidden: flags['include-hidden'],
      maxBytes: cacheMaxBytes,
      onProgress: bar.update,
      onSkipped: s => process.stderr.write(`skipped ${s}\n`)
    }).finally(() => bar.end())
    if (r.stored < 1 && !r.unchanged) throw new BtwebError('DHT_ERROR', 'No DHT node stored the pointer.')
    if (flags.json) {
      process.stdout.write(JSON.stringify({ url: r.record.url, magnet: r.record.magnet, seq: r.pointer.seq, infohash: r.infohash, files: r.files.length, bytes: r.totalBytes, stored: r.stored, key: key.file }) + '\n')
    } else {
      process.stdout.write(`Published ${r.record.folder} as version ${r.pointer.seq} (${r.files.length} files, ${(r.totalBytes / 2 ** 20).toFixed(2)} MB, stored on ${r.stored} DHT nodes)\n  ${r.record.url}\n  ${r.record.magnet}\n  infohash ${r.infohash}\n`)
    }
    if (flags.once) return 0
    republisher.add(r.site)
    await seedPreviousVersions(engine, r.record, (flags.grace ?? 3600) * 1000)
    process.stderr.write('Seeding and keeping the pointer alive. Press Ctrl+C to stop.\n')
    await waitForSignal()
    return 0
  } finally {
    republisher.close()
    await engine.close()
  }
}

function saltFrom (text: string | undefined, hex: string | undefined): Uint8Array {
  if (text !== undefined && hex !== undefined) throw new BtwebError('BAD_ARGUMENT', 'Give --salt or --salt-hex, not both.')
  const salt = hex !== undefined ? parseSaltHex(hex) : new TextEncoder().encode(text ?? '')
  if (salt.length > MAX_SALT_BYTES) throw new BtwebError('BAD_ARGUMENT', `A salt holds at most ${MAX_SALT_BYTES} bytes; this one has ${salt.length}.`)
  return salt
}
