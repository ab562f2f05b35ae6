// A bounded cache of rendered responses, emptied whenever the catalog version (prices, stock, products) moves.

export class VersionedCache {
  private version = -1
  private readonly entries = new Map<string, { value: string; at: number }>()
  private bytes = 0

  /**
   * maxBytes bounds the memory held (string length, which is bytes for the ASCII-heavy JSON and HTML cached here);
   * ttlMs bounds how long an entry lives even when the version does not move (Infinity: until it moves).
   */
  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
  ) {}

  get(version: number, key: string, now = Date.now()): string | undefined {
    if (version !== this.version) {
      this.entries.clear()
      this.bytes = 0
      this.version = version
      return undefined
    }
    const hit = this.entries.get(key)
    if (!hit || now - hit.at > this.ttlMs) return undefined
    return hit.value
  }

  set(version: number, key: string, value: string, now = Date.now()): void {
    if (version !== this.version || value.length > this.maxBytes / 4) return
    const old = this.entries.get(key)
    if (old) {
      this.bytes -= old.value.length
      this.entries.delete(key)
    }
    while (this.bytes + value.length > this.maxBytes && this.entries.size > 0) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { value: string }]
      this.entries.delete(oldestKey)
      this.bytes -= oldest.value.length
    }
    this.entries.set(key, { value, at: now })
    this.bytes += value.length
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes }
  }
}
