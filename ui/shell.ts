/**
 * The shell page: btweb's chrome around one content frame. It runs on btweb's own origin and
 * is the only top-level page the window ever shows (the frame's sandbox forbids navigating
 * the top). Start parameters come in the fragment, which never reaches a server:
 *   #token=<api secret>&url=<address to open first>
 */
import { formatAddress, gatewayUrl, parseAddress, siteId, type Address } from '../src/address.js'
import { isBtwebError } from '../src/errors.js'
import { parseFrameMessage, type FrameMessage } from './frame-messages.js'
import { ShellHistory } from './history.js'
import { shortcutFor, type ShortcutKey } from './shortcuts.js'
import { isStatusEvent, statusText, versionText } from './status.js'

const params = new URLSearchParams(location.hash.slice(1))
const token = params.get('token') ?? ''
const port = Number(location.port)
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

const ui = {
  back: $<HTMLButtonElement>('back'),
  forward: $<HTMLButtonElement>('forward'),
  reload: $<HTMLButtonElement>('reload'),
  form: $<HTMLFormElement>('go'),
  address: $<HTMLInputElement>('address'),
  notice: $('notice'),
  noticeText: $('notice-text'),
  noticeReload: $<HTMLButtonElement>('notice-reload'),
  noticeDismiss: $<HTMLButtonElement>('notice-dismiss'),
  frame: $<HTMLIFrameElement>('content'),
  message: $('message'),
  messageTitle: $('message-title'),
  messageText: $('message-text'),
  messageHints: $('message-hints'),
  status: $('status'),
  version: $('version')
}

const history = new ShellHistory()
let shown: Address | null = null // what the frame shows (or is loading)
let loading = false
/** Set when we navigated the frame; the next report from that site may correct the entry (redirects). */
let expected: string | null = null
let reportedSinceLoad = false
let seqShown: number | null = null
let lastExternal = 0

function api (path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(path, { ...init, headers: { 'X-Btweb-Token': token }, cache: 'no-store' })
}

// ---- address bar -------------------------------------------------------------------------

function showAddress (text: string, verified = true): void {
  if (document.activeElement !== ui.address) ui.address.value = text
  ui.address.dataset.current = text
  ui.address.classList.toggle('unverified', !verified)
  ui.address.title = verified ? '' : 'This page did not report its address; it may not be what the address bar says.'
}

function revertAddress (): void {
  ui.address.value = ui.address.dataset.current ?? ''
}

function setTitle (title: string): void {
  const text = title.trim() ? `${title.trim()} — btweb` : 'btweb'
  if (document.title === text) return
  document.title = text
  api('/api/title?title=' + encodeURIComponent(text), { method: 'POST' }).catch(() => {})
}

function updateButtons (): void {
  ui.back.disabled = !history.canBack
  ui.forward.disabled = !history.canForward
  ui.reload.textContent = loading ? '\u2715' : '\u21bb'
  ui.reload.setAttribute('aria-label', loading ? 'Stop' : 'Reload')
}

// ---- messages in place of the page -------------------------------------------------------

function showMessage (title: string, text: string, hints: string[] = [], error = true): void {
  ui.messageTitle.textContent = title
  ui.messageText.textContent = text
  ui.messageHints.replaceChildren(...hints.map(h => Object.assign(document.createElement('li'), { textContent: h })))
  ui.message.classList.toggle('error', error)
  ui.message.hidden = false
  ui.frame.hidden = true
}

function hideMessage (): void {
  ui.message.hidden = true
  ui.frame.hidden = false
}

const EXAMPLES = [
  'btpk://<64 hex characters of a public key>/',
  'magnet:?xs=urn:btpk:<64 hex characters>',
  'bittorrent://<40 hex characters of an infohash>/',
  'a bare public key (64 hex or 52 base32 characters)'
]

// ---- navigation --------------------------------------------------------------------------

type How = 'push' | 'history' | 'reload'

/** Open what a person typed or a page asked for. Returns false (and explains) when it is not an address. */
function open (input: string, how: How = 'push'): boolean {
  let address: Address
  try {
    address = parseAddress(input)
  } catch (err) {
    if (!isBtwebError(err, 'BAD_ADDRESS')) throw err
    showMessage('That is not a btweb address', err.message, ['btweb opens addresses like:', ...EXAMPLES])
    ui.status.textContent = 'Not an address'
    return false
  }
  const text = formatAddress(address)
  if (how === 'push') history.push(text)
  const site = siteId(address)
  if (!shown || siteId(shown) !== site) { seqShown = null; hideNotice(); ui.version.textContent = '' }
  shown = address
  expected = site
  reportedSinceLoad = false
  loading = true
  hideMessage()
  showAddress(text)
  updateButtons()
  ui.status.textContent = address.kind === 'mutable' ? 'Looking up the site in the DHT…' : 'Connecting to peers…'
  // replace(): the frame's own session history stays out of the way of ours.
  ui.frame.contentWindow?.location.replace(gatewayUrl(address, port))
  return true
}

function back (): void { const a = history.back(); if (a) open(a, 'history') }
function forward (): void { const a = history.forward(); if (a) open(a, 'history') }
function reload (): void { const a = history.current; if (a) open(a, 'reload') }

function stop (): void {
  if (!loading) return
  loading = false
  expected = null
  ui.frame.contentWindow?.location.replace('about:blank')
  ui.status.textContent = 'Stopped'
  updateButtons()
}

