/** A small, strict argument parser: known flags only, typed values, human errors. */
import { BtwebError } from './errors.js'

export interface FlagSpec {
  [name: string]: { type: 'string' | 'number' | 'boolean', alias?: string }
}

export type Flags<S extends FlagSpec> = {
  [K in keyof S]?: S[K]['type'] extends 'number' ? number : S[K]['type'] extends 'boolean' ? boolean : string
}

export function parseArgs<S extends FlagSpec> (argv: string[], spec: S): { flags: Flags<S>, positionals: string[] } {
  const flags: Record<string, unknown> = {}
  const positionals: string[] = []
  const byAlias = new Map(Object.entries(spec).filter(([, s]) => s.alias).map(([n, s]) => [s.alias!, n]))
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break }
    if (!arg.startsWith('-') || arg === '-') { positionals.push(arg); continue }
    let [name, inline] = arg.startsWith('--') ? splitEq(arg.slice(2)) : [byAlias.get(arg.slice(1)) ?? arg.slice(1), undefined]
    let negate = false
    if (!(name in spec) && name.startsWith('no-') && spec[name.slice(3)]?.type === 'boolean') { name = name.slice(3); negate = true }
    const s = spec[name]
    if (!s) throw new BtwebError('BAD_ARGUMENT', `Unknown option "${arg}". See "btweb --help".`)
    if (s.type === 'boolean') { flags[name] = !negate; continue }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new BtwebError('BAD_ARGUMENT', `Option --${name} needs a value.`)
    if (s.type === 'number') {
      const n = Number(value)
      if (!Number.isFinite(n) || n < 0) throw new BtwebError('BAD_ARGUMENT', `Option --${name} takes a non-negative number, not "${value}".`)
      flags[name] = n
    } else {
      flags[name] = value
    }
  }
  return { flags: flags as Flags<S>, positionals }
}

function splitEq (s: string): [string, string | undefined] {
  const i = s.indexOf('=')
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

/** Parse sizes like 500M, 2G, 1048576. */
export function parseSize (text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?$/.exec(text.trim())
  if (!m) throw new BtwebError('BAD_ARGUMENT', `"${text}" is not a size (try 500M or 2G).`)
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't']
  return Math.floor(Number(m[1]) * mult)
}
