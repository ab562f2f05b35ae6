// The Cassandra analytics keyspace, designed query-first: each table's comment names the query it serves.
//
// Facts and events sit in time-bucketed partitions ((day, hour) and (day, type, hour)), so a time range is a fan-out of
// bounded partitions and no partition grows past an hour of traffic. Every primary key ends in the record's id, so a
// replayed write lands on the same row. Rollups hold one UTC day per partition and are rewritten whole by rollup(day)
// (a partition delete, then the recomputed rows at a later write timestamp): there are no counters. Clustering
// columns cannot be null, so an absent country, coupon or channel is '' in rollup keys (and nowhere else).

export type Replication =
  | { class: 'SimpleStrategy'; replicationFactor: number }
  | { class: 'NetworkTopologyStrategy'; dataCenters: Record<string, number> }

export function replicationCql(r: Replication): string {
  if (r.class === 'SimpleStrategy') {
    if (!Number.isInteger(r.replicationFactor) || r.replicationFactor < 1)
      throw new RangeError('replicationFactor must be a whole number from 1')
    return `{'class': 'SimpleStrategy', 'replication_factor': ${r.replicationFactor}}`
  }
  const entries = Object.entries(r.dataCenters)
  if (entries.length === 0) throw new RangeError('NetworkTopologyStrategy needs at least one data centre')
  const dcs = entries.map(([dc, factor]) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(dc)) throw new RangeError(`data centre name ${dc} is not valid`)
    if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`replication factor for ${dc} must be 1 or more`)
    return `'${dc}': ${factor}`
  })
  return `{'class': 'NetworkTopologyStrategy', ${dcs.join(', ')}}`
}

export const isKeyspaceName = (name: string): boolean => /^[a-z][a-z0-9_]{0,47}$/.test(name)

const ROLLUP_COLUMNS = `lines int, gross bigint, units bigint, orders int, refund_lines int, refunds bigint`

/** CREATE TABLE statements for keyspace `ks` (already validated as a plain lower-case name). */
export function tableStatements(ks: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${ks}.analytics_meta (key text PRIMARY KEY, value text)
      WITH comment = 'Serves: the store settings check at migrate (the currency the store sums)'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.events_by_day (
        day date, type text, hour int, occurred_at timestamp, id text,
        session_id text, customer_id text, product_id text, category text, quantity int, value bigint,
        order_id text, country text, coupon text, channel text,
        PRIMARY KEY ((day, type, hour), occurred_at, id))
      WITH comment = 'Serves: the funnel (view, cart, checkout, paid events of a range) and sessions / conversion_rate (product views of a range): events of one type in one UTC hour, in time order'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.order_lines_by_day (
        day date, hour int, paid_at timestamp, id text,
        order_id text, customer_id text, session_id text, product_id text, category text,
        quantity int, revenue bigint, country text, coupon text, channel text,
        PRIMARY KEY ((day, hour), paid_at, id))
      WITH comment = 'Serves: revenue, orders, units, AOV by any dimension for ranges not covered by a fresh rollup, and rollup(day): order lines paid in one UTC hour'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.refund_lines_by_day (
        day date, hour int, refunded_at timestamp, id text,
        refund_id text, order_id text, product_id text, category text,
        quantity int, amount bigint, country text, coupon text, channel text,
        PRIMARY KEY ((day, hour), refunded_at, id))
      WITH comment = 'Serves: refunds and revenue (less refunds) for ranges not covered by a fresh rollup, and rollup(day): refund lines made in one UTC hour'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.customer_months (
        shard int, customer_id text, month text, PRIMARY KEY ((shard), customer_id, month))
      WITH comment = 'Serves: cohort retention: the months in which each customer paid for an order (the first row per customer is the cohort), spread over 32 shards by customer'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.sales_by_day (
        day date, country text, coupon text, channel text, ${ROLLUP_COLUMNS},
        PRIMARY KEY ((day), country, coupon, channel))
      WITH comment = 'Serves: revenue, gross_revenue, refunds, orders, units, AOV, refund_rate by day/week/month/country/coupon/channel over whole rolled-up days (rollup of one day)'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.sales_by_day_category (
        day date, category text, country text, coupon text, channel text, ${ROLLUP_COLUMNS},
        PRIMARY KEY ((day), category, country, coupon, channel))
      WITH comment = 'Serves: the sales measures by category (orders distinct per category) over whole rolled-up days'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.sales_by_day_product (
        day date, product_id text, category text, country text, coupon text, channel text, ${ROLLUP_COLUMNS},
        PRIMARY KEY ((day), product_id, category, country, coupon, channel))
      WITH comment = 'Serves: the sales measures by product (orders distinct per product) over whole rolled-up days'`,
    `CREATE TABLE IF NOT EXISTS ${ks}.rollup_state (day date PRIMARY KEY, written_at timestamp, rolled_at timestamp)
      WITH comment = 'Serves: whether a day may be read from its rollup (rolled_at later than the last write of the day)'`,
  ]
}

export const ROLLUP_TABLES = {
  order: { table: 'sales_by_day', keys: ['country', 'coupon', 'channel'] },
  category: { table: 'sales_by_day_category', keys: ['category', 'country', 'coupon', 'channel'] },
  product: { table: 'sales_by_day_product', keys: ['product_id', 'category', 'country', 'coupon', 'channel'] },
} as const
export type RollupLevel = keyof typeof ROLLUP_TABLES

export const CUSTOMER_SHARDS = 32
