// The SessionStore port: server-side web sessions keyed by the SHA-256 of the cookie's secret id.
// Adapters: sqlite/ (embedded) and redis/ (distributed).

export interface SessionData {
  userId: string | null
  csrfToken: string
  cartId: string | null
  createdAt: string
  /** When the expiry was last pushed back; sessions expire after an idle period, not a fixed one. */
  touchedAt?: string
  /**
   * The session's public id for analytics (random, not derived from the secret); kept across the rotation at sign-in
   * so a visit stays one session. Absent on sessions made before it was kept.
   */
  analyticsId?: string
  /** Small flash messages for the next page (storefront), cleared when read. */
  flash?: { kind: 'info' | 'error'; text: string }[]
}

export interface SessionStore {
  readonly kind: string
  migrate(): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
  /** Null when absent or expired. */
  get(id: string): Promise<SessionData | null>
  /** Creates or replaces; the session expires ttlMs after this call. */
  set(id: string, data: SessionData, ttlMs: number): Promise<void>
  /** Pushes the expiry to ttlMs from now without rewriting the data; false if absent or expired. */
  touch(id: string, ttlMs: number): Promise<boolean>
  destroy(id: string): Promise<void>
  /** Ends every session of a user (after a password change), except the one named. Returns how many. */
  destroyByUser(userId: string, exceptId?: string): Promise<number>
  /** Removes expired sessions; returns how many (adapters with native expiry may return 0). */
  prune(): Promise<number>
}