function onShortcut (key: ShortcutKey): void {
  switch (key) {
    case 'focus-address': ui.address.focus(); ui.address.select(); break
    case 'back': back(); break
    case 'forward': forward(); break
    case 'reload': reload(); break
    case 'stop': stop(); break
  }
}

// ---- the content frame -------------------------------------------------------------------

function onFrameMessage (m: FrameMessage): void {
  switch (m.type) {
    case 'location': {
      const text = formatAddress(m.address)
      const site = siteId(m.address)
      if (expected !== null && expected === site) {
        history.replace(text) // the page we asked for (maybe after a redirect)
      } else {
        history.push(text) // the site moved by itself: a link, a form, script
      }
      expected = null
      reportedSinceLoad = true
      if (!shown || siteId(shown) !== site) { seqShown = null; hideNotice(); ui.version.textContent = '' }
      shown = m.address
      hideMessage()
      showAddress(text)
      setTitle(m.title)
      updateButtons()
      break
    }
    case 'navigate': open(m.url); break
    case 'external': openExternal(m.url); break
    case 'key': onShortcut(m.key); break
  }
}

function openExternal (url: string): void {
  // A page can post this message without a click; a real click in the frame also activates
  // this (ancestor) window, and the rate limit bounds what a page can do without one.
  const activation = (navigator as Navigator & { userActivation?: { isActive: boolean } }).userActivation
  if (activation && !activation.isActive) return
  if (Date.now() - lastExternal < 1000) return
  lastExternal = Date.now()
  api('/api/open-external?url=' + encodeURIComponent(url), { method: 'POST' })
    .then(r => { ui.status.textContent = r.ok ? `Opened ${url} in your web browser` : 'btweb opens only http(s) addresses of the ordinary web in your browser' })
    .catch(() => {})
}

window.addEventListener('message', (e) => {
  if (e.source !== ui.frame.contentWindow) return // only the content frame, never a nested frame or another window
  const m = parseFrameMessage(e.data, e.origin, port)
  if (m) onFrameMessage(m)
})

ui.frame.addEventListener('load', () => {
  loading = false
  updateButtons()
  if (!shown) return
  if (!reportedSinceLoad && expected === null) {
    // The frame moved by itself without telling us (a non-HTML resource, or a page without
    // the page script): we cannot vouch for the address any more.
    showAddress(ui.address.dataset.current ?? '', false)
  }
  // A page we navigated to that did not report (an image, an error page) is where we sent it.
  expected = null
  reportedSinceLoad = false
  if (ui.status.textContent?.startsWith('Looking up') || ui.status.textContent?.startsWith('Connecting')) ui.status.textContent = 'Done'
})

// ---- status and update notices -------------------------------------------------------------

function hideNotice (): void { ui.notice.hidden = true }

function onEvent (e: unknown): void {
  const ev = e as { type?: string, site?: string, seq?: number, url?: unknown }
  if (ev.type === 'open' && typeof ev.url === 'string') { open(ev.url); return } // from another `btweb <url>`
  const site = shown ? siteId(shown) : null
  if (!site || ev.site !== site) return
  if (ev.type === 'status' && isStatusEvent(e)) {
    ui.status.textContent = statusText(e)
    if (typeof e.seq === 'number') { seqShown ??= e.seq; ui.version.textContent = versionText(e) }
  } else if (ev.type === 'update' && Number.isSafeInteger(ev.seq) && (seqShown === null || ev.seq! > seqShown)) {
    ui.noticeText.textContent = `A newer version of this site has been published (version ${ev.seq}).`
    ui.notice.hidden = false
  }
}

/** Engine events as server-sent events, read with fetch (EventSource cannot send the token header). */
async function subscribe (onOpen: () => void): Promise<never> {
  for (;;) {
    try {
      const res = await api('/api/events')
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`)
      onOpen()
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) { try { onEvent(JSON.parse(line.slice(6))) } catch { /* one bad event: skip it */ } }
          }
        }
      }
    } catch {
      // the engine restarted or is closing: try again shortly
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
}

// ---- wiring --------------------------------------------------------------------------------

ui.form.addEventListener('submit', (e) => {
  e.preventDefault()
  if (open(ui.address.value)) ui.address.blur()
})
ui.address.addEventListener('blur', revertAddress)
ui.address.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') { e.stopPropagation(); revertAddress(); ui.address.select() }
})
ui.back.addEventListener('click', back)
ui.forward.addEventListener('click', forward)
ui.reload.addEventListener('click', () => { if (loading) stop(); else reload() })
ui.noticeReload.addEventListener('click', () => { hideNotice(); seqShown = null; reload() })
ui.noticeDismiss.addEventListener('click', hideNotice)
window.addEventListener('keydown', (e) => {
  const key = shortcutFor(e)
  if (!key) return
  e.preventDefault()
  onShortcut(key)
})

function start (): void {
  if (window.top !== window) return // never run the shell inside a frame
  const first = params.get('url')
  let started = false
  const go = (): void => {
    if (started) return
    started = true
    if (first) open(first)
    else {
      showMessage('Welcome to btweb', 'Type the address of a BitTorrent web site above.', EXAMPLES, false)
      ui.address.focus()
    }
  }
  // Subscribe first so the status of the first site is not missed, but never wait long.
  subscribe(go).catch(() => {})
  setTimeout(go, 1000)
}

start()
