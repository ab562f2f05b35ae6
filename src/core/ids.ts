// Store-independent identifiers: UUIDv7 (time-ordered) with a short type prefix, e.g. ord_01936b2e….
import { randomBytes, randomFillSync } from 'node:crypto'
import { V7Generator } from 'uuidv7'

/**
 * uuidv7's default source calls crypto.getRandomValues for every 8 words, which was 5 % of a product page's CPU
 * (every request gets a request id and an analytics event id). This refills 4 KiB at once from the same CSPRNG.
 */
class PooledRandom {
  private readonly pool = new Uint32Array(1024)
  private cursor = this.pool.length

  nextUint32(): number {
    if (this.cursor === this.pool.length) {
      randomFillSync(this.pool)
      this.cursor = 0
    }
    return this.pool[this.cursor++] as number
  }
}

const generator = new V7Generator(new PooledRandom())

/** A UUIDv7 (RFC 9562): time-ordered, monotonic within this process. */
export const uuidv7 = (): string => generator.generate().toString()

export type IdPrefix = 'usr' | 'prd' | 'cat' | 'crt' | 'ord' | 'ref' | 'tok' | 'ch' | 're' | 'qry'

export const newId = (prefix: IdPrefix): string => `${prefix}_${uuidv7().replaceAll('-', '')}`

export const newEventId = (): string => uuidv7()

/** An unguessable secret for session ids, CSRF tokens and API tokens (base64url, 256 bits by default). */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url')
