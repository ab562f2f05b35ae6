// The PaymentGateway conformance suite on the embedded test gateway: two handles on one SQLite file stand for two
// processes sharing a DATA_DIR.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describePaymentGatewayConformance } from './payment-gateway.conformance.ts'
import { TestPaymentGateway } from './test-gateway.ts'

describePaymentGatewayConformance('test gateway on SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emporium-gateway-'))
  return {
    open: async () => new TestPaymentGateway({ path: join(dir, 'payments.sqlite') }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
})
