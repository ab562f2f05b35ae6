// Back office, fulfilment: the order list with a status filter, order detail with ship/deliver/cancel, refund queue.
import type { FastifyInstance } from 'fastify'
import { Fulfilment } from '../../commerce/fulfilment.ts'
import { ORDER_STATUSES, type Order, type Refund, type RefundStatus } from '../../commerce/model.ts'
import { canTransition } from '../../commerce/orders.ts'
import { NotFound, ValidationFailed } from '../../core/errors.ts'
import { requirePermission } from '../plugins/auth.ts'
import {
  AdminPage,
  dateOnly,
  ID_RE,
  pageParam,
  pageRoute,
  refusal,
  refusalText,
  textParam,
  withQuery,
} from './admin-shared.tsx'
import { CsrfInput, money, OrderLines, Pagination, StatusBadge, statusLabel, Timeline, Totals } from './components.tsx'
import type { PagesContext } from './context.ts'
import { type FormBody, field, flash, html, viewStateWithSession } from './render.tsx'

const LIMIT = 25
const REFUND_STATUSES: readonly RefundStatus[] = ['requested', 'approved', 'rejected']
const REFUND_LABEL: Record<RefundStatus, [label: string, tone: string]> = {
  requested: ['Requested', 'warn'],
  approved: ['Approved', 'ok'],
  rejected: ['Rejected', 'bad'],
}

/** `ord_…8e2578f8`: the kind and the random tail (uuidv7 ids share their leading timestamp digits). */
const shortId = (id: string) => (id.length > 16 ? `${id.slice(0, 4)}…${id.slice(-8)}` : id)
const when = (iso: string) => <time dateTime={iso}>{iso.slice(0, 16).replace('T', ' ')}</time>
const units = (o: Order) => o.lines.reduce((n, l) => n + l.quantity, 0)

function OrderActions({ order, csrf }: { order: Order; csrf: string }) {
  const ship = canTransition(order.status, 'shipped')
  const deliver = canTransition(order.status, 'delivered')
  const cancel = canTransition(order.status, 'cancelled')
  if (!ship && !deliver && !cancel) return null
  return (
    <section class="card" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div class="actions">
        {ship ? (
          <form method="post" action={`/admin/orders/${order.id}/ship`}>
            <CsrfInput token={csrf} />
            <button class="btn" type="submit">
              Ship
            </button>
          </form>
        ) : null}
        {deliver ? (
          <form method="post" action={`/admin/orders/${order.id}/deliver`}>
            <CsrfInput token={csrf} />
            <button class={ship ? 'btn secondary' : 'btn'} type="submit">
              Mark delivered
            </button>
          </form>
        ) : null}
      </div>
      {cancel ? (
        <form
          method="post"
          action={`/admin/orders/${order.id}/cancel`}
          class="cancel-form"
          data-confirm={
            order.status === 'paid'
              ? 'Cancel this order? The customer is refunded in full and the units go back on sale.'
              : 'Cancel this order? Its reserved units go back on sale.'
          }
        >
          <CsrfInput token={csrf} />
          <div class="field">
            <label for="cancel-note">Reason for cancelling (optional)</label>
            <input id="cancel-note" type="text" name="note" maxLength={500} autocomplete="off" />
          </div>
          <button class="btn danger" type="submit">
            Cancel order
          </button>
        </form>
      ) : null}
    </section>
  )
}

function RefundSummary({ refund }: { refund: Refund }) {
  const [label, tone] = REFUND_LABEL[refund.status]
  return (
    <section class="card" aria-labelledby="refund-title">
      <h2 id="refund-title">Refund request</h2>
      <p>
        <span class={`badge ${tone}`}>{label}</span> {money(refund.amount, refund.currency)} · requested{' '}
        {dateOnly(refund.createdAt)}
      </p>
      <p>
        <strong>Reason:</strong> {refund.reason}
      </p>
      {refund.decisionNote ? (
        <p>
          <strong>Decision note:</strong> {refund.decisionNote}
        </p>
      ) : null}
      <a href={withQuery('/admin/refunds', { status: refund.status })}>
        {refund.status === 'requested' ? 'Decide in the refund queue' : 'See refunds'}
      </a>
    </section>
  )
}

