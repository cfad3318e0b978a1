import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, symlink, writeFile, chmod } from 'node:fs/promises'
import path from 'node:path'
import parseTorrent from 'parse-torrent'
import { buildSiteTorrent, listSiteFiles, pieceLengthFor } from '../src/site-torrent.js'
import { BtwebError } from '../src/errors.js'
import { tempDir } from './helpers/tmp.js'

async function makeSite (dir: string) {
  await mkdir(path.join(dir, 'img'), { recursive: true })
  await writeFile(path.join(dir, 'index.html'), '<h1>hello</h1>')
  await writeFile(path.join(dir, 'img', 'b.bin'), Buffer.alloc(100_000, 7))
  await writeFile(path.join(dir, 'about.html'), 'about')
  await writeFile(path.join(dir, '.secret'), 'do not publish')
  await symlink('/etc/passwd', path.join(dir, 'passwd'))
}

test('same files → same infohash, wherever the folder lives; sorted; hidden and symlinks skipped', async () => {
  const t = await tempDir()
  try {
    for (const d of ['a/site', 'b/site']) await makeSite(path.join(t.dir, d))
    const one = await listSiteFiles(path.join(t.dir, 'a/site'))
    assert.equal(one.files.map(f => f.relPath.join('/')), ['about.html', 'img/b.bin', 'index.html'])
    assert.equal(one.skipped.sort(), ['.secret (hidden)', 'passwd (symbolic link)'])
    const b1 = await buildSiteTorrent(one.files, { name: 'site', snapshotDir: path.join(t.dir, 's1') })
    const b2 = await buildSiteTorrent((await listSiteFiles(path.join(t.dir, 'b/site'))).files, { name: 'site', snapshotDir: path.join(t.dir, 's2') })
    assert.is(b1.infohash, b2.infohash)
    // An independent parser agrees on the infohash and the file list.
    const parsed = await parseTorrent(Buffer.from(b1.torrent))
    assert.is(parsed.infoHash, b1.infohash)
    assert.equal(parsed.files.map((f: { path: string }) => f.path), ['site/about.html', 'site/img/b.bin', 'site/index.html'])
    // The snapshot holds exact copies.
    assert.equal(await readFile(path.join(t.dir, 's1', 'site', 'img', 'b.bin')), Buffer.alloc(100_000, 7))
    // Piece hashes are right: hash the concatenation ourselves.
    const all = Buffer.concat([Buffer.from('about'), Buffer.alloc(100_000, 7), Buffer.from('<h1>hello</h1>')])
    const pl = pieceLengthFor(all.length)
    const pieces = []
    for (let i = 0; i < all.length; i += pl) pieces.push(createHash('sha1').update(all.subarray(i, i + pl)).digest('hex'))
    assert.equal(parsed.pieces, pieces)
    // A change gives a new infohash.
    await writeFile(path.join(t.dir, 'b/site', 'index.html'), '<h1>hello 2</h1>')
    const b3 = await buildSiteTorrent((await listSiteFiles(path.join(t.dir, 'b/site'))).files, { name: 'site', snapshotDir: path.join(t.dir, 's3') })
    assert.is.not(b3.infohash, b1.infohash)
    const hidden = await listSiteFiles(path.join(t.dir, 'a/site'), { includeHidden: true })
    assert.ok(hidden.files.some(f => f.relPath[0] === '.secret'))
  } finally {
    await t.cleanup()
  }
})

test('missing, empty and unreadable folders are PUBLISH_ERROR', async () => {
  const t = await tempDir()
  try {
    const code = async (p: Promise<unknown>) => { try { await p; return 'none' } catch (e) { assert.instance(e, BtwebError); return (e as BtwebError).code } }
    assert.is(await code(listSiteFiles(path.join(t.dir, 'nope'))), 'PUBLISH_ERROR')
    await mkdir(path.join(t.dir, 'empty'))
    assert.is(await code(listSiteFiles(path.join(t.dir, 'empty'))), 'PUBLISH_ERROR')
    await writeFile(path.join(t.dir, 'file'), 'x')
    assert.is(await code(listSiteFiles(path.join(t.dir, 'file'))), 'PUBLISH_ERROR')
    // A file that cannot be read while hashing (removed after listing; as root, permissions cannot make one unreadable).
    const vanishing = path.join(t.dir, 'vanishing')
    await mkdir(vanishing)
    await writeFile(path.join(vanishing, 'index.html'), 'x')
    const { files } = await listSiteFiles(vanishing)
    await rm(path.join(vanishing, 'index.html'))
    assert.is(await code(buildSiteTorrent(files, { name: 'v', snapshotDir: path.join(t.dir, 'snap') })), 'PUBLISH_ERROR')
    await writeFile(path.join(vanishing, 'bad?name.html'), 'x')
    assert.is(await code(listSiteFiles(vanishing)), 'PUBLISH_ERROR')
    if (process.getuid?.() !== 0) {
      await mkdir(path.join(t.dir, 'locked'))
      await chmod(path.join(t.dir, 'locked'), 0)
      assert.is(await code(listSiteFiles(path.join(t.dir, 'locked'))), 'PUBLISH_ERROR')
    }
  } finally {
    await t.cleanup()
  }
})

test('piece length depends on size only', () => {
  assert.is(pieceLengthFor(0), 16384)
  assert.is(pieceLengthFor(5 * 2 ** 20), 16384)
  assert.is(pieceLengthFor(100 * 2 ** 20), 131072)
  assert.ok(pieceLengthFor(200 * 2 ** 20) <= 4 * 2 ** 20)
  assert.ok(pieceLengthFor(200 * 2 ** 20) >= 200 * 2 ** 20 / 1000)
})

test.run()
