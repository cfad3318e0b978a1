/** What a process is, its children, and how much memory it holds, from /proc (Linux). Used by tests and benches. */
import { readdirSync, readFileSync } from 'node:fs'

function read (file: string): string | null {
  try { return readFileSync(file, 'utf8') } catch { return null } // the process ended meanwhile
}

/** Proportional set size in kB (shared pages split between their users), or 0 once the process ended. */
export function pssKb (pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '')
  return m ? Number(m[1]) : 0
}

/** Resident set size in kB, or 0 once the process ended. */
export function rssKb (pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`) ?? '')
  return m ? Number(m[1]) : 0
}

/** The command line, arguments joined by spaces ('' once the process ended). */
export function cmdline (pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim()
}

/** The short name (comm), e.g. "WebKitWebProces" (15 characters at most). */
export function comm (pid: number): string {
  return (read(`/proc/${pid}/comm`) ?? '').trim()
}

/** Pids of all descendants of `pid` (e.g. the WebKit processes of a window). */
export function descendants (pid: number): number[] {
  const children = new Map<number, number[]>()
  let entries: string[] = []
  try { entries = readdirSync('/proc') } catch { return [] }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const stat = read(`/proc/${entry}/stat`)
    if (!stat) continue
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    const list = children.get(ppid) ?? []
    list.push(Number(entry))
    children.set(ppid, list)
  }
  const out: number[] = []
  const walk = (p: number): void => { for (const c of children.get(p) ?? []) { out.push(c); walk(c) } }
  walk(pid)
  return out
}
