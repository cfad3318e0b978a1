/**
 * The victim of the SIGKILL test: an engine that writes its pointer store, its cache and its
 * cache index as fast as it can, until it is killed.
 *   node --import tsx test/helpers/crash-child.ts '{"dataDir":…,"bootstrap":[…],"seeder":"127.0.0.1:p","torrents":["<ih>",…],"cacheMaxBytes":n}'
 * Three loops run at once; each prints a JSON line only AFTER its write has resolved (so the
 * parent knows what must have survived):
 *   {"put":seq,"ih":hex}   putPointer() of the "crash" key (sign, store, DHT put: the publisher path)
 *   {"saved":seq}          PointerStore.save() of a second key, seq after seq
 *   {"downloaded":hex}     a torrent read whole from the seeder (and sometimes removed again)
 * First line: {"start":true,"put":<seq on disk>,"saved":<seq on disk>}.
 */
import { createHash, randomBytes } from 'node:crypto'
import { encodePointerValue, signItem } from '../../src/bep44.js'
import { dhtReady } from '../../src/dht.js'
import { publicKeyOf } from '../../src/ed25519.js'
import { Engine } from '../../src/engine.js'
import { fromHex, toHex } from '../../src/hex.js'
import { pointerFromItem } from '../../src/pointer-store.js'
import { putPointer } from '../../src/publisher.js'

const o = JSON.parse(process.argv[2]) as { dataDir: string, bootstrap: string[], seeder: string, torrents: string[], cacheMaxBytes: number, savedSeed: string }
const say = (v: object) => process.stdout.write(JSON.stringify(v) + '\n')

const engine = await Engine.open({ dataDir: o.dataDir, bootstrap: o.bootstrap, bind: '127.0.0.1', gatewayPort: false, utp: false, queryTimeoutMs: 300, lookupTimeoutMs: 3000, metadataTimeoutMs: 10_000, cacheMaxBytes: o.cacheMaxBytes })
const { key } = await engine.keys.loadOrCreate('crash')
const savedSeed = fromHex(o.savedSeed)!
const savedKey = publicKeyOf(savedSeed)
const none = new Uint8Array(0)
say({ start: true, put: (await engine.store.get(key.publicKey, none))?.seq ?? -1, saved: (await engine.store.get(savedKey, none))?.seq ?? -1 })

async function putLoop (): Promise<void> {
  await dhtReady(engine.dht, AbortSignal.timeout(3000))
  for (;;) {
    const ih = new Uint8Array(randomBytes(20))
    const { pointer } = await putPointer({ dht: engine.dht, store: engine.store, resolver: engine.resolver }, key, ih, { signal: AbortSignal.timeout(10_000) })
    say({ put: pointer.seq, ih: toHex(ih) })
  }
}

async function saveLoop (): Promise<void> {
  let seq = ((await engine.store.get(savedKey, none))?.seq ?? -1) + 1
  for (;; seq++) {
    const ih = new Uint8Array(createHash('sha1').update(String(seq)).digest())
    await engine.store.save(pointerFromItem(signItem(savedSeed, savedKey, none, seq, encodePointerValue(ih))))
    say({ saved: seq })
  }
}

async function downloadLoop (): Promise<void> {
  for (let i = 0; ; i++) {
    const hex = o.torrents[(i + Math.floor(Math.random() * o.torrents.length)) % o.torrents.length]
    engine.torrents.addPeer(fromHex(hex)!, o.seeder)
    const content = await engine.torrents.get(fromHex(hex)!, { signal: AbortSignal.timeout(20_000) })
    for await (const _chunk of content.file('data.bin')!.createReadStream()) { /* read it all */ }
    say({ downloaded: hex })
    if (Math.random() < 0.3) await engine.torrents.remove(hex, { keepData: false })
  }
}

const fail = (err: Error) => { process.stderr.write(`crash-child: ${err.stack}\n`); process.exit(1) }
putLoop().catch(fail)
saveLoop().catch(fail)
downloadLoop().catch(fail)
