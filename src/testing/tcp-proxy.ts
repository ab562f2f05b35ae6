// A TCP forwarder to an engine that a test can cut and restore, to play an outage without touching the shared server.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

export function tcpProxy(target: URL, defaultPort = 6379) {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const start = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || defaultPort), target.hostname)
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('error', () => s.destroy())
          s.on('close', () => sockets.delete(s))
        }
        client.pipe(upstream).pipe(client)
        client.on('close', () => upstream.destroy())
        upstream.on('close', () => client.destroy())
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      if (server) server.close(() => resolve())
      else resolve()
    })
  return { start, stop }
}
