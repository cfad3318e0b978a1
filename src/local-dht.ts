/**
 * A private DHT of N bittorrent-dht nodes on 127.0.0.1 that know each other: the network of
 * `btweb demo`, of the tests and of the benchmarks. Never touches the public DHT.
 */
import { createDht, destroyDht, type Dht } from './dht.js'

export interface LocalDht {
  nodes: Dht[]
  /** "127.0.0.1:port" of a few nodes: what a client passes as --bootstrap. */
  bootstrap: string[]
  close (): Promise<void>
}

export async function startLocalDht (size = 8, { queryTimeoutMs = 500 } = {}): Promise<LocalDht> {
  const nodes: Dht[] = []
  try {
    for (let i = 0; i < size; i++) nodes.push(await createDht({ bootstrap: [], host: '127.0.0.1', queryTimeoutMs }))
  } catch (err) {
    await Promise.all(nodes.map(destroyDht))
    throw err
  }
  const addr = (d: Dht) => ({ host: '127.0.0.1', port: d.address().port })
  // Small nets: full mesh. Large nets: each node knows 8 others spread over the ring, enough for lookups to converge.
  for (const [i, node] of nodes.entries()) {
    const peers = size <= 16 ? nodes : Array.from({ length: 8 }, (_, j) => nodes[(i + 1 + j * Math.ceil(size / 8)) % size])
    for (const other of peers) if (other !== node) node.addNode(addr(other))
  }
  return {
    nodes,
    bootstrap: nodes.slice(0, 3).map(d => `127.0.0.1:${d.address().port}`),
    close: async () => { await Promise.all(nodes.map(destroyDht)) }
  }
}
