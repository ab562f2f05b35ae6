// Stopping the web server (what SIGTERM does): a request in flight finishes, a connection that never sent a request
// does not hold the stop, and after SHUTDOWN_GRACE_MS whatever is left is cut. Before closeServer, one pre-connected
// socket (browsers and fetch open them) held `app.close()` for the headers timeout, some 70 s.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { startTestShop } from '../support/test-shop.ts'

const rawSocket = async (port: number): Promise<Socket> => {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.setEncoding('utf8')
  return socket
}

/** Everything the server sends until it closes the connection. */
const readAll = (socket: Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = ''
    socket.on('data', (chunk: string) => {
      text += chunk
    })
    socket.once('close', () => resolve(text))
  })

/** Sends a sign-in request's headers and the first half of its body, leaving the request in flight. */
const halfSentLogin = async (port: number) => {
  const socket = await rawSocket(port)
  const body = JSON.stringify({ email: 'nobody@example.com', password: 'not the password at all' })
  const half = Math.floor(body.length / 2)
  socket.write(
    `POST /api/v1/auth/login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  )
  return { socket, rest: body.slice(half), answer: readAll(socket) }
}

// Each test's timeout is what fails it if a stop waits for Node's own timeouts (headers 60-90 s, requests 300 s).
describe('stopping the web server', () => {
  it('lets a request in flight finish and does not wait for a connection that never sent one', {
    timeout: 45_000,
  }, async () => {
    const shop = await startTestShop()
    const idle = await rawSocket(shop.started.port)
    const idleClosed = once(idle, 'close')
    const inFlight = await halfSentLogin(shop.started.port)
    // The server has routed the half-sent request before the stop begins.
    await new Promise((r) => setTimeout(r, 200))
    const stopping = shop.stop()
    await idleClosed
    inFlight.socket.write(inFlight.rest)
    const answer = await inFlight.answer
    await stopping
    assert.match(answer, /^HTTP\/1\.1 401 /, 'the request in flight got its answer (wrong password: 401)')
    assert.match(answer, /EMP_INVALID_CREDENTIALS/)
  })

  it('cuts a request still in flight when SHUTDOWN_GRACE_MS has passed', { timeout: 45_000 }, async () => {
    const shop = await startTestShop({ SHUTDOWN_GRACE_MS: '300' })
    const stuck = await halfSentLogin(shop.started.port)
    await new Promise((r) => setTimeout(r, 200))
    // Without the cut the stop would wait for the rest of the body until Node's request timeout (300 s).
    await shop.stop()
    assert.equal(await stuck.answer, '', 'the connection was closed without an answer')
  })
})
