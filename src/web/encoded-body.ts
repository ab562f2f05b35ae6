// A cached response body with its compressed forms, each made once, the first time a client asks for it. Browsers and
// fetch() send Accept-Encoding on every request; compressing the product list's 22 KiB per response (brotli, on the
// request thread) served them a tenth of what an identity client got.

import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { negotiate } from '@fastify/accept-negotiator'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Bodies smaller than this go out as they are (what @fastify/compress is given as its threshold too). */
export const COMPRESS_THRESHOLD_BYTES = 1024

/** Preferred first, as @fastify/compress is configured. */
const ENCODINGS = ['br', 'gzip'] as const
type Encoding = (typeof ENCODINGS)[number]

export class EncodedBody {
  private br: Buffer | undefined
  private gzip: Buffer | undefined

  constructor(readonly identity: Buffer) {}

  /** What the cache counts: the identity bytes (a compressed form adds a fraction of it). */
  get byteLength(): number {
    return this.identity.byteLength
  }

  encoded(encoding: Encoding): Buffer {
    if (encoding === 'br')
      this.br ??= brotliCompressSync(this.identity, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 5,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: this.identity.byteLength,
        },
      })
    else this.gzip ??= gzipSync(this.identity, { level: 6 })
    return encoding === 'br' ? this.br! : this.gzip!
  }
}

/** Sends a cached body in the best encoding the client accepts (br, gzip, else identity); Vary says so to caches. */
export function sendEncoded(req: FastifyRequest, reply: FastifyReply, body: EncodedBody, type: string): FastifyReply {
  reply.type(type)
  if (body.identity.byteLength < COMPRESS_THRESHOLD_BYTES) return reply.send(body.identity)
  reply.header('vary', 'accept-encoding')
  const accepted = req.headers['accept-encoding']
  const encoding = accepted ? (negotiate(accepted, [...ENCODINGS]) as Encoding | null) : null
  if (encoding !== 'br' && encoding !== 'gzip') return reply.send(body.identity)
  // @fastify/compress leaves a body alone once Content-Encoding is set.
  reply.header('content-encoding', encoding)
  return reply.send(body.encoded(encoding))
}
