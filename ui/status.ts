/** The status line's words for an engine 'status' event (pure, for the shell). */
export interface StatusEvent {
  site: string
  phase: 'resolving' | 'metadata' | 'downloading' | 'done' | 'error'
  peers: number
  progress: number
  seq?: number
  stale?: boolean
  error?: string
}

function peers (n: number): string { return n === 1 ? '1 peer' : `${n} peers` }

export function statusText (s: StatusEvent): string {
  switch (s.phase) {
    case 'resolving': return 'Looking up the site in the DHT…'
    case 'metadata': return s.peers > 0 ? `Connecting to peers… (${peers(s.peers)})` : 'Connecting to peers…'
    case 'downloading': return `Downloading ${Math.floor(Math.min(1, Math.max(0, s.progress)) * 100)}% · ${peers(s.peers)}`
    case 'done': return `Done · ${peers(s.peers)}`
    case 'error': return `Error: ${s.error ?? 'the site could not be loaded'}`
  }
}

export function versionText (s: { seq?: number, stale?: boolean }): string {
  if (typeof s.seq !== 'number') return ''
  return `version ${s.seq}` + (s.stale ? ' (saved copy: the DHT could not be reached)' : '')
}

/** Events arrive as JSON from our own API, but check the shape anyway: no surprises in the DOM. */
export function isStatusEvent (v: unknown): v is StatusEvent {
  const s = v as StatusEvent
  return typeof s === 'object' && s !== null && typeof s.site === 'string' &&
    ['resolving', 'metadata', 'downloading', 'done', 'error'].includes(s.phase) &&
    Number.isFinite(s.peers) && Number.isFinite(s.progress)
}
