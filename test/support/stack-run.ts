// What the multi-process stack tests share: why they cannot run here, and the clean-up of a run's own names (its
// MongoDB database, Redis key prefix and search-engine data streams) from the shared stack.
import { Client } from '@opensearch-project/opensearch'
import { dropRedisKeys } from '../../src/testing/redis.ts'
import { dropMongoDatabase } from './cli-process.ts'

/** mongo-java-server (atomic findAndModify) when the stack runs it, else the first MongoDB stand-in. */
export const STACK_MONGO_BASE = process.env.MONGODB_URL_JAVA ?? process.env.MONGODB_URL

/** Why a test needing Redis, OpenSearch and MongoDB from the stack cannot run, or false when it can. */
export function stackSkipReason(): string | false {
  const missing = ['REDIS_URL', 'OPENSEARCH_URL'].filter((n) => !process.env[n])
  if (!STACK_MONGO_BASE) missing.push('MONGODB_URL_JAVA or MONGODB_URL')
  return missing.length
    ? `${missing.join(' and ')} unset: run npm run stack:up and eval "$(bash scripts/stack/stack.sh env)"`
    : false
}

/** Drops what one run created; reports what could not be dropped on stderr instead of failing the run. */
export async function dropStackRun(run: { db: string; streams: string; redisPrefix: string }): Promise<void> {
  const os = new Client({ node: process.env.OPENSEARCH_URL as string, requestTimeout: 30_000 })
  const problems = [
    await dropMongoDatabase(STACK_MONGO_BASE as string, run.db),
    await os.transport
      .request({ method: 'DELETE', path: `/_data_stream/${run.streams}` })
      .then(() => null)
      .catch((e: Error) => `could not delete ${run.streams}: ${e.message}`),
  ].filter(Boolean)
  await dropRedisKeys(process.env.REDIS_URL as string, `${run.redisPrefix}:`).catch((e: Error) =>
    problems.push(e.message),
  )
  await os.close()
  for (const p of problems) console.error(p)
}
