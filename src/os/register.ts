/**
 * Make btweb the handler of btpk: (and bittorrent:, and magnet: only when asked) links.
 *
 * Linux: a .desktop entry in $XDG_DATA_HOME/applications and the default handler set with
 * xdg-mime in the user's own $XDG_CONFIG_HOME/mimeapps.list (no root). What was the default
 * before is remembered in <data dir>/registration.json so that `unregister` puts it back and
 * removes exactly what `register` added.
 * Windows: per-user keys under HKCU\Software\Classes\<scheme> (reg.exe).
 * macOS: a URL scheme belongs to an app bundle's Info.plist; btweb is not a bundle, so
 * register explains what it cannot do instead of pretending.
 */
import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { BtwebError } from '../errors.js'
import { readFileOrNull, writeFileAtomic } from '../files.js'

const run = promisify(execFile)
export const DESKTOP_ID = 'btweb.desktop'

export interface RegisterOptions {
  /** The command that opens a URL, e.g. [node, /path/dist/cli.js]; "open %u" is appended. */
  command: string[]
  icon: string
  dataDir: string
  magnet?: boolean
  env?: NodeJS.ProcessEnv
}

interface Registration {
  schemes: string[]
  previous: Record<string, string | null>
  desktopFile: string
  /** Files and folders that did not exist before register: unregister removes them again if empty. */
  created: string[]
}

function mimeappsFile (env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'mimeapps.list')
}

async function exists (p: string): Promise<boolean> {
  return await fs.access(p).then(() => true, () => false)
}

export function schemesFor (magnet = false): string[] {
  return ['btpk', 'bittorrent', ...(magnet ? ['magnet'] : [])]
}

function xdgDataHome (env: NodeJS.ProcessEnv): string {
  return env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
}

function quoteExec (arg: string): string {
  // Desktop Entry spec: quote args with reserved characters; escape " ` $ \ inside quotes.
  return /^[A-Za-z0-9_./:=+-]+$/.test(arg) ? arg : `"${arg.replace(/(["`$\\])/g, '\\$1')}"`
}

export function desktopEntry (o: { command: string[], icon: string, schemes: string[] }): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=btweb',
    'GenericName=BitTorrent web browser',
    'Comment=Browse btpk:// sites from the BitTorrent swarm',
    `Exec=${[...o.command.map(quoteExec), 'open', '%u'].join(' ')}`,
    `Icon=${o.icon}`,
    'Terminal=false',
    'Categories=Network;WebBrowser;P2P;',
    `MimeType=${o.schemes.map(s => `x-scheme-handler/${s};`).join('')}`,
    ''
  ].join('\n')
}

async function xdgMimeQuery (scheme: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const { stdout } = await run('xdg-mime', ['query', 'default', `x-scheme-handler/${scheme}`], { env })
    return stdout.trim() || null
  } catch {
    return null
  }
}

function registrationFile (dataDir: string): string {
  return path.join(dataDir, 'registration.json')
}

