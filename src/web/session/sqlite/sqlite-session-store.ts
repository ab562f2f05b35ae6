// The embedded SessionStore on SQLite: one row per session, expiry checked on read and pruned periodically.

import { EngineUnavailable } from '../../../core/errors.ts'
import { SqliteDatabase } from '../../../sqlite/database.ts'
import type { SessionData, SessionStore } from '../session-store.ts'

export class SqliteSessionStore implements SessionStore {
  readonly kind = 'sqlite'
  private readonly db: SqliteDatabase
  private closed = false

  constructor(readonly path: string) {
    this.db = new SqliteDatabase(path)
  }

  async migrate(): Promise<void> {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        data TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
      CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
    `)
  }

  async ping(): Promise<void> {
    if (this.closed) throw new EngineUnavailable('SQLite session store')
    this.db.q('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }

  async get(id: string): Promise<SessionData | null> {
    const row = this.db.q('SELECT data, expires_at FROM sessions WHERE id = ?').get(id) as
      | { data: string; expires_at: number }
      | undefined
    if (!row || row.expires_at <= Date.now()) return null
    return JSON.parse(row.data) as SessionData
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<void> {
    this.db
      .q(
        `INSERT INTO sessions (id, user_id, data, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at`,
      )
      .run(id, data.userId, JSON.stringify(data), Date.now() + ttlMs)
  }

  async touch(id: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const { changes } = this.db
      .q('UPDATE sessions SET expires_at = ? WHERE id = ? AND expires_at > ?')
      .run(now + ttlMs, id, now)
    return changes > 0
  }

  async destroy(id: string): Promise<void> {
    this.db.q('DELETE FROM sessions WHERE id = ?').run(id)
  }

  async destroyByUser(userId: string, exceptId?: string): Promise<number> {
    const { changes } = this.db
      .q('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?')
      .run(userId, exceptId ?? null)
    return changes
  }

  async prune(): Promise<number> {
    return this.db.q('DELETE FROM sessions WHERE expires_at <= ?').run(Date.now()).changes
  }
}

export function openSqliteSessionStore(path: string): SqliteSessionStore {
  return new SqliteSessionStore(path)
}
