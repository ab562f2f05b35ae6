// Figures for the log path: shipper cost per pino line (what a request pays) and redaction throughput on one core.
// Run: npm run bench:logging   (prints figures; never pass/fail on timing)
import pino from 'pino'
import type { EcsRecord } from '../src/logging/ecs.ts'
import { toEcs } from '../src/logging/ecs-record.ts'
import { createRedactor } from '../src/logging/redact.ts'
import { LogShipper } from '../src/logging/shipper.ts'

const N = Number(process.env.BENCH_N ?? 200_000)
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6

/** A typical mix: access lines, audit/business markers, an occasional error and refusal. */
function typicalLines(n: number): string[] {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
  const base = {
    level: 30,
    time: 1768478400000,
    pid: 4242,
    hostname: 'web-1',
    reqId: '01936b2e-aaaa-7000-8000-000000000002',
  }
  const shapes = [
    {
      ...base,
      req: {
        method: 'GET',
        url: '/api/v1/products?q=mug&page=2',
        route: '/api/v1/products',
        remoteAddress: '203.0.113.9',
        userAgent: ua,
      },
      res: { statusCode: 200, bytes: 5120 },
      responseTime: 3.2,
      msg: 'request completed',
    },
    { ...base, userId: 'usr_01936b2e000070008000000000000001', audit: 'user.login', msg: 'signed in' },
    {
      ...base,
      userId: 'usr_01936b2e000070008000000000000001',
      orderId: 'ord_01936b2e000070008000000000000003',
      business: 'order.paid',
      msg: 'order paid',
    },
    {
      ...base,
      req: {
        method: 'POST',
        url: '/api/v1/auth/login?next=/account&email=joe%40example.com',
        route: '/api/v1/auth/login',
        remoteAddress: '203.0.113.9',
        userAgent: ua,
      },
      res: { statusCode: 401, bytes: 120 },
      responseTime: 40.1,
      msg: 'request completed',
    },
    { ...base, level: 40, security: 'login.failed', code: 'EMP_INVALID_CREDENTIALS', msg: 'sign-in refused' },
    {
      ...base,
      level: 50,
      err: {
        type: 'Error',
        message: 'payment gateway timeout for joe@example.com',
        stack:
          'Error: payment gateway timeout\n    at charge (/app/dist/commerce/payments.js:10:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      },
      msg: 'request failed',
    },
  ]
  const weights = [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0]
  return Array.from({ length: n }, (_, i) => `${JSON.stringify(shapes[weights[i % weights.length] as number])}\n`)
}

/** Lines arrive as a server makes them: some per turn of the event loop, which lets batches go out in between. */
async function benchShipper(lines: string[], perTurn = 200) {
  let sent = 0
  const shipper = new LogShipper({
    service: 'emporium',
    send: async (batch) => {
      sent += batch.length
    },
  })
  const turn = () => new Promise((r) => setImmediate(r))
  for (let i = 0; i < 20_000; i++) {
    shipper.write(lines[i % lines.length] as string)
    if (i % perTurn === 0) await turn()
  }
  await shipper.flush()
  sent = 0
  let writeNs = 0n
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < lines.length; i += perTurn) {
    const w0 = process.hrtime.bigint()
    const end = Math.min(lines.length, i + perTurn)
    for (let j = i; j < end; j++) shipper.write(lines[j] as string)
    writeNs += process.hrtime.bigint() - w0
    await turn()
  }
  await shipper.flush()
  const totalMs = ms(t0)
  const cpu = process.cpuUsage(cpu0)
  await shipper.close()
  const st = shipper.stats()
  console.log(
    `shipper.write: ${(Number(writeNs) / 1000 / lines.length).toFixed(2)} µs/line wall (the synchronous part a log call pays); ` +
      `end to end with a no-op send ${((totalMs * 1000) / lines.length).toFixed(2)} µs/line wall, ` +
      `${((cpu.user + cpu.system) / lines.length).toFixed(2)} µs/line CPU; ${sent} shipped, ${st.dropped} dropped`,
  )
}

async function benchPino(lines: number, perTurn = 200) {
  const plain = pino({}, { write: (_s: string) => {} })
  const shipper = new LogShipper({ service: 'emporium', send: async () => {} })
  const shipped = pino({}, shipper)
  const run = async (log: pino.Logger) => {
    let ns = 0n
    for (let i = 0; i < lines; i += perTurn) {
      const t0 = process.hrtime.bigint()
      for (let j = 0; j < perTurn; j++) log.info({ userId: 'usr_1', audit: 'user.login', reqId: 'r1' }, 'signed in')
      ns += process.hrtime.bigint() - t0
      await new Promise((r) => setImmediate(r))
    }
    return Number(ns) / 1000 / lines
  }
  await run(plain)
  await run(shipped)
  const a = await run(plain)
  const b = await run(shipped)
  await shipper.close()
  console.log(
    `pino log call: ${a.toFixed(2)} µs into a no-op stream, ${b.toFixed(2)} µs into the shipper (+${(b - a).toFixed(2)} µs)`,
  )
}

function benchRedact(lines: string[]) {
  const records: EcsRecord[] = lines.map((l) => toEcs(JSON.parse(l), { service: 'emporium' }))
  const redact = createRedactor({ emailKey: 'bench' })
  let sink = 0
  for (let i = 0; i < 20_000; i++) sink += redact(records[i % records.length] as EcsRecord).message.length
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (const r of records) sink += redact(r).message.length
  const elapsed = ms(t0)
  const cpu = process.cpuUsage(cpu0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  console.log(
    `redact: ${Math.round(records.length / (elapsed / 1000)).toLocaleString('en')} records/s wall, ` +
      `${Math.round(records.length / (cpuMs / 1000)).toLocaleString('en')} records/s per CPU-second ` +
      `(${((cpuMs * 1000) / records.length).toFixed(2)} µs CPU/record, typical mix) [${sink > 0 ? 'ok' : ''}]`,
  )
}

const lines = typicalLines(N)
console.log(`${N.toLocaleString('en')} lines, Node ${process.version}`)
await benchShipper(lines)
await benchPino(N)
benchRedact(lines)
