// Small building blocks shared by storefront, account and back-office pages.
import type { ComponentChildren, JSX } from 'preact'
import type { ProductView } from '../../commerce/catalog.ts'
import type { HistoryEntry, Order, OrderStatus } from '../../commerce/model.ts'
import { formatMoney } from '../../core/money.ts'

export const money = (amount: number, currency: string) => formatMoney({ amount, currency })

export function CsrfInput({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />
}

export function ProductCard({ product, currency }: { product: ProductView; currency: string }) {
  const prices = product.variants.map((v) => v.price)
  const min = prices.length ? Math.min(...prices) : 0
  const max = prices.length ? Math.max(...prices) : 0
  const available = product.variants.reduce((n, v) => n + v.available, 0)
  return (
    <li class="product-card">
      <img src={product.images[0]} alt="" width={400} height={400} loading="lazy" />
      <div class="body">
        <a class="title" href={`/products/${product.slug}`}>
          {product.name}
        </a>
        <span class="meta">{product.category?.name}</span>
        <span class="price">{min === max ? money(min, currency) : `from ${money(min, currency)}`}</span>
        <StockBadge available={available} />
      </div>
    </li>
  )
}

export function StockBadge({ available }: { available: number }) {
  if (available <= 0) return <span class="badge bad">Out of stock</span>
  if (available < 5) return <span class="badge warn">Only {available} left</span>
  return <span class="badge ok">In stock</span>
}

const STATUS_LABEL: Record<OrderStatus, [string, string]> = {
  pending: ['Pending', 'warn'],
  paid: ['Paid', 'ok'],
  payment_failed: ['Payment failed', 'bad'],
  shipped: ['Shipped', 'ok'],
  delivered: ['Delivered', 'ok'],
  cancelled: ['Cancelled', 'bad'],
  refund_requested: ['Refund requested', 'warn'],
  refunded: ['Refunded', ''],
  refund_rejected: ['Refund rejected', 'bad'],
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  const [label, tone] = STATUS_LABEL[status]
  return <span class={`badge ${tone}`}>{label}</span>
}

export const statusLabel = (s: OrderStatus) => STATUS_LABEL[s][0]

export function Timeline({ history }: { history: HistoryEntry[] }) {
  return (
    <ol class="timeline">
      {history.map((h) => (
        <li>
          <strong>{statusLabel(h.to)}</strong>
          <time dateTime={h.at}>{new Date(h.at).toUTCString().replace(' GMT', ' UTC')}</time>
          {h.reason ? <span>{h.reason}</span> : null}
        </li>
      ))}
    </ol>
  )
}

export function Field(props: {
  name: string
  label: string
  value?: string | number | undefined
  type?: string
  error?: string | undefined
  hint?: string
  required?: boolean
  autocomplete?: string
  maxLength?: number
  min?: number
  max?: number
  inputMode?: JSX.HTMLAttributes['inputMode']
}) {
  const id = `f-${props.name.replace(/[^a-zA-Z0-9_-]/g, '-')}`
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ')
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? ''}
        required={props.required}
        autocomplete={props.autocomplete}
        maxLength={props.maxLength}
        min={props.min}
        max={props.max}
        inputMode={props.inputMode}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.hint ? (
        <div class="hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div class="error" id={`${id}-error`}>
          {props.error}
        </div>
      ) : null}
    </div>
  )
}

export function Pagination({
  page,
  total,
  limit,
  href,
}: {
  page: number
  total: number
  limit: number
  href: (p: number) => string
}) {
  const pages = Math.max(1, Math.ceil(total / limit))
  if (pages <= 1) return null
  const shown = [...new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages])]
    .filter((p) => p >= 1 && p <= pages)
    .sort((a, b) => a - b)
  return (
    <nav aria-label="Pagination">
      <ul class="pagination">
        {page > 1 ? (
          <li>
            <a href={href(page - 1)} rel="prev">
              Previous
            </a>
          </li>
        ) : null}
        {shown.map((p) =>
          p === page ? (
            <li>
              <span aria-current="page">{p}</span>
            </li>
          ) : (
            <li>
              <a href={href(p)}>{p}</a>
            </li>
          ),
        )}
        {page < pages ? (
          <li>
            <a href={href(page + 1)} rel="next">
              Next
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  )
}

export function Breadcrumbs({ items }: { items: [string, string | null][] }) {
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <ol>
        {items.map(([label, href], i) => (
          <li>
            {href && i < items.length - 1 ? <a href={href}>{label}</a> : <span aria-current="page">{label}</span>}
          </li>
        ))}
      </ol>
    </nav>
  )
}

export function Totals(props: {
  currency: string
  subtotal: number
  discount: number
  shipping: number
  tax: number
  total: number
  children?: ComponentChildren
}) {
  const c = props.currency
  return (
    <div class="card summary">
      <h2>Summary</h2>
      <dl>
        <dt>Subtotal</dt>
        <dd>{money(props.subtotal, c)}</dd>
        {props.discount ? (
          <>
            <dt>Discount</dt>
            <dd>−{money(props.discount, c)}</dd>
          </>
        ) : null}
        <dt>Shipping</dt>
        <dd>{props.shipping ? money(props.shipping, c) : 'Free'}</dd>
        <dt>Tax</dt>
        <dd>{money(props.tax, c)}</dd>
        <dt class="total">Total</dt>
        <dd class="total">{money(props.total, c)}</dd>
      </dl>
      {props.children}
    </div>
  )
}

/** The lines of an order; staff see SKUs and link to the product's edit page, customers to the product page. */
export function OrderLines({ order, caption, staff = false }: { order: Order; caption: string; staff?: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            {staff ? <th scope="col">SKU</th> : null}
            <th scope="col" class="num">
              Qty
            </th>
            <th scope="col" class="num">
              Price
            </th>
            <th scope="col" class="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((l) => (
            <tr>
              <td>
                <a href={staff ? `/admin/products/${l.productId}` : `/products/${l.productSlug}`}>{l.name}</a>
                <div class="meta">{l.variantName}</div>
              </td>
              {staff ? (
                <td>
                  <code>{l.sku}</code>
                </td>
              ) : null}
              <td class="num">{l.quantity}</td>
              <td class="num">{money(l.unitPrice, order.currency)}</td>
              <td class="num">{money(l.lineTotal, order.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
