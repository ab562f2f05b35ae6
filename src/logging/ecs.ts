// Log records in the Elastic Common Schema, as they travel from the app through the channels into the index.

export const LOG_CATEGORIES = ['access', 'app', 'audit', 'security', 'business', 'error'] as const
export type LogCategory = (typeof LOG_CATEGORIES)[number]

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

export const isLogCategory = (value: unknown): value is LogCategory =>
  typeof value === 'string' && (LOG_CATEGORIES as readonly string[]).includes(value)

/**
 * One log record. Field names are ECS dotted paths kept as nested objects, as Elasticsearch/OpenSearch store them.
 * `event.id` (UUIDv7) is assigned where the record is born and is the document id in the index, so redelivery
 * never makes a duplicate.
 */
export interface EcsRecord {
  '@timestamp': string
  message: string
  log: { level: LogLevel; logger?: string }
  event: {
    id: string
    category?: LogCategory
    dataset?: string
    action?: string
    outcome?: 'success' | 'failure' | 'unknown'
    /** nanoseconds */
    duration?: number
  }
  service: { name: string; version?: string }
  host?: { name?: string }
  process?: { pid?: number }
  http?: {
    request?: { method?: string; id?: string }
    response?: { status_code?: number; body?: { bytes?: number } }
  }
  url?: { path?: string; query?: string; route?: string }
  user?: { id?: string }
  client?: { ip?: string }
  user_agent?: {
    original?: string
    name?: string
    version?: string
    os?: { name?: string }
    device?: { name?: string }
  }
  trace?: { id?: string }
  error?: { message?: string; type?: string; stack_trace?: string; code?: string }
  /** Application fields that have no ECS home (order id, SKU, …), kept flat under `labels`. */
  labels?: Record<string, string | number | boolean>
}
