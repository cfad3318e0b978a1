import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI = path.join(ROOT, 'dist/cli.js')

export interface CliResult { code: number | null, stdout: string, stderr: string, ms: number }

/** Run the built CLI (npm test builds it first) and collect its output. */
export async function runCli (args: string[], { input, timeoutMs = 60_000, env }: { input?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const started = Date.now()
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, BTWEB_BOOTSTRAP: '127.0.0.1:1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  child.stdin.end(input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr, ms: Date.now() - started }
}
