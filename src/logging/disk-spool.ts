// A bounded on-disk buffer of log batches: append-only NDJSON segment files (one batch per line), read back oldest first.
import { mkdirSync, writeFileSync } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { EcsRecord } from './ecs.ts'

export interface DiskSpoolOptions {
  dir: string
  /** Total size of all segments; an append that would pass it is refused (the caller counts the drop). */
  maxBytes: number
  /** A segment is closed and a new one started past this size; replay reads one whole segment at a time. */
  segmentBytes: number
  /** fdatasync the open segment at most this often (and always when it is closed): "fsync-lite". */
  syncIntervalMs: number
}

export const DEFAULT_SPOOL_OPTIONS: Omit<DiskSpoolOptions, 'dir'> = {
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: 4 * 1024 * 1024,
  syncIntervalMs: 1000,
}

/** Another live process spools into this directory; two writers would replay each other's batches. */
export class SpoolLocked extends Error {
  constructor(dir: string, pid: number) {
    super(`the log spool ${dir} is in use by process ${pid}; give each process its own spool directory`)
    this.name = 'SpoolLocked'
  }
}

interface Segment {
  seq: number
  path: string
  bytes: number
}

const SEGMENT_NAME = /^seg-(\d{1,16})\.ndjson$/
const LOCK_FILE = '.lock'
const heldInThisProcess = new Set<string>()

