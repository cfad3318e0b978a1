/**
 * A seeder in its own process, so that a test can SIGKILL it mid-transfer and start it again:
 *   node --import tsx test/helpers/fault-seeder.ts '{"torrent":"x.torrent","path":"dir","port":0,"uploadLimit":8388608,"bootstrap":["127.0.0.1:1"]}'
 * Plain webtorrent (not btweb's TorrentStore: the seeder is "some other peer"), TCP on 127.0.0.1,
 * announcing itself in the given DHT, uploads throttled so that a download lasts long enough to
 * be interrupted. Prints {"port":…} once every piece is verified; exits when stdin closes.
 */
import { readFileSync } from 'node:fs'
import WebTorrent from 'webtorrent'

const o = JSON.parse(process.argv[2]) as { torrent: string, path: string, port: number, uploadLimit: number, bootstrap: string[] }
const client = new WebTorrent({
  dht: { bootstrap: o.bootstrap, queryTimeoutMs: 2000 },
  torrentPort: o.port,
  tracker: false,
  lsd: false,
  natUpnp: false,
  natPmp: false,
  utp: false,
  webSeeds: false,
  uploadLimit: o.uploadLimit
} as never)
client.on('error', (err: Error) => { process.stderr.write(`seeder error: ${err.message}\n`); process.exit(1) })
const torrent = client.add(new Uint8Array(readFileSync(o.torrent)), { path: o.path })
const announce = () => process.stdout.write(JSON.stringify({ port: (client.address() as { port: number }).port, infohash: torrent.infoHash }) + '\n')
// 'ready' comes before 'done' even when every piece on disk verified; a seeder must be done.
torrent.on('ready', () => {
  if (torrent.done) announce()
  else torrent.once('done', announce)
  setTimeout(() => { if (!torrent.done) { process.stderr.write('seeder: the data does not match the torrent\n'); process.exit(1) } }, 10_000).unref()
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
