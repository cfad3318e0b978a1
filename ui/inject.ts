/**
 * The page script: the gateway puts it first in every HTML page of every site. It tells the
 * shell (the parent frame) where the page is, and hands it the links btweb must route itself.
 * It runs in the site's origin, so it grants nothing: a page can remove or imitate it, and the
 * shell trusts only event.origin for which site is talking.
 */
import { shortcutFor } from './shortcuts.js'

(() => {
  if (window.parent === window) return // opened outside the shell (e.g. btweb serve in a browser)
  const parent = window.parent
  const post = (message: Record<string, unknown>): void => { parent.postMessage(message, '*') }

  let last = ''
  const report = (): void => {
    const key = location.href + '\n' + document.title
    if (key === last) return
    last = key
    post({ type: 'btweb:location', href: location.href, title: document.title })
  }

  // Once now (before the load event: the shell learns the address even if the page never
  // finishes loading), again when the title is known, and on every same-document move.
  report()
  document.addEventListener('DOMContentLoaded', () => {
    report()
    // Script may change the title later; watch only <head>, not every change on the page.
    if (document.head) new MutationObserver(report).observe(document.head, { subtree: true, childList: true, characterData: true })
  })
  window.addEventListener('load', report)
  window.addEventListener('hashchange', report)
  window.addEventListener('popstate', report)
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name]
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args)
      report()
      return result
    }
  }

  const ROUTED = /^(?:btpk:|bittorrent:|magnet:)/i
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0) return
    const link = (e.target as Element | null)?.closest?.('a[href], area[href]') as HTMLAnchorElement | null
    if (!link) return
    const raw = link.getAttribute('href') ?? ''
    if (ROUTED.test(raw.trim())) {
      e.preventDefault()
      post({ type: 'btweb:navigate', url: raw.trim() })
      return
    }
    let url: URL
    try { url = new URL(link.href) } catch { return }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return
    if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost') || url.hostname.startsWith('127.')) {
      // Another page of btweb: the frame may not open windows, so follow target=_blank in place.
      if (link.target && link.target !== '_self') { e.preventDefault(); location.href = url.href }
      return
    }
    e.preventDefault()
    post({ type: 'btweb:external', url: url.href })
  }, true)

  // Focus is in the page: pass the browser's shortcuts to the shell (Escape stays with the page).
  document.addEventListener('keydown', (e) => {
    const key = shortcutFor(e)
    if (!key || key === 'stop' || e.defaultPrevented) return
    e.preventDefault()
    post({ type: 'btweb:key', key })
  })
})()
