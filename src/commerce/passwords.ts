// Password hashing with argon2id; the cost is configurable so tests stay quick and production stays strong.
import argon2 from 'argon2'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(hash: string, password: string): Promise<boolean>
}

export interface Argon2Options {
  /** KiB; OWASP's minimum for argon2id is 19456 (19 MiB) with 2 passes. */
  memoryCost: number
  timeCost: number
  parallelism: number
}

export const defaultArgon2Options = (): Argon2Options => ({ memoryCost: 19_456, timeCost: 2, parallelism: 1 })

export function createArgon2Hasher(options: Argon2Options = defaultArgon2Options()): PasswordHasher {
  return {
    hash: (password) => argon2.hash(password, { type: argon2.argon2id, ...options }),
    verify: async (hash, password) => {
      try {
        return await argon2.verify(hash, password)
      } catch {
        return false
      }
    },
  }
}
