// The PaymentGateway port: charges and refunds with idempotency keys, and a look-up by key for recovery.

export interface ChargeRequest {
  /** The same key always names the same charge: a retry never charges twice. */
  idempotencyKey: string
  amount: number
  currency: string
  /** A tokenized card, e.g. tok_visa; card numbers never reach the shop. */
  token: string
  description: string
}

export type ChargeResult =
  | { status: 'succeeded'; chargeId: string; amount: number; currency: string; brand: string; last4: string }
  | { status: 'declined'; chargeId: string; amount: number; currency: string; declineCode: string; message: string }

export interface RefundRequest {
  idempotencyKey: string
  chargeId: string
  amount: number
}

export interface RefundResult {
  refundId: string
  chargeId: string
  amount: number
}

export interface PaymentGateway {
  readonly kind: string
  charge(request: ChargeRequest): Promise<ChargeResult>
  /** What happened to the charge with this key, or null if the gateway never saw it. */
  findCharge(idempotencyKey: string): Promise<ChargeResult | null>
  refund(request: RefundRequest): Promise<RefundResult>
  ping(): Promise<void>
  close(): Promise<void>
}
