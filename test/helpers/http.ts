/** HTTP requests to the gateway on 127.0.0.1 with any Host header (fetch forbids setting Host). */
import http from 'node:http'

export interface HttpResult { status: number, headers: http.IncomingHttpHeaders, body: Buffer }

export async function request (port: number, host: string, target: string, { method = 'GET', headers = {}, timeoutMs = 30_000 }: { method?: string, headers?: Record<string, string>, timeoutMs?: number } = {}): Promise<HttpResult> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method, headers: { host, ...headers }, timeout: timeoutMs }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}
