import { promises as fs, createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseAddress, type Address } from '../address.js'
import { parseArgs } from '../args.js'
import { Engine } from '../engine.js'
import { BtwebError, abortError } from '../errors.js'
import { HELP } from '../help.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import type { SiteContent, SiteFile } from '../torrents.js'

/**
 * `btweb fetch <url> [-o file] [--timeout ms] [--no-utp]`: one file of a site to stdout or a file, through
 * the engine (no gateway). A directory address gives its index.html. A saved file appears only
 * once complete (written to a temporary name, then renamed).
 */
export async function fetchCommand (argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { ...GLOBAL_FLAGS, output: { type: 'string', alias: 'o' }, timeout: { type: 'number' }, utp: { type: 'boolean' } })
  if (flags.help) { process.stdout.write(HELP); return 0 }
  if (positionals.length !== 1) { process.stderr.write('btweb: usage: btweb fetch <url> [-o file] [--timeout ms]\n'); return 2 }
  const address = parseAddress(positionals[0])
  const opts = globalOptions(flags)
  const timeoutMs = flags.timeout ?? 60_000
  const signal = AbortSignal.timeout(timeoutMs)
  const engine = await Engine.open({ dataDir: opts.dataDir, bootstrap: opts.bootstrap, bind: opts.bind, gatewayPort: false, utp: flags.utp ?? false, metadataTimeoutMs: Math.min(30_000, timeoutMs) })
  try {
    const version = await engine.resolveSite(address, { signal })
    if (version.stale) process.stderr.write('btweb: the DHT could not be reached; this is the cached version (possibly stale)\n')
    const content = await engine.torrents.get(version.infohash, { signal })
    const file = findFile(content, address)
    const source = file.createReadStream()
    const onAbort = () => source.destroy(abortError(signal, 'Fetching the file'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      if (flags.output !== undefined && flags.output !== '-') await saveTo(source, flags.output)
      else await pipeline(source, process.stdout, { end: false })
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    return 0
  } catch (err) {
    if (signal.aborted && !(err instanceof BtwebError && err.code === 'TIMEOUT')) throw abortError(signal, 'Fetching the site')
    throw err
  } finally {
    await engine.close()
  }
}

function findFile (content: SiteContent, address: Address): SiteFile {
  const sitePath = address.path.replace(/^\/+|\/+$/g, '')
  const direct = address.path.endsWith('/') ? null : content.file(sitePath)
  if (direct) return direct
  if (content.isDir(sitePath)) {
    const index = content.file(sitePath ? `${sitePath}/index.html` : 'index.html')
    if (index) return index
    throw new BtwebError('NOT_FOUND', `${address.path} is a folder without index.html: ${(content.list(sitePath) ?? []).map(e => e.name + (e.dir ? '/' : '')).join(', ')}`)
  }
  throw new BtwebError('NOT_FOUND', `The site has no file at ${address.path}.`)
}

async function saveTo (source: Readable, file: string): Promise<void> {
  const tmp = `${file}.btweb-partial`
  try {
    await pipeline(source, createWriteStream(tmp, { mode: 0o644 }))
    await fs.rename(tmp, file)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
}
