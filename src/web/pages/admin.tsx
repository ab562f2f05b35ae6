// The back office under /admin (staff and admins; analysts see analytics only): dashboard here; catalog, orders,
// refunds, users and analytics in admin-*.tsx.
// Every handler checks its permission on the server, mirroring the JSON API in api/admin-routes.ts.
import type { FastifyInstance } from 'fastify'
import { can } from '../../commerce/accounts.ts'
import { ORDER_STATUSES } from '../../commerce/model.ts'
import { requirePermission } from '../plugins/auth.ts'
import { adminAnalyticsPages } from './admin-analytics.tsx'
import { adminObservabilityPages } from './admin-observability.tsx'
import { adminOrderPages } from './admin-orders.tsx'
import { adminProductPages } from './admin-products.tsx'
import { AdminPage, LOW_STOCK, pageRoute, withQuery } from './admin-shared.tsx'
import { adminUserPages } from './admin-users.tsx'
import { StatusBadge } from './components.tsx'
import type { PagesContext } from './context.ts'
import { html, viewStateWithSession } from './render.tsx'

const LOW_STOCK_SHOWN = 10

interface LowStockRow {
  productId: string
  productName: string
  sku: string
  variantName: string
  available: number
}

export async function adminPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop } = ctx

  /** Every SKU at or below LOW_STOCK, fewest units first (walks the catalog a page at a time). */
  const lowStock = async (): Promise<LowStockRow[]> => {
    const rows: LowStockRow[] = []
    const limit = 200
    for (let page = 1; page <= 500; page++) {
      const result = await shop.catalog.search({ sort: 'name', page, limit })
      for (const p of result.items)
        for (const v of p.variants)
          if (v.available <= LOW_STOCK)
            rows.push({
              productId: p.id,
              productName: p.name,
              sku: v.sku,
              variantName: v.name,
              available: v.available,
            })
      if (result.items.length < limit || page * limit >= result.total) break
    }
    return rows.sort((a, b) => a.available - b.available || a.sku.localeCompare(b.sku))
  }

  app.get('/admin', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'orders:manage')
    const catalog = can(user, 'catalog:write')
    const refunds = can(user, 'refunds:decide')
    const view = await viewStateWithSession(ctx, req)
    const [byStatus, openRefunds, products, low] = await Promise.all([
      Promise.all(ORDER_STATUSES.map(async (s) => [s, (await shop.fulfilment.listOrders(s, 1, 1)).total] as const)),
      refunds ? shop.fulfilment.listRefunds('requested', 1, 1).then((r) => r.total) : Promise.resolve(0),
      catalog ? shop.store.countProducts() : Promise.resolve(0),
      catalog ? lowStock() : Promise.resolve([]),
    ])
    const count = (status: string) => byStatus.find(([s]) => s === status)?.[1] ?? 0
    return html(
      reply,
      <AdminPage view={view} user={user} section="/admin" title="Back office" description="Shop overview.">
        <div class="stats">
          <a class="card stat" href="/admin/orders?status=paid">
            <strong>{count('paid')}</strong> Paid, awaiting shipment
          </a>
          {refunds ? (
            <a class="card stat" href="/admin/refunds">
              <strong>{openRefunds}</strong> Refund requests open
            </a>
          ) : null}
          {catalog ? (
            <a class="card stat" href="/admin/products">
              <strong>{products}</strong> Products
            </a>
          ) : null}
          {catalog ? (
            <a class="card stat" href="#low-stock">
              <strong>{low.length}</strong> Low-stock SKUs (≤ {LOW_STOCK})
            </a>
          ) : null}
        </div>
        <div class="grid-2 dashboard">
          <section aria-labelledby="by-status">
            <h2 id="by-status">Orders by status</h2>
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Number of orders in each status</caption>
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Orders
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {byStatus.map(([s, n]) => (
                    <tr>
                      <td>
                        <a href={withQuery('/admin/orders', { status: s })}>
                          <StatusBadge status={s} />
                        </a>
                      </td>
                      <td class="num">{n}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {catalog ? (
            <section aria-labelledby="low-stock">
              <h2 id="low-stock">Low stock</h2>
              {low.length === 0 ? (
                <div class="card">
                  <p>Every SKU has more than {LOW_STOCK} units.</p>
                </div>
              ) : (
                <div class="table-wrap">
                  <table>
                    <caption class="visually-hidden">
                      SKUs with {LOW_STOCK} units or fewer
                      {low.length > LOW_STOCK_SHOWN ? `, the ${LOW_STOCK_SHOWN} lowest` : ''}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">SKU</th>
                        <th scope="col">Product</th>
                        <th scope="col" class="num">
                          Units
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {low.slice(0, LOW_STOCK_SHOWN).map((r) => (
                        <tr>
                          <td>
                            <code>{r.sku}</code>
                          </td>
                          <td>
                            <a href={`/admin/products/${r.productId}`}>{r.productName}</a>
                            <div class="meta">{r.variantName}</div>
                          </td>
                          <td class="num">
                            <span class={`badge ${r.available === 0 ? 'bad' : 'warn'}`}>{r.available}</span>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {low.length > LOW_STOCK_SHOWN ? (
                <p class="meta">
                  Showing the {LOW_STOCK_SHOWN} lowest of {low.length}.
                </p>
              ) : null}
            </section>
          ) : null}
        </div>
      </AdminPage>,
    )
  })

  await adminProductPages(app, ctx)
  await adminOrderPages(app, ctx)
  await adminUserPages(app, ctx)
  await adminAnalyticsPages(app, ctx)
  await adminObservabilityPages(app, ctx)
}
