/**
 * One btweb window per user: the first instance listens on a Unix socket (a named pipe on
 * Windows) in the user's own 0700 data folder; a second `btweb <url>` hands its URL over and
 * exits. The channel accepts only the same user (the folder and the socket are owner-only),
 * one bounded JSON line per connection, and only addresses that parse.
 */
import { promises as fs } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseAddress, formatAddress } from './address.js'
import { BtwebError } from './errors.js'
import { log } from './log.js'

const MAX_MESSAGE = 16 * 1024

export function instanceSocketPath (ipcDir: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\btweb-${os.userInfo().username}-${Buffer.from(ipcDir).toString('hex').slice(-16)}`
  return path.join(ipcDir, 'instance.sock')
}

/** Ask a running instance to open `url`. Resolves true if it took it, false if none is running. */
export async function handOff (socketPath: string, url: string, { timeoutMs = 3000 } = {}): Promise<boolean> {
  const canonical = formatAddress(parseAddress(url)) // refuse to send what the receiver would refuse
  return await new Promise<boolean>((resolve, reject) => {
    const socket = net.connect(socketPath)
    let reply = ''
    const timer = setTimeout(() => { socket.destroy(); resolve(false) }, timeoutMs)
    socket.on('connect', () => socket.end(JSON.stringify({ open: canonical }) + '\n'))
    socket.on('data', d => { reply += d; if (reply.length > MAX_MESSAGE) socket.destroy() })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false)
      else reject(err)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      try {
        const r = JSON.parse(reply) as { ok?: boolean, error?: string }
        if (r.ok) resolve(true)
        else reject(new BtwebError('BAD_ADDRESS', r.error ?? 'The running btweb refused the address.'))
      } catch {
        resolve(false)
      }
    })
  })
}

export class InstanceServer {
  readonly #server: net.Server
  readonly path: string

  private constructor (server: net.Server, socketPath: string) {
    this.#server = server
    this.path = socketPath
  }

  /**
   * Become the instance. Returns null if another instance answers on the socket.
   * A stale socket left by a crashed instance is removed.
   */
  static async listen (ipcDir: string, onOpen: (url: string) => void): Promise<InstanceServer | null> {
    await fs.mkdir(ipcDir, { recursive: true, mode: 0o700 })
    if (process.platform !== 'win32') await fs.chmod(ipcDir, 0o700)
    const socketPath = instanceSocketPath(ipcDir)
    const server = net.createServer({ allowHalfOpen: true }, socket => {
      let data = ''
      socket.setTimeout(5000, () => socket.destroy())
      socket.on('data', d => {
        data += d
        if (data.length > MAX_MESSAGE) socket.destroy()
      })
      socket.on('error', () => socket.destroy())
      socket.on('end', () => {
        let url: string
        try {
          const msg = JSON.parse(data) as { open?: unknown }
          if (typeof msg.open !== 'string') throw new BtwebError('BAD_ADDRESS', 'No address given.')
          url = formatAddress(parseAddress(msg.open))
        } catch (err) {
          socket.end(JSON.stringify({ ok: false, error: err instanceof BtwebError ? err.message : 'Malformed message.' }) + '\n')
          return
        }
        log('instance', `handed ${url}`)
        socket.end(JSON.stringify({ ok: true }) + '\n')
        onOpen(url)
      })
    })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(socketPath, () => { server.off('error', reject); resolve() })
        })
        if (process.platform !== 'win32') await fs.chmod(socketPath, 0o600)
        return new InstanceServer(server, socketPath)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err
        if (await isAlive(socketPath)) return null
        await fs.rm(socketPath, { force: true }) // stale: its instance died
      }
    }
    return null
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }
}

async function isAlive (socketPath: string): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(socketPath)
    s.on('connect', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}