const segmentName = (seq: number) => `seg-${String(seq).padStart(12, '0')}.ndjson`

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class DiskSpool {
  private readonly segments: Segment[] = []
  private active: { segment: Segment; file: FileHandle } | null = null
  private cursor: { segment: Segment; batches: EcsRecord[][]; index: number } | null = null
  private nextSeq = 1
  private totalBytes = 0
  private lastSync = 0
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false
  /** Lines that were not a batch (a write cut short by a crash or a full disk); their records are lost. */
  corruptLines = 0

  private constructor(
    private readonly options: DiskSpoolOptions,
    private readonly dir: string,
  ) {}

  /** Creates the directory, takes its lock and finds the segments a previous process left. */
  static async open(options: Partial<DiskSpoolOptions> & { dir: string }): Promise<DiskSpool> {
    const dir = resolve(options.dir)
    const spool = new DiskSpool({ ...DEFAULT_SPOOL_OPTIONS, ...options, dir }, dir)
    await mkdir(dir, { recursive: true })
    await spool.lock()
    try {
      await spool.scan()
    } catch (e) {
      await spool.unlock()
      throw e
    }
    return spool
  }

  get bytes(): number {
    return this.totalBytes
  }

  get segmentCount(): number {
    return this.segments.length
  }

  /** True when no batch is waiting to be replayed. */
  get empty(): boolean {
    return this.totalBytes === 0
  }

  /** Appends one batch as one line; false when the spool is full (or the disk refused), so nothing was kept. */
  append(records: readonly EcsRecord[]): Promise<boolean> {
    return this.serial(async () => {
      if (this.closed) return false
      const line = `${JSON.stringify(records)}\n`
      const size = Buffer.byteLength(line)
      if (this.totalBytes + size > this.options.maxBytes) return false
      if (this.active && this.active.segment.bytes > 0 && this.active.segment.bytes + size > this.options.segmentBytes)
        await this.rotate()
      const active = this.active ?? (await this.startSegment())
      try {
        await active.file.appendFile(line)
      } catch {
        // Part of the line may be on disk: end this segment there; a reader counts the cut line as corrupt.
        const onDisk = await stat(active.segment.path).then(
          (s) => s.size,
          () => active.segment.bytes,
        )
        this.totalBytes += onDisk - active.segment.bytes
        active.segment.bytes = onDisk
        await this.rotate()
        return false
      }
      active.segment.bytes += size
      this.totalBytes += size
      const now = Date.now()
      if (now - this.lastSync >= this.options.syncIntervalMs) {
        this.lastSync = now
        await active.file.datasync().catch(() => undefined)
      }
      return true
    }, false)
  }

  /** The oldest batch not yet acknowledged, or null; the same batch until ack() is called. */
  next(): Promise<EcsRecord[] | null> {
    return this.serial(async () => {
      while (!this.closed) {
        if (this.cursor && this.cursor.index < this.cursor.batches.length)
          return this.cursor.batches[this.cursor.index] as EcsRecord[]
        if (this.cursor) await this.finishCursor()
        const oldest = this.segments[0]
        if (!oldest) return null
        if (this.active?.segment === oldest) await this.rotate()
        this.cursor = { segment: oldest, batches: await this.readSegment(oldest.path), index: 0 }
      }
      return null
    }, null)
  }

  /** The batch next() returned was delivered; a segment is deleted once all of its batches were. */
  ack(): Promise<void> {
    return this.serial(async () => {
      if (!this.cursor) return
      this.cursor.index++
      if (this.cursor.index >= this.cursor.batches.length) await this.finishCursor()
    }, undefined)
  }

  /**
   * For `process.on('exit')`, where nothing async runs any more: writes the batches to a new segment synchronously.
   * Returns how many records were kept.
   */
  appendSync(batches: readonly (readonly EcsRecord[])[]): number {
    if (this.closed) return 0
    let text = ''
    let records = 0
    let size = 0
    for (const batch of batches) {
      if (batch.length === 0) continue
      const line = `${JSON.stringify(batch)}\n`
      const lineSize = Buffer.byteLength(line)
      if (this.totalBytes + size + lineSize > this.options.maxBytes) break
      text += line
      size += lineSize
      records += batch.length
    }
    if (records === 0) return 0
    const segment: Segment = { seq: this.nextSeq++, path: '', bytes: size }
    segment.path = join(this.dir, segmentName(segment.seq))
    try {
      mkdirSync(this.dir, { recursive: true })
      writeFileSync(segment.path, text, { flag: 'wx' })
    } catch {
      return 0
    }
    this.segments.push(segment)
    this.totalBytes += size
    return records
  }

  /** Syncs and closes the open segment and releases the directory; the segments stay for the next process. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return
      this.closed = true
      await this.rotate()
      await this.unlock()
    }, undefined)
  }

  private serial<T>(op: () => Promise<T>, onError: T): Promise<T> {
    const run = this.chain.then(op).catch(() => onError)
    this.chain = run
    return run
  }

  private async startSegment(): Promise<{ segment: Segment; file: FileHandle }> {
    const segment: Segment = { seq: this.nextSeq++, path: '', bytes: 0 }
    segment.path = join(this.dir, segmentName(segment.seq))
    const file = await open(segment.path, 'a')
    this.segments.push(segment)
    this.active = { segment, file }
    return this.active
  }

  private async rotate(): Promise<void> {
    const active = this.active
    if (!active) return
    this.active = null
    await active.file.datasync().catch(() => undefined)
    await active.file.close().catch(() => undefined)
    if (active.segment.bytes === 0) await this.removeSegment(active.segment)
  }

  private async finishCursor(): Promise<void> {
    const cursor = this.cursor
    if (!cursor) return
    this.cursor = null
    await this.removeSegment(cursor.segment)
  }

  private async removeSegment(segment: Segment): Promise<void> {
    await unlink(segment.path).catch(() => undefined)
    const i = this.segments.indexOf(segment)
    if (i >= 0) this.segments.splice(i, 1)
    this.totalBytes -= segment.bytes
  }

  private async readSegment(path: string): Promise<EcsRecord[][]> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch {
      return []
    }
    const batches: EcsRecord[][] = []
    for (const line of text.split('\n')) {
      if (line === '') continue
      try {
        const batch = JSON.parse(line) as unknown
        if (Array.isArray(batch)) batches.push(batch as EcsRecord[])
        else this.corruptLines++
      } catch {
        this.corruptLines++
      }
    }
    return batches
  }

  private async scan(): Promise<void> {
    const found: Segment[] = []
    for (const name of await readdir(this.dir)) {
      const m = SEGMENT_NAME.exec(name)
      if (!m) continue
      const path = join(this.dir, name)
      const bytes = (await stat(path)).size
      found.push({ seq: Number(m[1]), path, bytes })
    }
    found.sort((a, b) => a.seq - b.seq)
    for (const segment of found) {
      this.nextSeq = Math.max(this.nextSeq, segment.seq + 1)
      if (segment.bytes === 0) await unlink(segment.path).catch(() => undefined)
      else {
        this.segments.push(segment)
        this.totalBytes += segment.bytes
      }
    }
  }

  private async lock(): Promise<void> {
    if (heldInThisProcess.has(this.dir)) throw new SpoolLocked(this.dir, process.pid)
    const path = join(this.dir, LOCK_FILE)
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder))
        throw new SpoolLocked(this.dir, holder)
      await writeFile(path, String(process.pid))
    }
    heldInThisProcess.add(this.dir)
  }

  private async unlock(): Promise<void> {
    if (!heldInThisProcess.delete(this.dir)) return
    await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined)
  }
}
