import { parseArgs } from '../args.js'
import { dataPaths } from '../data-dir.js'
import { GLOBAL_FLAGS, globalOptions } from '../options.js'
import { PublishedSites } from '../published.js'
import { HELP } from '../help.js'

/** `btweb sites [--json]`: the sites this data dir publishes. */
export async function sitesCommand (argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { ...GLOBAL_FLAGS, json: { type: 'boolean' } })
  if (flags.help) { process.stdout.write(HELP); return 0 }
  const sites = await new PublishedSites(dataPaths(globalOptions(flags).dataDir).published).list()
  if (flags.json) {
    for (const s of sites) {
      const v = s.versions.at(-1)
      process.stdout.write(JSON.stringify({ url: s.url, seq: v?.seq, infohash: v?.infohash, folder: s.folder, key: s.keyName }) + '\n')
    }
    return 0
  }
  if (sites.length === 0) { process.stdout.write('This data dir publishes no sites yet. Try "btweb publish <folder>".\n'); return 0 }
  for (const s of sites) {
    const v = s.versions.at(-1)
    process.stdout.write(`${s.url}\n  seq ${v?.seq}  infohash ${v?.infohash}\n  folder ${s.folder}  key "${s.keyName}"\n`)
  }
  return 0
}
