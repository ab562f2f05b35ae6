// A bounded cache of rendered responses, emptied whenever the catalog version (prices, stock, products) moves.

/**
 * Rendered bodies: text, or bytes already encoded (a response sent from bytes skips the UTF-8 encoding and sizing), or
 * anything else that says how many bytes it holds (EncodedBody).
 */
export type CachedBody = string | { readonly byteLength: number }

const sizeOf = (v: CachedBody): number => (typeof v === 'string' ? v.length : v.byteLength)

export class VersionedCache<V extends CachedBody = string> {
  private version = -1
  private readonly entries = new Map<string, { value: V; at: number }>()
  private bytes = 0

  /**
   * maxBytes bounds the memory held (bytes, or string length, which is bytes for the ASCII-heavy HTML cached here);
   * ttlMs bounds how long an entry lives even when the version does not move (Infinity: until it moves).
   */
  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
  ) {}

  get(version: number, key: string, now = Date.now()): V | undefined {
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

  set(version: number, key: string, value: V, now = Date.now()): void {
    const size = sizeOf(value)
    if (version !== this.version || size > this.maxBytes / 4) return
    const old = this.entries.get(key)
    if (old) {
      this.bytes -= sizeOf(old.value)
      this.entries.delete(key)
    }
    while (this.bytes + size > this.maxBytes && this.entries.size > 0) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { value: V }]
      this.entries.delete(oldestKey)
      this.bytes -= sizeOf(oldest.value)
    }
    this.entries.set(key, { value, at: now })
    this.bytes += size
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes }
  }
}
