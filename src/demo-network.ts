/**
 * The network behind `btweb demo`: a private DHT on 127.0.0.1 and a publisher that seeds the
 * two built-in demo sites (assets/demo/site1, site2). Site 1 links to site 2: the placeholder
 * `btpk://DEMO_SITE2/` in its HTML is replaced by site 2's address before publishing.
 * No internet is needed. Keys live in <dir>/publisher/keys, so the addresses stay the same
 * from one run to the next.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Engine } from './engine.js'
import { KeyStore } from './keys.js'
import { dataPaths } from './data-dir.js'
import { startLocalDht } from './local-dht.js'
import { packageRoot } from './package-root.js'
import { publishFolder } from './publish-site.js'

export interface DemoNetwork {
  bootstrap: string[]
  site1: string
  site2: string
  close (): Promise<void>
}

export const DEMO_PLACEHOLDER = 'btpk://DEMO_SITE2/'

export async function startDemoNetwork ({ dir, nodes = 8 }: { dir: string, nodes?: number }): Promise<DemoNetwork> {
  const dht = await startLocalDht(nodes)
  const publisherDir = path.join(dir, 'publisher')
  let engine: Engine | undefined
  const work = await mkdtemp(path.join(os.tmpdir(), 'btweb-demo-'))
  try {
    engine = await Engine.open({ dataDir: publisherDir, bootstrap: dht.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 500 })
    const keys = new KeyStore(dataPaths(publisherDir).keys)
    const assets = path.join(packageRoot(), 'assets', 'demo')
    const k2 = (await keys.loadOrCreate('demo-site2')).key
    const site2 = await publishFolder(engine, { folder: path.join(assets, 'site2'), key: k2 })
    // Site 1 with the real address of site 2 written into its pages.
    const site1Dir = path.join(work, 'site1')
    await cp(path.join(assets, 'site1'), site1Dir, { recursive: true })
    for (const f of await readdir(site1Dir, { recursive: true })) {
      if (!/\.(html|css|js)$/.test(f)) continue
      const file = path.join(site1Dir, f)
      const text = await readFile(file, 'utf8')
      if (text.includes(DEMO_PLACEHOLDER)) await writeFile(file, text.replaceAll(DEMO_PLACEHOLDER, site2.record.url))
    }
    const k1 = (await keys.loadOrCreate('demo-site1')).key
    const site1 = await publishFolder(engine, { folder: site1Dir, key: k1 })
    const e = engine
    return {
      bootstrap: dht.bootstrap,
      site1: site1.record.url,
      site2: site2.record.url,
      close: async () => { await e.close(); await dht.close() }
    }
  } catch (err) {
    await engine?.close()
    await dht.close()
    throw err
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
