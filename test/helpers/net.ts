/** The private loopback DHT of src/local-dht.ts, plus fresh client nodes for "visitors". */
import { createDht, destroyDht, type Dht } from '../../src/dht.js'
import { startLocalDht } from '../../src/local-dht.js'

export interface DhtNet {
  nodes: Dht[]
  bootstrap: string[]
  /** A new node that bootstraps from the net (a "fresh visitor"); destroyed by close(). */
  client (): Promise<Dht>
  close (): Promise<void>
}

export async function startDhtNet (size = 8, { queryTimeoutMs = 500 } = {}): Promise<DhtNet> {
  const net = await startLocalDht(size, { queryTimeoutMs })
  const extra: Dht[] = []
  return {
    nodes: net.nodes,
    bootstrap: net.bootstrap,
    async client () {
      const dht = await createDht({ bootstrap: net.bootstrap, host: '127.0.0.1', queryTimeoutMs })
      extra.push(dht)
      await new Promise<void>(resolve => { if (dht.ready) resolve(); else dht.once('ready', () => resolve()) })
      return dht
    },
    async close () {
      await Promise.all(extra.map(destroyDht))
      await net.close()
    }
  }
}
