/** A TypeScript helper script in its own Node process (via tsx), read line by line as JSON. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import path from 'node:path'
import { ROOT } from './cli.js'

export interface Child {
  child: ChildProcessWithoutNullStreams
  /** Every JSON line printed so far. */
  lines: Array<Record<string, unknown>>
  stderr (): string
  /** The first line (from the start) matching `pred`; rejects if the process exits first or after `timeoutMs`. */
  waitFor (pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGKILL now; resolves once the process is gone. */
  kill (): Promise<void>
}

const live = new Set<ChildProcessWithoutNullStreams>()
process.once('exit', () => { for (const c of live) c.kill('SIGKILL') })

export function spawnTs (script: string, arg: unknown): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), JSON.stringify(arg)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  live.add(child)
  const lines: Array<Record<string, unknown>> = []
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  const wake = () => { for (const w of [...waiters]) w() }
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    out += d
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      try { lines.push(JSON.parse(line)) } catch { err += `[stdout] ${line}\n` }
    }
    wake()
  })
  child.stderr.on('data', d => { err += d; if (err.length > 20_000) err = err.slice(-10_000) })
  child.stdin.on('error', () => {})
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('close', (code, signal) => { live.delete(child); wake(); resolve({ code, signal }) }))
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    async waitFor (pred, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = lines.find(pred)
        if (hit) return hit
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${script} exited (${child.exitCode ?? child.signalCode}) first: ${err}`)
        if (Date.now() > deadline) throw new Error(`${script}: nothing matching within ${timeoutMs} ms: ${err}`)
        await new Promise<void>(resolve => { const w = () => { waiters.delete(w); resolve() }; waiters.add(w); setTimeout(w, 100) })
      }
    },
    async kill () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
}
