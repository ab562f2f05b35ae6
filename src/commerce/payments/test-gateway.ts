// The embedded PaymentGateway: Stripe-like test tokens, idempotent by key, persisted in SQLite so that the
// recovery job can ask about a charge after a crash. Processes that share a DATA_DIR share it; a distributed shop
// (MONGODB_URL set) uses mongodb-test-gateway.ts instead, so that every replica sees every charge.
import { setTimeout as sleep } from 'node:timers/promises'
import { EmporiumError, EngineUnavailable } from '../../core/errors.ts'
import { newId } from '../../core/ids.ts'
import { SqliteDatabase } from '../../sqlite/database.ts'
import type { ChargeRequest, ChargeResult, PaymentGateway, RefundRequest, RefundResult } from './payment-gateway.ts'

interface TestCard {
  outcome: 'succeeded' | 'declined'
  brand: string
  last4: string
  declineCode?: string
  message?: string
}

/** The test tokens, as in Stripe's test mode. */
export const TEST_TOKENS: Readonly<Record<string, TestCard>> = {
  tok_visa: { outcome: 'succeeded', brand: 'visa', last4: '4242' },
  tok_mastercard: { outcome: 'succeeded', brand: 'mastercard', last4: '4444' },
  tok_amex: { outcome: 'succeeded', brand: 'amex', last4: '8431' },
  tok_chargeDeclined: {
    outcome: 'declined',
    brand: 'visa',
    last4: '0002',
    declineCode: 'card_declined',
    message: 'Your card was declined.',
  },
  tok_insufficientFunds: {
    outcome: 'declined',
    brand: 'visa',
    last4: '9995',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  tok_expiredCard: {
    outcome: 'declined',
    brand: 'visa',
    last4: '0069',
    declineCode: 'expired_card',
    message: 'Your card has expired.',
  },
}

/** What a test gateway answers for a token: the card's outcome, or a decline for a token it does not know. */
export function testCardOutcome(token: string) {
  const card = TEST_TOKENS[token]
  return {
    status: card?.outcome ?? 'declined',
    brand: card?.brand ?? 'unknown',
    last4: card?.last4 ?? '0000',
    declineCode: card ? (card.declineCode ?? null) : 'invalid_token',
    message: card ? (card.message ?? null) : 'The payment token is not recognised.',
  } as const
}

export interface TestGatewayOptions {
  /** SQLite file, or ':memory:' */
  path: string
  /** Simulated network latency per call, for crash and recovery drills. */
  latencyMs?: number
}

interface ChargeRow {
  idempotency_key: string
  charge_id: string
  status: 'succeeded' | 'declined'
  amount: number
  currency: string
  brand: string
  last4: string
  decline_code: string | null
  message: string | null
}

const toResult = (r: ChargeRow): ChargeResult =>
  r.status === 'succeeded'
    ? {
        status: 'succeeded',
        chargeId: r.charge_id,
        amount: r.amount,
        currency: r.currency,
        brand: r.brand,
        last4: r.last4,
      }
    : {
        status: 'declined',
        chargeId: r.charge_id,
        amount: r.amount,
        currency: r.currency,
        declineCode: r.decline_code ?? 'card_declined',
        message: r.message ?? 'Declined',
      }

export class TestPaymentGateway implements PaymentGateway {
  readonly kind = 'test'
  private readonly db: SqliteDatabase
  private closed = false

  constructor(private readonly options: TestGatewayOptions) {
    this.db = new SqliteDatabase(options.path)
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS charges (
        idempotency_key TEXT PRIMARY KEY, charge_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
        amount INTEGER NOT NULL, currency TEXT NOT NULL, brand TEXT NOT NULL, last4 TEXT NOT NULL,
        decline_code TEXT, message TEXT, refunded INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS refunds (
        idempotency_key TEXT PRIMARY KEY, refund_id TEXT NOT NULL, charge_id TEXT NOT NULL,
        amount INTEGER NOT NULL, created_at TEXT NOT NULL
      ) STRICT;
    `)
  }

  /** Simulated latency; a closed gateway is unavailable (503), as a gateway that cannot be reached would be. */
  private async latency(): Promise<void> {
    if (this.closed) throw new EngineUnavailable('test payment gateway')
    if (this.options.latencyMs) await sleep(this.options.latencyMs)
    if (this.closed) throw new EngineUnavailable('test payment gateway')
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    await this.latency()
    const existing = this.db.q('SELECT * FROM charges WHERE idempotency_key = ?').get(req.idempotencyKey) as
      | ChargeRow
      | undefined
    if (existing) {
      if (existing.amount !== req.amount || existing.currency !== req.currency)
        throw new EmporiumError(
          'EMP_GATEWAY_IDEMPOTENCY_MISMATCH',
          500,
          'The idempotency key was reused with different parameters',
        )
      return toResult(existing)
    }
    const { status, brand, last4, declineCode, message } = testCardOutcome(req.token)
    const row: ChargeRow = {
      idempotency_key: req.idempotencyKey,
      charge_id: newId('ch'),
      status,
      amount: req.amount,
      currency: req.currency,
      brand,
      last4,
      decline_code: declineCode,
      message,
    }
    this.db
      .q(
        `INSERT INTO charges (idempotency_key, charge_id, status, amount, currency, brand, last4, decline_code, message, created_at)
         VALUES (@idempotency_key, @charge_id, @status, @amount, @currency, @brand, @last4, @decline_code, @message, @created_at)
         ON CONFLICT (idempotency_key) DO NOTHING`,
      )
      .run({ ...row, created_at: new Date().toISOString() })
    const stored = this.db.q('SELECT * FROM charges WHERE idempotency_key = ?').get(req.idempotencyKey) as ChargeRow
    return toResult(stored)
  }

  async findCharge(idempotencyKey: string): Promise<ChargeResult | null> {
    await this.latency()
    const row = this.db.q('SELECT * FROM charges WHERE idempotency_key = ?').get(idempotencyKey) as
      | ChargeRow
      | undefined
    return row ? toResult(row) : null
  }

  async refund(req: RefundRequest): Promise<RefundResult> {
    await this.latency()
    return this.db.tx((): RefundResult => {
      const done = this.db.q('SELECT * FROM refunds WHERE idempotency_key = ?').get(req.idempotencyKey) as
        | { refund_id: string; charge_id: string; amount: number }
        | undefined
      if (done) return { refundId: done.refund_id, chargeId: done.charge_id, amount: done.amount }
      const charge = this.db.q('SELECT * FROM charges WHERE charge_id = ?').get(req.chargeId) as
        | (ChargeRow & { refunded: number })
        | undefined
      if (charge?.status !== 'succeeded')
        throw new EmporiumError('EMP_GATEWAY_NO_CHARGE', 409, 'There is no successful charge to refund')
      if (charge.refunded + req.amount > charge.amount)
        throw new EmporiumError('EMP_GATEWAY_OVER_REFUND', 409, 'The refund exceeds what is left of the charge')
      const refundId = newId('re')
      this.db
        .q('INSERT INTO refunds (idempotency_key, refund_id, charge_id, amount, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(req.idempotencyKey, refundId, req.chargeId, req.amount, new Date().toISOString())
      this.db.q('UPDATE charges SET refunded = refunded + ? WHERE charge_id = ?').run(req.amount, req.chargeId)
      return { refundId, chargeId: req.chargeId, amount: req.amount }
    })
  }

  /** How many charges were made with this key (always 0 or 1); for tests and drills. */
  countCharges(idempotencyKey?: string): number {
    const sql = idempotencyKey
      ? 'SELECT count(*) AS n FROM charges WHERE idempotency_key = ?'
      : 'SELECT count(*) AS n FROM charges'
    return (this.db.q(sql).get(...(idempotencyKey ? [idempotencyKey] : [])) as { n: number }).n
  }

  async ping(): Promise<void> {
    if (this.closed) throw new EngineUnavailable('test payment gateway')
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }
}
