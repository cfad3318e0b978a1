/** Long-running CLI processes in tests: read their JSON lines, stop them with a signal, await exit. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { CLI } from './cli.js'

export interface Running {
  child: ChildProcessWithoutNullStreams
  stderr (): string
  /** The next JSON line on stdout. */
  json<T = Record<string, unknown>> (timeoutMs?: number): Promise<T>
  /** SIGTERM, then the exit code. */
  stop (): Promise<number | null>
}

export function startCli (args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const waiters: Array<() => void> = []
  child.stdout.on('data', d => { out += d; waiters.splice(0).forEach(w => w()) })
  child.stderr.on('data', d => { err += d })
  const exited = new Promise<number | null>(resolve => child.on('close', (code) => { waiters.splice(0).forEach(w => w()); resolve(code) }))
  return {
    child,
    stderr: () => err,
    async json<T> (timeoutMs = 60_000): Promise<T> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const nl = out.indexOf('\n')
        if (nl >= 0) {
          const line = out.slice(0, nl)
          out = out.slice(nl + 1)
          return JSON.parse(line) as T
        }
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before printing a line: ${err}`)
        if (Date.now() > deadline) throw new Error(`no line within ${timeoutMs} ms: ${err}`)
        await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200) })
      }
    },
    async stop () {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}
