import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createFileExclusive, removeStaleTemps, writeFileAtomic } from '../src/files.js'
import { tempDir } from './helpers/tmp.js'

test('atomic replace, exclusive create, and only old temp files are swept', async () => {
  const t = await tempDir()
  try {
    const f = path.join(t.dir, 'a.json')
    await writeFileAtomic(f, 'one')
    await writeFileAtomic(f, 'two')
    assert.is(await readFile(f, 'utf8'), 'two')
    await createFileExclusive(path.join(t.dir, 'k'), 'key')
    const again = await createFileExclusive(path.join(t.dir, 'k'), 'other').catch(e => e)
    assert.is(again.code, 'EEXIST')
    assert.is(await readFile(path.join(t.dir, 'k'), 'utf8'), 'key')
    await writeFile(path.join(t.dir, 'old.abc.tmp'), 'x')
    await writeFile(path.join(t.dir, 'fresh.abc.tmp'), 'x')
    const hourAgo = new Date(Date.now() - 2 * 3_600_000)
    await utimes(path.join(t.dir, 'old.abc.tmp'), hourAgo, hourAgo)
    assert.is(await removeStaleTemps(t.dir), 1)
    assert.equal((await readdir(t.dir)).sort(), ['a.json', 'fresh.abc.tmp', 'k'])
    assert.is(await removeStaleTemps(path.join(t.dir, 'missing')), 0)
  } finally {
    await t.cleanup()
  }
})

test.run()
