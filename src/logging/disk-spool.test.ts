import assert from 'node:assert/strict'
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DiskSpool, SpoolLocked } from './disk-spool.ts'
import type { EcsRecord } from './ecs.ts'

const dirs: string[] = []
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'emporium-spool-'))
  dirs.push(d)
  return d
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

const batch = (from: number, n: number): EcsRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    '@timestamp': '2026-01-15T12:00:00.000Z',
    message: `m${from + i}`,
    log: { level: 'info' },
    event: { id: `id-${from + i}` },
    service: { name: 'emporium' },
  }))

async function drain(spool: DiskSpool): Promise<string[]> {
  const ids: string[] = []
  for (let b = await spool.next(); b; b = await spool.next()) {
    ids.push(...b.map((r) => r.event.id))
    await spool.ack()
  }
  return ids
}

describe('DiskSpool', () => {
  it('gives batches back oldest first across segments and deletes a segment once all of it is acknowledged', async () => {
    const dir = await tempDir()
    const spool = await DiskSpool.open({ dir, maxBytes: 1_000_000, segmentBytes: 600 })
    for (let i = 0; i < 10; i++) assert.equal(await spool.append(batch(i * 3, 3)), true)
    assert.ok(spool.segmentCount > 2, `${spool.segmentCount} segments`)
    assert.equal(spool.empty, false)

    const first = await spool.next()
    assert.deepEqual(
      first?.map((r) => r.event.id),
      ['id-0', 'id-1', 'id-2'],
    )
    assert.equal(await spool.next(), first, 'the same batch until it is acknowledged')
    await spool.ack()
    const rest = await drain(spool)
    assert.deepEqual(
      rest,
      Array.from({ length: 27 }, (_, i) => `id-${i + 3}`),
    )
    assert.equal(spool.empty, true)
    assert.equal(spool.bytes, 0)
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.ndjson')),
      [],
    )
    await spool.close()
  })

  it('keeps unsent batches for the next process, after the ones already on disk', async () => {
    const dir = await tempDir()
    const one = await DiskSpool.open({ dir })
    await one.append(batch(0, 2))
    await one.append(batch(2, 2))
    assert.deepEqual((await one.next())?.length, 2)
    await one.ack()
    await one.close()
    await one.close()

    const two = await DiskSpool.open({ dir })
    assert.equal(two.empty, false)
    await two.append(batch(4, 1))
    // The first segment was only partly acknowledged: its batches come again (at least once), then the rest in order.
    assert.deepEqual(await drain(two), ['id-0', 'id-1', 'id-2', 'id-3', 'id-4'])
    await two.close()
  })

  it('refuses an append that would pass maxBytes, and takes appends again once replay frees space', async () => {
    const dir = await tempDir()
    const size = Buffer.byteLength(`${JSON.stringify(batch(0, 2))}\n`)
    const spool = await DiskSpool.open({ dir, maxBytes: size * 2, segmentBytes: size })
    assert.equal(await spool.append(batch(0, 2)), true)
    assert.equal(await spool.append(batch(2, 2)), true)
    assert.equal(await spool.append(batch(4, 2)), false)
    assert.equal(spool.bytes, size * 2)
    await spool.next()
    await spool.ack()
    assert.equal(await spool.append(batch(6, 2)), true)
    assert.deepEqual(await drain(spool), ['id-2', 'id-3', 'id-6', 'id-7'])
    await spool.close()
  })

  it('skips and counts a line cut short by a crash', async () => {
    const dir = await tempDir()
    const spool = await DiskSpool.open({ dir })
    await spool.append(batch(0, 1))
    await spool.close()
    const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.ndjson'))
    await appendFile(join(dir, segment as string), '[{"message":"cut sh')
    const again = await DiskSpool.open({ dir })
    assert.deepEqual(await drain(again), ['id-0'])
    assert.equal(again.corruptLines, 1)
    await again.close()
  })

  it('is locked to one process at a time; a dead holder’s lock is taken over', async () => {
    const dir = await tempDir()
    const spool = await DiskSpool.open({ dir })
    await assert.rejects(DiskSpool.open({ dir }), SpoolLocked)
    await spool.close()
    const reopened = await DiskSpool.open({ dir })
    await reopened.close()

    const stale = await tempDir()
    await mkdir(stale, { recursive: true })
    await writeFile(join(stale, '.lock'), '2147483646')
    const taken = await DiskSpool.open({ dir: stale })
    await taken.close()
  })

  it('appendSync writes a segment that reads back like any other', async () => {
    const dir = await tempDir()
    const spool = await DiskSpool.open({ dir })
    await spool.append(batch(0, 1))
    assert.equal(spool.appendSync([batch(1, 2), [], batch(3, 1)]), 3)
    assert.deepEqual(await drain(spool), ['id-0', 'id-1', 'id-2', 'id-3'])
    await spool.close()
  })
})
