// Remembers the catalog version briefly, so hot cached reads skip a round trip: a handle's own changes forget it
// at once, other processes' changes show within reuseMs.
export class VersionMemo {
  private known: { value: number; at: number } | null = null

  constructor(private readonly reuseMs = 200) {}

  async get(read: () => Promise<number> | number): Promise<number> {
    const now = performance.now()
    if (this.known && now - this.known.at < this.reuseMs) return this.known.value
    const value = await read()
    this.known = { value, at: now }
    return value
  }

  forget(): void {
    this.known = null
  }
}
