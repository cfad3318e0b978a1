/**
 * A private DHT on 127.0.0.1: N bittorrent-dht nodes (with BEP 44 verify) that know each other.
 * Never touches the public DHT: nodes start with bootstrap disabled and are linked with addNode.
 */
import { createDht, destroyDht, type Dht } from '../../src/dht.js'

export interface DhtNet {
  nodes: Dht[]
  /** "127.0.0.1:port" of a few nodes: what a client passes as --bootstrap. */
  bootstrap: string[]
  /** A new node that bootstraps from the net (a "fresh visitor"); destroyed by close(). */
  client (): Promise<Dht>
  close (): Promise<void>
}

export async function startDhtNet (size = 8, { queryTimeoutMs = 500 } = {}): Promise<DhtNet> {
  const nodes: Dht[] = []
  const extra: Dht[] = []
  for (let i = 0; i < size; i++) nodes.push(await createDht({ bootstrap: [], host: '127.0.0.1', queryTimeoutMs }))
  const addr = (d: Dht) => ({ host: '127.0.0.1', port: d.address().port })
  // Small nets: full mesh. Large nets: each node knows 8 others, enough for lookups to converge.
  for (const [i, node] of nodes.entries()) {
    const peers = size <= 16 ? nodes : Array.from({ length: 8 }, (_, j) => nodes[(i + 1 + j * Math.ceil(size / 8)) % size])
    for (const other of peers) if (other !== node) node.addNode(addr(other))
  }
  const bootstrap = nodes.slice(0, 3).map(d => `127.0.0.1:${d.address().port}`)
  return {
    nodes,
    bootstrap,
    async client () {
      const dht = await createDht({ bootstrap, host: '127.0.0.1', queryTimeoutMs })
      extra.push(dht)
      await new Promise<void>(resolve => { if (dht.ready) resolve(); else dht.once('ready', () => resolve()) })
      return dht
    },
    async close () {
      await Promise.all([...extra, ...nodes].map(destroyDht))
    }
  }
}
