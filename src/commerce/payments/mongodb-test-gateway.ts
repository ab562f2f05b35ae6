// The test PaymentGateway of a distributed shop: the same Stripe-like test tokens as the embedded one, with its charges
// and refunds in MongoDB (collections test_gateway_charges and test_gateway_refunds of the shop's database). Every
// process (web replicas, the worker's recovery job) then sees the same charges, as with a real gateway; with the
// charges in each process's DATA_DIR, a refund approved on another web replica than the one that charged was refused.
// It is still a test gateway: a shop that takes money needs a real gateway adapter behind the same port.
import { setTimeout as sleep } from 'node:timers/promises'
import { type Collection, type Db, type MongoClient, MongoServerError } from 'mongodb'
import { EmporiumError, EngineUnavailable } from '../../core/errors.ts'
import { newId } from '../../core/ids.ts'
import {
  connectMongo,
  databaseNameOf,
  isConnectionError,
  unavailable,
} from '../store/mongodb/mongodb-commerce-store.ts'
import type { ChargeRequest, ChargeResult, PaymentGateway, RefundRequest, RefundResult } from './payment-gateway.ts'
import { testCardOutcome } from './test-gateway.ts'

interface ChargeDoc {
  /** The idempotency key: one document per key, enforced by the primary key. */
  _id: string
  chargeId: string
  status: 'succeeded' | 'declined'
  amount: number
  currency: string
  brand: string
  last4: string
  declineCode: string | null
  message: string | null
  refunded: number
  /** Idempotency keys of the refunds applied to `refunded`: a retried refund never counts twice. */
  refundKeys: string[]
  createdAt: Date
}

interface RefundDoc {
  _id: string
  refundId: string
  chargeId: string
  amount: number
  createdAt: Date
}

const ENGINE = 'test payment gateway'

const isDuplicateKey = (e: unknown): boolean => e instanceof MongoServerError && e.code === 11000

const toResult = (d: ChargeDoc): ChargeResult =>
  d.status === 'succeeded'
    ? {
        status: 'succeeded',
        chargeId: d.chargeId,
        amount: d.amount,
        currency: d.currency,
        brand: d.brand,
        last4: d.last4,
      }
    : {
        status: 'declined',
        chargeId: d.chargeId,
        amount: d.amount,
        currency: d.currency,
        declineCode: d.declineCode ?? 'card_declined',
        message: d.message ?? 'Declined',
      }

const mismatch = () =>
  new EmporiumError('EMP_GATEWAY_IDEMPOTENCY_MISMATCH', 500, 'The idempotency key was reused with different parameters')

export interface MongoTestGatewayOptions {
  /** Simulated network latency per call, for crash and recovery drills. */
  latencyMs?: number
  /** Database name; default: the one MONGODB_URL names. */
  dbName?: string
}

export class MongoTestPaymentGateway implements PaymentGateway {
  readonly kind = 'test-mongodb'
  private readonly charges: Collection<ChargeDoc>
  private readonly refunds: Collection<RefundDoc>
  private closed = false

  constructor(
    private readonly client: MongoClient,
    db: Db,
    private readonly latencyMs = 0,
  ) {
    this.charges = db.collection<ChargeDoc>('test_gateway_charges')
    this.refunds = db.collection<RefundDoc>('test_gateway_refunds')
  }

  async migrate(): Promise<void> {
    await this.guard(() => this.charges.createIndex({ chargeId: 1 }, { unique: true, name: 'charge_id' }))
  }

  charge(req: ChargeRequest): Promise<ChargeResult> {
    return this.guard(async () => {
      const existing = await this.charges.findOne({ _id: req.idempotencyKey })
      if (existing) return this.replay(existing, req)
      const doc: ChargeDoc = {
        _id: req.idempotencyKey,
        chargeId: newId('ch'),
        amount: req.amount,
        currency: req.currency,
        ...testCardOutcome(req.token),
        refunded: 0,
        refundKeys: [],
        createdAt: new Date(),
      }
      try {
        await this.charges.insertOne(doc)
        return toResult(doc)
      } catch (e) {
        // A concurrent call with the same key charged first: answer with its charge, as a retry would get.
        if (!isDuplicateKey(e)) throw e
        const stored = await this.charges.findOne({ _id: req.idempotencyKey })
        if (!stored) throw e
        return this.replay(stored, req)
      }
    })
  }

