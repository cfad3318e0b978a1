/** The keyboard shortcuts a browser user expects; shared by the shell and the page script (focus may be in either). */
export const SHORTCUT_KEYS = ['focus-address', 'back', 'forward', 'reload', 'stop'] as const
export type ShortcutKey = typeof SHORTCUT_KEYS[number]

export function shortcutFor (e: KeyboardEvent): ShortcutKey | null {
  const ctrl = e.ctrlKey || e.metaKey
  if ((ctrl && e.key.toLowerCase() === 'l') || e.key === 'F6' || (e.altKey && e.key.toLowerCase() === 'd')) return 'focus-address'
  if (e.altKey && e.key === 'ArrowLeft') return 'back'
  if (e.altKey && e.key === 'ArrowRight') return 'forward'
  if (e.key === 'F5' || (ctrl && e.key.toLowerCase() === 'r')) return 'reload'
  if (e.key === 'Escape') return 'stop'
  return null
}
