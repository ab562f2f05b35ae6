import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { describeJobQueueConformance } from '../job-queue.conformance.ts'
import { type BullmqJobQueue, openBullmqJobQueue } from './bullmq-job-queue.ts'

const url = process.env.REDIS_URL

async function dropKeys(prefix: string): Promise<void> {
  const redis = new Redis(url!, { maxRetriesPerRequest: 1 })
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>)
      if (keys.length > 0) await redis.unlink(...keys)
  } finally {
    redis.disconnect()
  }
}

if (!url) {
  describe('JobQueue › bullmq', () => {
    it('conformance', {
      skip: 'REDIS_URL is not set; run `eval "$(npm run -s stack:env)"` with the stack up',
    }, () => {})
  })
} else {
  const open = (prefix: string) => openBullmqJobQueue(url, { prefix })
  describeJobQueueConformance({
    name: 'bullmq',
    create: async () => open(`emporium-test:jobs:${randomUUID()}`),
    reopen: async (q) => open((q as BullmqJobQueue).prefix),
    cleanup: async (q) => {
      await q.close(0)
      await dropKeys((q as BullmqJobQueue).prefix)
    },
  })
}