export async function register (o: RegisterOptions): Promise<{ desktopFile?: string, schemes: string[], note?: string }> {
  const env = o.env ?? process.env
  const schemes = schemesFor(o.magnet)
  if (process.platform === 'win32') {
    for (const s of schemes) {
      const key = `HKCU\\Software\\Classes\\${s}`
      await run('reg', ['add', key, '/ve', '/d', `URL:${s} protocol`, '/f'])
      await run('reg', ['add', key, '/v', 'URL Protocol', '/d', '', '/f'])
      await run('reg', ['add', `${key}\\shell\\open\\command`, '/ve', '/d', `${o.command.map(c => `"${c}"`).join(' ')} open "%1"`, '/f'])
    }
    return { schemes }
  }
  if (process.platform === 'darwin') {
    return { schemes: [], note: 'On macOS a link handler must be an app bundle declaring CFBundleURLTypes; btweb is not packaged as one yet, so nothing was registered. Open links with "btweb <url>".' }
  }
  const appsDir = path.join(xdgDataHome(env), 'applications')
  const desktopFile = path.join(appsDir, DESKTOP_ID)
  const previousRecord = JSON.parse((await readFileOrNull(registrationFile(o.dataDir)))?.toString('utf8') ?? 'null') as Registration | null
  const previous: Record<string, string | null> = { ...previousRecord?.previous }
  for (const s of schemes) {
    if (!(s in previous)) {
      const current = await xdgMimeQuery(s, env)
      previous[s] = current === DESKTOP_ID ? null : current
    }
  }
  const created = previousRecord?.created ?? []
  for (const p of [appsDir, path.join(appsDir, 'mimeinfo.cache'), mimeappsFile(env)]) {
    if (!created.includes(p) && !(await exists(p))) created.push(p)
  }
  await fs.mkdir(appsDir, { recursive: true })
  await writeFileAtomic(desktopFile, desktopEntry({ command: o.command, icon: o.icon, schemes }), 0o644)
  await fs.mkdir(o.dataDir, { recursive: true, mode: 0o700 })
  await writeFileAtomic(registrationFile(o.dataDir), JSON.stringify({ schemes, previous, desktopFile, created } satisfies Registration, null, 2) + '\n', 0o644)
  for (const s of schemes) await run('xdg-mime', ['default', DESKTOP_ID, `x-scheme-handler/${s}`], { env })
  await run('update-desktop-database', [appsDir], { env }).catch(() => undefined) // optional: only a cache
  return { desktopFile, schemes }
}

export async function unregister (o: { dataDir: string, env?: NodeJS.ProcessEnv }): Promise<{ removed: boolean }> {
  const env = o.env ?? process.env
  if (process.platform === 'win32') {
    for (const s of schemesFor(true)) await run('reg', ['delete', `HKCU\\Software\\Classes\\${s}`, '/f']).catch(() => undefined)
    return { removed: true }
  }
  if (process.platform === 'darwin') return { removed: false }
  const raw = await readFileOrNull(registrationFile(o.dataDir))
  if (!raw) return { removed: false }
  const reg = JSON.parse(raw.toString('utf8')) as Registration
  for (const s of reg.schemes) {
    const prev = reg.previous[s]
    if (prev) await run('xdg-mime', ['default', prev, `x-scheme-handler/${s}`], { env })
    else await removeAssociation(env, s)
  }
  await fs.rm(reg.desktopFile, { force: true })
  await run('update-desktop-database', [path.dirname(reg.desktopFile)], { env }).catch(() => undefined)
  // Put back the "did not exist" state of what register created, where nothing else lives there now.
  for (const p of [...(reg.created ?? [])].reverse()) {
    if (p.endsWith('mimeapps.list')) {
      const left = (await readFileOrNull(p))?.toString('utf8') ?? ''
      if (left.split('\n').every(l => l.trim() === '' || /^\[.*\]$/.test(l.trim()))) await fs.rm(p, { force: true })
    } else if (p.endsWith('mimeinfo.cache')) {
      await fs.rm(p, { force: true })
    } else {
      await fs.rmdir(p).catch(() => undefined) // only if empty
    }
  }
  await fs.rm(registrationFile(o.dataDir), { force: true })
  return { removed: true }
}

/** Drop `x-scheme-handler/<s>=btweb.desktop` lines that xdg-mime wrote to the user's mimeapps.list. */
async function removeAssociation (env: NodeJS.ProcessEnv, scheme: string): Promise<void> {
  const file = mimeappsFile(env)
  const text = (await readFileOrNull(file))?.toString('utf8')
  if (text === undefined) return
  const key = `x-scheme-handler/${scheme}=`
  const out = text.split('\n').flatMap(line => {
    if (!line.startsWith(key)) return [line]
    const rest = line.slice(key.length).split(';').filter(id => id && id !== DESKTOP_ID)
    return rest.length ? [key + rest.join(';') + ';'] : []
  })
  await writeFileAtomic(file, out.join('\n'), 0o644)
}

export function assertRegisterable (): void {
  if (process.platform === 'linux' || process.platform === 'win32' || process.platform === 'darwin') return
  throw new BtwebError('BAD_ARGUMENT', `Registering a link handler is not supported on ${process.platform}.`)
}
