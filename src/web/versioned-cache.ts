// A bounded cache of rendered responses, emptied whenever the catalog version (prices, stock, products) moves.

export class VersionedCache {
  private version = -1
  private readonly entries = new Map<string, { value: string; at: number }>()

  /** ttlMs bounds how long an entry lives even when the version does not move (Infinity: until it moves). */
  constructor(
    private readonly max = 1000,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
  ) {}

  get(version: number, key: string, now = Date.now()): string | undefined {
    if (version !== this.version) {
      this.entries.clear()
      this.version = version
      return undefined
    }
    const hit = this.entries.get(key)
    if (!hit || now - hit.at > this.ttlMs) return undefined
    return hit.value
  }

  set(version: number, key: string, value: string, now = Date.now()): void {
    if (version !== this.version) return
    if (this.entries.size >= this.max && !this.entries.has(key))
      this.entries.delete(this.entries.keys().next().value as string)
    this.entries.set(key, { value, at: now })
  }
}
