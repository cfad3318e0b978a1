import { parseAddress } from '../address.js'
import { parseArgs } from '../args.js'
import { dataPaths } from '../data-dir.js'
import { createDht, destroyDht, dhtReady } from '../dht.js'
import { toHex } from '../hex.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { PointerStore } from '../pointer-store.js'
import { Resolver } from '../resolver.js'
import { HELP } from '../help.js'

/** `btweb resolve <url>`: one DHT node, one lookup, one JSON line. */
export async function resolveCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { ...GLOBAL_FLAGS, timeout: { type: 'number' } })
  if (flags.help) { process.stdout.write(HELP); return 0 }
  if (positionals.length !== 1) { process.stderr.write('btweb: usage: btweb resolve <url> [--timeout ms]\n'); return 2 }
  const address = parseAddress(positionals[0])
  if (address.kind === 'immutable') {
    process.stdout.write(JSON.stringify({ infohash: toHex(address.infohash) }) + '\n')
    return 0
  }
  const opts = globalOptions(flags)
  const timeoutMs = flags.timeout ?? 20_000
  const signal = AbortSignal.timeout(timeoutMs)
  const dht = await createDht({ bootstrap: opts.bootstrap, host: opts.bind })
  try {
    await dhtReady(dht, AbortSignal.any([signal, AbortSignal.timeout(Math.min(5000, timeoutMs))]))
    const resolver = new Resolver({ dht, store: new PointerStore(dataPaths(opts.dataDir).pointers), lookupTimeoutMs: timeoutMs })
    const r = await resolver.resolve(address, { signal })
    process.stdout.write(JSON.stringify({ publicKey: toHex(r.publicKey), salt: toHex(r.salt), seq: r.seq, infohash: toHex(r.infohash), ...(r.stale ? { stale: true } : {}) }) + '\n')
    return 0
  } finally {
    await destroyDht(dht)
  }
}