  private replay(stored: ChargeDoc, req: ChargeRequest): ChargeResult {
    if (stored.amount !== req.amount || stored.currency !== req.currency) throw mismatch()
    return toResult(stored)
  }

  findCharge(idempotencyKey: string): Promise<ChargeResult | null> {
    return this.guard(async () => {
      const d = await this.charges.findOne({ _id: idempotencyKey })
      return d ? toResult(d) : null
    })
  }

  refund(req: RefundRequest): Promise<RefundResult> {
    return this.guard(async () => {
      const done = await this.refunds.findOne({ _id: req.idempotencyKey })
      if (done) return { refundId: done.refundId, chargeId: done.chargeId, amount: done.amount }
      const charge = await this.charges.findOne({ chargeId: req.chargeId })
      if (charge?.status !== 'succeeded')
        throw new EmporiumError('EMP_GATEWAY_NO_CHARGE', 409, 'There is no successful charge to refund')
      if (!charge.refundKeys.includes(req.idempotencyKey)) {
        // One conditional update: counts this refund once, and only while the charge covers it.
        const applied = await this.charges.updateOne(
          {
            chargeId: req.chargeId,
            refundKeys: { $ne: req.idempotencyKey },
            refunded: { $lte: charge.amount - req.amount },
          },
          { $inc: { refunded: req.amount }, $push: { refundKeys: req.idempotencyKey } },
        )
        if (applied.modifiedCount === 0) {
          const now = await this.charges.findOne({ chargeId: req.chargeId })
          // Not applied by a concurrent retry of the same refund either: the charge cannot cover it.
          if (!now?.refundKeys.includes(req.idempotencyKey))
            throw new EmporiumError('EMP_GATEWAY_OVER_REFUND', 409, 'The refund exceeds what is left of the charge')
        }
      }
      // The record of the refund; a retry after a crash between the two writes completes it here.
      await this.refunds.updateOne(
        { _id: req.idempotencyKey },
        {
          $setOnInsert: {
            refundId: newId('re'),
            chargeId: req.chargeId,
            amount: req.amount,
            createdAt: new Date(),
          },
        },
        { upsert: true },
      )
      const stored = await this.refunds.findOne({ _id: req.idempotencyKey })
      if (!stored) throw new EngineUnavailable(ENGINE)
      return { refundId: stored.refundId, chargeId: stored.chargeId, amount: stored.amount }
    })
  }

  async ping(): Promise<void> {
    await this.guard(() => this.charges.findOne({}, { projection: { _id: 1 } }))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.client.close()
  }

  /** Simulated latency, then the call; an unreachable server is EngineUnavailable (503), as in the store. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new EngineUnavailable(ENGINE)
    if (this.latencyMs) await sleep(this.latencyMs)
    try {
      return await call()
    } catch (e) {
      throw isConnectionError(e) ? unavailable(ENGINE, e) : e
    }
  }
}

/** Connects (failing with EngineUnavailable when the server cannot be reached) and creates the index it needs. */
export async function openMongoTestGateway(
  url: string,
  options: MongoTestGatewayOptions = {},
): Promise<MongoTestPaymentGateway> {
  const client = await connectMongo(url, ENGINE, { appName: 'emporium-test-gateway', maxPoolSize: 10 })
  const gateway = new MongoTestPaymentGateway(
    client,
    client.db(options.dbName ?? databaseNameOf(url)),
    options.latencyMs,
  )
  try {
    await gateway.migrate()
  } catch (e) {
    await gateway.close()
    throw e
  }
  return gateway
}
