// The baseline of bench/api.ts: a minimal Fastify 5 app answering one small JSON object, run as its own process.
// With BARE_PAYLOAD_FILE it also serves that file's bytes as JSON at /payload, to price the payload apart from the app.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/', async () => ({ ok: true, name: 'bare', items: [1, 2, 3] }))

const payloadFile = process.env.BARE_PAYLOAD_FILE
if (payloadFile) {
  const payload = readFileSync(payloadFile, 'utf8')
  app.get('/payload', (_req, reply) => {
    reply.type('application/json; charset=utf-8').send(payload)
  })
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : 0
console.log(`bare fastify listening on http://127.0.0.1:${port}`)

// The bench keeps our stdin open; when it goes away (even killed hard) we go too, so nothing is left running.
process.stdin.resume()
process.stdin.on('end', () => void app.close().then(() => process.exit(0)))
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => void app.close().then(() => process.exit(0)))
