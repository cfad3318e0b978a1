/** Where btweb keeps its state: the platform's per-user data directory. */
import os from 'node:os'
import path from 'node:path'

export function defaultDataDir (env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.BTWEB_DATA_DIR) return env.BTWEB_DATA_DIR
  const home = os.homedir()
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'btweb')
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'btweb')
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'btweb')
}

/** The layout inside a data dir, in one place. */
export function dataPaths (dataDir: string) {
  return {
    root: dataDir,
    keys: path.join(dataDir, 'keys'),
    pointers: path.join(dataDir, 'pointers'),
    published: path.join(dataDir, 'published'),
    cache: path.join(dataDir, 'cache'),
    ipc: path.join(dataDir, 'ipc')
  }
}
