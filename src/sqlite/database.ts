// One way to open an embedded SQLite database (WAL, sane pragmas) with a cache of prepared statements.
import Database from 'better-sqlite3'

export class SqliteDatabase {
  readonly db: Database.Database
  private readonly statements = new Map<string, Database.Statement>()

  constructor(readonly path: string) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('busy_timeout = 5000')
  }

  /** A prepared statement, compiled once per distinct SQL text. */
  q(sql: string): Database.Statement {
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.statements.set(sql, s)
    }
    return s
  }

  /** `?, ?, ?` for an IN list; lists are statement-cached per length. */
  static placeholders(n: number): string {
    return Array.from({ length: n }, () => '?').join(',')
  }

  exec(sql: string): void {
    this.db.exec(sql)
    this.statements.clear()
  }

  /** Runs fn in a BEGIN IMMEDIATE transaction, so read-modify-write is safe across processes. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  close(): void {
    this.db.close()
  }
}
