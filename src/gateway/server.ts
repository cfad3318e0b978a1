/**
 * The gateway's node:http adapter: 127.0.0.1 only, bounded headers, bodies and time; turns a
 * node request into a GatewayRequest (whose signal fires when the client goes away), asks the
 * dispatcher, writes the GatewayResponse (streams are piped, and destroyed if the client leaves).
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Engine } from '../engine.js'
import { log } from '../log.js'
import { injectScriptTag } from '../window/ui-assets.js'
import { dispatch } from './dispatch.js'
import { htmlResponse, page } from './pages.js'
import type { GatewayRequest, GatewayResponse } from './types.js'

const MAX_HEADER_BYTES = 16 * 1024
const MAX_BODY_BYTES = 64 * 1024
const HEADERS_TIMEOUT_MS = 10_000
/** Whole request (headers and body) must arrive within this; responses may stream for longer. */
const REQUEST_TIMEOUT_MS = 30_000
const KEEP_ALIVE_MS = 5000

export interface GatewayOptions {
  /** 0: the OS chooses. */
  port: number
  /** The engine is created after the gateway (it needs the port), hence a getter. */
  engine: () => Engine
  /** The page script for HTML pages; default: the built dist/ui/inject.js if present. */
  injectTag?: string | null
}

export class Gateway {
  readonly port: number
  readonly #server: http.Server
  readonly #sockets = new Set<Socket>()
  #closing: Promise<void> | null = null

  private constructor (server: http.Server, port: number) {
    this.#server = server
    this.port = port
  }

  static async listen (o: GatewayOptions): Promise<Gateway> {
    const injectTag = o.injectTag !== undefined ? o.injectTag : loadInjectTag()
    const server = http.createServer({
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_MS
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : o.port
    const gateway = new Gateway(server, port)
    server.on('connection', (socket: Socket) => {
      gateway.#sockets.add(socket)
      socket.once('close', () => gateway.#sockets.delete(socket))
    })
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      gateway.#handle(req, res, o.engine, injectTag).catch(err => {
        log('gateway', `BUG: ${(err as Error)?.stack ?? String(err)}`)
        if (!res.headersSent) { res.statusCode = 500; res.end() } else res.destroy()
      })
    })
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    })
    log('gateway', `listening on http://127.0.0.1:${port}/${injectTag ? '' : ' (no page script: UI not built)'}`)
    return gateway
  }

  async #handle (req: http.IncomingMessage, res: http.ServerResponse, engine: () => Engine, injectTag: string | null): Promise<void> {
    const controller = new AbortController()
    // 'close' on the response fires when it is finished or the connection died; only the latter aborts.
    res.once('close', () => { if (!res.writableFinished) controller.abort(new Error('client went away')) })

    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_BODY_BYTES || (req.headers['transfer-encoding'] !== undefined && req.method !== 'POST')) {
      return await send(req, res, htmlResponse(413, page('Request too large', '<h1>Request too large</h1>')), true)
    }
    if (!(await drainBody(req))) return await send(req, res, htmlResponse(413, page('Request too large', '<h1>Request too large</h1>')), true)

    const headers: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v
    const greq: GatewayRequest = {
      method: req.method ?? 'GET',
      host: req.headers.host ?? '',
      target: req.url ?? '/',
      headers,
      signal: controller.signal
    }
    const started = Date.now()
    const response = await dispatch(greq, { engine: engine(), port: this.port, injectTag })
    log('gateway', `${greq.method} ${greq.host}${greq.target.slice(0, 200)} → ${response.status} in ${Date.now() - started} ms`)
    await send(req, res, response, false)
  }

  /** Stop accepting, close idle keep-alive connections, end the rest; resolves when all are gone. Idempotent. */
  async close (): Promise<void> {
    this.#closing ??= new Promise<void>(resolve => {
      this.#server.close(() => resolve())
      this.#server.closeIdleConnections()
      // Responses still streaming (a big file, the shell's event stream) are cut: we are shutting down.
      for (const socket of this.#sockets) socket.destroy()
    })
    return await this.#closing
  }
}

async function send (req: http.IncomingMessage, res: http.ServerResponse, r: GatewayResponse, closeAfter: boolean): Promise<void> {
  const body = r.body
  if (res.destroyed) { if (body instanceof Readable) body.destroy(); return }
  res.statusCode = r.status
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v)
  if (closeAfter) res.setHeader('Connection', 'close')
  if (body instanceof Readable) {
    if (req.method === 'HEAD') { body.destroy(); res.end(); return }
    try {
      await pipeline(body, res) // destroys the body if the client leaves, and the response if the body fails
    } catch (err) {
      log('gateway', `response stream ended early: ${(err as Error).message}`)
    }
    return
  }
  if (body === null || body === undefined || req.method === 'HEAD') { res.end(); return }
  res.end(body)
}

/** Read and discard a small request body; false if it turned out larger than allowed. */
async function drainBody (req: http.IncomingMessage): Promise<boolean> {
  if (req.readableEnded || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)) {
    req.resume()
    return true
  }
  let n = 0
  for await (const chunk of req) {
    n += (chunk as Buffer).length
    if (n > MAX_BODY_BYTES) return false
  }
  return true
}

function loadInjectTag (): string | null {
  try {
    return injectScriptTag()
  } catch (err) {
    log('gateway', `no page script: ${(err as Error).message}`)
    return null
  }
}