export async function adminOrderPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop } = ctx

  app.get('/admin/orders', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'orders:manage')
    const query = req.query as { status?: string; page?: string }
    const status = Fulfilment.checkStatus(textParam(query.status, 32))
    const page = pageParam(query.page)
    const view = await viewStateWithSession(ctx, req)
    const { items, total } = await shop.fulfilment.listOrders(status, page, LIMIT)
    const caption = status ? `Orders that are ${statusLabel(status).toLowerCase()}` : 'All orders'
    return html(
      reply,
      <AdminPage view={view} user={user} section="/admin/orders" title="Orders" description="Orders to fulfil.">
        <form method="get" action="/admin/orders" class="filter-bar">
          <div class="field">
            <label for="order-status">Status</label>
            <select id="order-status" name="status">
              <option value="" selected={!status}>
                All statuses
              </option>
              {ORDER_STATUSES.map((s) => (
                <option value={s} selected={s === status}>
                  {statusLabel(s)}
                </option>
              ))}
            </select>
          </div>
          <button class="btn secondary" type="submit">
            Apply
          </button>
        </form>
        <p class="meta" aria-live="polite">
          {total} {total === 1 ? 'order' : 'orders'}
        </p>
        {items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">{caption}</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed (UTC)</th>
                  <th scope="col">Customer</th>
                  <th scope="col" class="num">
                    Units
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((o) => (
                  <tr>
                    <td>
                      <a href={`/admin/orders/${o.id}`}>
                        <code>{shortId(o.id)}</code>
                      </a>
                    </td>
                    <td>{when(o.createdAt)}</td>
                    <td>
                      <code>{shortId(o.userId)}</code>
                    </td>
                    <td class="num">{units(o)}</td>
                    <td>
                      <StatusBadge status={o.status} />
                    </td>
                    <td class="num">{money(o.total, o.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card">
            <p>No orders {status ? `are ${statusLabel(status).toLowerCase()}` : 'yet'}.</p>
          </div>
        )}
        <Pagination
          page={page}
          total={total}
          limit={LIMIT}
          href={(p) => withQuery('/admin/orders', { status, page: p })}
        />
      </AdminPage>,
    )
  })

  app.get<{ Params: { id: string } }>('/admin/orders/:id', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'orders:manage')
    if (!ID_RE.test(req.params.id)) throw new NotFound('Order')
    const order = await shop.fulfilment.getOrder(req.params.id)
    const refund = await shop.fulfilment.getRefundForOrder(order.id)
    const view = await viewStateWithSession(ctx, req)
    const a = order.shippingAddress
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section="/admin/orders"
        title={`Order ${order.id}`}
        description="Order details and fulfilment."
        heading={
          <>
            Order <code class="order-id">{order.id}</code> <StatusBadge status={order.status} />
          </>
        }
      >
        <p class="meta">
          Placed {when(order.createdAt)} UTC by customer <code>{order.userId}</code>
          {order.couponCode ? (
            <>
              {' '}
              · coupon <code>{order.couponCode}</code>
            </>
          ) : null}
        </p>
        <div class="two-col order-detail">
          <div>
            <OrderLines order={order} caption="Items in this order" staff />
            <div class="grid-2">
              <div>
                <h2>Ship to</h2>
                <address class="card">
                  {a.name}
                  <br />
                  {a.line1}
                  {a.line2 ? (
                    <>
                      <br />
                      {a.line2}
                    </>
                  ) : null}
                  <br />
                  {a.postalCode} {a.city}
                  <br />
                  {a.country}
                </address>
              </div>
              <div>
                <h2>History</h2>
                <Timeline history={order.history} />
              </div>
            </div>
          </div>
          <div class="side-stack">
            <OrderActions order={order} csrf={view.csrf} />
            {refund ? <RefundSummary refund={refund} /> : null}
            <Totals {...order}>
              {order.payment ? (
                <p class="meta">
                  Paid with {order.payment.brand?.toUpperCase()} ending {order.payment.last4}
                  {order.payment.status === 'refunded' ? ' (refunded)' : ''}
                </p>
              ) : null}
              {order.failureReason ? <p class="meta">Payment failed: {order.failureReason}</p> : null}
            </Totals>
          </div>
        </div>
      </AdminPage>,
    )
  })

  const done = {
    ship: () => 'The order was marked shipped.',
    deliver: () => 'The order was marked delivered.',
    cancel: (o: Order) =>
      o.payment?.status === 'refunded' ? 'The order was cancelled and refunded in full.' : 'The order was cancelled.',
  }

  for (const action of ['ship', 'deliver', 'cancel'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/orders/:id/${action}`, pageRoute, async (req, reply) => {
      const actor = requirePermission(req, 'orders:manage')
      const id = req.params.id
      if (!ID_RE.test(id)) throw new NotFound('Order')
      try {
        const order =
          action === 'ship'
            ? await shop.fulfilment.ship(actor, id)
            : action === 'deliver'
              ? await shop.fulfilment.deliver(actor, id)
              : await shop.fulfilment.cancel(actor, id, field(req.body as FormBody, 'note'))
        req.log.info({ userId: actor.id, orderId: order.id, audit: `order.${action}` }, `order ${order.status}`)
        flash(ctx, req, 'info', done[action](order))
      } catch (err) {
        flash(ctx, req, 'error', refusalText(refusal(err)))
      }
      return reply.redirect(`/admin/orders/${id}`, 303)
    })
  }

  app.get('/admin/refunds', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'refunds:decide')
    const query = req.query as { status?: string; page?: string }
    const raw = textParam(query.status, 32)
    if (raw && !REFUND_STATUSES.includes(raw as RefundStatus))
      throw new ValidationFailed('Unknown refund status').withFields({ status: REFUND_STATUSES.join(', ') })
    const status = (raw || 'requested') as RefundStatus
    const page = pageParam(query.page)
    const view = await viewStateWithSession(ctx, req)
    const { items, total } = await shop.fulfilment.listRefunds(status, page, LIMIT)
    const open = status === 'requested'
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section="/admin/refunds"
        title="Refunds"
        description="Refund requests to decide."
      >
        <form method="get" action="/admin/refunds" class="filter-bar">
          <div class="field">
            <label for="refund-status">Status</label>
            <select id="refund-status" name="status">
              {REFUND_STATUSES.map((s) => (
                <option value={s} selected={s === status}>
                  {REFUND_LABEL[s][0]}
                </option>
              ))}
            </select>
          </div>
          <button class="btn secondary" type="submit">
            Apply
          </button>
        </form>
        <p class="meta" aria-live="polite">
          {total} {REFUND_LABEL[status][0].toLowerCase()} {total === 1 ? 'refund' : 'refunds'}
        </p>
        {items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">{REFUND_LABEL[status][0]} refunds</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col">Reason</th>
                  <th scope="col">Requested</th>
                  <th scope="col">{open ? 'Decision' : 'Decided'}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr>
                    <td>
                      <a href={`/admin/orders/${r.orderId}`}>
                        <code>{shortId(r.orderId)}</code>
                      </a>
                    </td>
                    <td class="num">{money(r.amount, r.currency)}</td>
                    <td class="reason">{r.reason}</td>
                    <td>{dateOnly(r.createdAt)}</td>
                    <td>
                      {open ? (
                        <div class="decision">
                          <form method="post" action={`/admin/refunds/${r.id}/approve`} class="inline-fields">
                            <CsrfInput token={view.csrf} />
                            <label class="visually-hidden" for={`approve-note-${r.id}`}>
                              Note for approving the refund of order {r.orderId} (optional)
                            </label>
                            <input
                              id={`approve-note-${r.id}`}
                              type="text"
                              name="note"
                              maxLength={1000}
                              placeholder="Note (optional)"
                              autocomplete="off"
                            />
                            <button class="btn small" type="submit">
                              Approve
                            </button>
                          </form>
                          <form
                            method="post"
                            action={`/admin/refunds/${r.id}/reject`}
                            class="inline-fields"
                            data-confirm={`Reject the refund of ${money(r.amount, r.currency)}?`}
                          >
                            <CsrfInput token={view.csrf} />
                            <label class="visually-hidden" for={`reject-note-${r.id}`}>
                              Note for rejecting the refund of order {r.orderId} (optional)
                            </label>
                            <input
                              id={`reject-note-${r.id}`}
                              type="text"
                              name="note"
                              maxLength={1000}
                              placeholder="Note (optional)"
                              autocomplete="off"
                            />
                            <button class="btn danger small" type="submit">
                              Reject
                            </button>
                          </form>
                        </div>
                      ) : (
                        <>
                          {r.decidedAt ? dateOnly(r.decidedAt) : '—'}
                          {r.decisionNote ? <div class="meta">{r.decisionNote}</div> : null}
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card">
            <p>{open ? 'No refund requests are waiting.' : `No ${REFUND_LABEL[status][0].toLowerCase()} refunds.`}</p>
          </div>
        )}
        <Pagination
          page={page}
          total={total}
          limit={LIMIT}
          href={(p) => withQuery('/admin/refunds', { status: status === 'requested' ? '' : status, page: p })}
        />
      </AdminPage>,
    )
  })

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/refunds/:id/${decision}`, pageRoute, async (req, reply) => {
      const actor = requirePermission(req, 'refunds:decide')
      if (!ID_RE.test(req.params.id)) throw new NotFound('Refund')
      const note = field(req.body as FormBody, 'note')
      try {
        const { refund } =
          decision === 'approve'
            ? await shop.fulfilment.approveRefund(actor, req.params.id, note)
            : await shop.fulfilment.rejectRefund(actor, req.params.id, note)
        req.log.info({ userId: actor.id, refundId: refund.id, audit: `refund.${decision}` }, `refund ${refund.status}`)
        flash(
          ctx,
          req,
          'info',
          decision === 'approve'
            ? `The refund of ${money(refund.amount, refund.currency)} for order ${refund.orderId} was approved and paid back.`
            : `The refund for order ${refund.orderId} was rejected.`,
        )
      } catch (err) {
        flash(ctx, req, 'error', refusalText(refusal(err)))
      }
      return reply.redirect('/admin/refunds', 303)
    })
  }
}
