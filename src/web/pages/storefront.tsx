// The storefront: home, category and search listings, product pages, cart, checkout and confirmation.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { VNode } from 'preact'
import { renderToString as renderString } from 'preact-render-to-string'
import type { CartRef } from '../../commerce/carts.ts'
import type { ProductView } from '../../commerce/catalog.ts'
import { IDEMPOTENCY_KEY_RE } from '../../commerce/checkout.ts'
import type { ProductSort } from '../../commerce/model.ts'
import { PRODUCT_SORTS } from '../../commerce/model.ts'
import { TEST_TOKENS } from '../../commerce/payments/test-gateway.ts'
import { isEmporiumError, NotFound } from '../../core/errors.ts'
import { randomSecret } from '../../core/ids.ts'
import { requireUser } from '../plugins/auth.ts'
import { VersionedCache } from '../versioned-cache.ts'
import { Breadcrumbs, CsrfInput, Field, money, Pagination, ProductCard, StockBadge, Totals } from './components.tsx'
import type { PagesContext, Req, ViewState } from './context.ts'
import { Layout } from './layout.tsx'
import { type FormBody, field, flash, html, intField, viewState, viewStateWithSession } from './render.tsx'

const SORT_LABELS: Record<ProductSort, string> = {
  relevance: 'Relevance',
  newest: 'Newest',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
  name: 'Name',
}

interface ListingQuery {
  q?: string
  min?: string
  max?: string
  inStock?: string
  sort?: string
  page?: string
}

/** Prices typed by people ("12.50") into minor units; null when empty, NaN when not a price. */
const parsePrice = (raw: string | undefined): number | null => {
  if (!raw?.trim()) return null
  return /^\d{1,7}(\.\d{1,2})?$/.test(raw.trim()) ? Math.round(Number(raw.trim()) * 100) : Number.NaN
}

export async function storefrontPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop } = ctx
  const currency = shop.settings.currency
  // Anonymous pages (no session: nobody signed in, no cart, no form token) are the same for every visitor.
  const cache = new VersionedCache(16 * 1024 * 1024, 10_000)

  /** Serves an anonymous page from the cache, or renders and stores it. */
  /** Anonymous renders in progress by URL: concurrent misses for one page wait for one render (no stampede). */
  const rendering = new Map<string, Promise<string | null>>()
  const cached = async (req: Req, render: () => Promise<string | null>): Promise<string | null> => {
    const anonymous = !req.sessionState && !req.user
    if (!anonymous) return render()
    const version = await shop.catalog.version()
    const hit = cache.get(version, req.url)
    if (hit) return hit
    const key = `${version} ${req.url}`
    let pending = rendering.get(key)
    if (!pending) {
      pending = render()
        .then((out) => {
          if (out) cache.set(version, req.url, out)
          return out
        })
        .finally(() => rendering.delete(key))
      rendering.set(key, pending)
    }
    return pending
  }
  const sendHtml = (reply: FastifyReply, body: string) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(body)
  const doc = (vnode: VNode) => `<!doctype html>${renderString(vnode)}`

  app.get('/', async (req, reply) => {
    const body = await cached(req, async () => {
      const view = await viewState(ctx, req)
      const [featured, newest, categories] = await Promise.all([
        shop.catalog.search({ featured: true, sort: 'newest', page: 1, limit: 8 }),
        shop.catalog.search({ sort: 'newest', inStock: true, page: 1, limit: 8 }),
        shop.catalog.listCategories(),
      ])
      return doc(
        <Layout
          meta={{
            title: 'Emporium',
            description:
              'Clothing, outdoor gear, books, home goods and more — shipped fast, with free shipping over $75.',
            canonical: '/',
          }}
          view={view}
        >
          <section class="hero">
            <h1>Good things, honestly priced.</h1>
            <p>
              Hundreds of products across {categories.length} departments. Free shipping on orders over{' '}
              {money(shop.settings.freeShippingThreshold, currency)}.
            </p>
            <a class="btn" href="/search?sort=newest">
              Browse everything
            </a>
          </section>
          <h2>Shop by department</h2>
          <ul class="category-tiles">
            {categories.map((c) => (
              <li>
                <a href={`/c/${c.slug}`}>
                  {c.name}
                  <span>{c.description}</span>
                </a>
              </li>
            ))}
          </ul>
          <h2>Featured</h2>
          <ul class="product-grid">
            {featured.items.map((p) => (
              <ProductCard product={p} currency={currency} />
            ))}
          </ul>
          <h2>New arrivals</h2>
          <ul class="product-grid">
            {newest.items.map((p) => (
              <ProductCard product={p} currency={currency} />
            ))}
          </ul>
        </Layout>,
      )
    })
    return sendHtml(reply, body as string)
  })

  const listing = async (req: Req, opts: { category?: { slug: string; name: string; description: string } }) => {
    const q = req.query as ListingQuery
    const view = await viewState(ctx, req)
    const text = (q.q ?? '').slice(0, 200)
    const min = parsePrice(q.min)
    const max = parsePrice(q.max)
    const priceError = Number.isNaN(min) || Number.isNaN(max) ? 'Enter prices like 25 or 19.99' : undefined
    const sort = PRODUCT_SORTS.includes(q.sort as ProductSort) ? (q.sort as ProductSort) : text ? 'relevance' : 'newest'
    const page = Math.min(Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1), 1000)
    const limit = 24
    const result = await shop.catalog.search({
      ...(text ? { q: text } : {}),
      ...(opts.category ? { category: opts.category.slug } : {}),
      ...(min !== null && !Number.isNaN(min) ? { minPrice: min } : {}),
      ...(max !== null && !Number.isNaN(max) ? { maxPrice: max } : {}),
      ...(q.inStock === '1' ? { inStock: true } : {}),
      sort,
      page,
      limit,
    })
    const base = opts.category ? `/c/${opts.category.slug}` : '/search'
    const params = (p: number) => {
      const s = new URLSearchParams()
      if (text) s.set('q', text)
      if (q.min) s.set('min', q.min)
      if (q.max) s.set('max', q.max)
      if (q.inStock === '1') s.set('inStock', '1')
      if (q.sort) s.set('sort', sort)
      if (p > 1) s.set('page', String(p))
      const str = s.toString()
      return str ? `${base}?${str}` : base
    }
    const title = opts.category ? opts.category.name : text ? `Search: ${text}` : 'All products'
    return doc(
      <Layout
        meta={{
          title,
          description: opts.category?.description || `Products${text ? ` matching “${text}”` : ''} at Emporium.`,
          canonical: opts.category ? (page > 1 ? `${base}?page=${page}` : base) : params(page),
          noindex: !opts.category && !!text,
        }}
        view={view}
      >
        <Breadcrumbs
          items={[
            ['Home', '/'],
            [title, null],
          ]}
        />
        <div class="with-sidebar">
          <aside class="filters card" aria-label="Filters">
            <form method="get" action={base}>
              {opts.category ? null : (
                <div class="field">
                  <label for="filter-q">Search</label>
                  <input id="filter-q" type="search" name="q" value={text} maxLength={200} />
                </div>
              )}
              <fieldset>
                <legend>Price ({currency})</legend>
                <div class="grid-2">
                  <Field name="min" label="Min" value={q.min} inputMode="decimal" error={priceError} />
                  <Field name="max" label="Max" value={q.max} inputMode="decimal" />
                </div>
              </fieldset>
              <label class="radio">
                <input type="checkbox" name="inStock" value="1" checked={q.inStock === '1'} /> In stock only
              </label>
              <input type="hidden" name="sort" value={sort} />
              <button class="btn block" type="submit">
                Apply filters
              </button>
            </form>
          </aside>
          <section aria-labelledby="results-title">
            <div class="toolbar">
              <h1 id="results-title">{title}</h1>
              <form method="get" action={base}>
                {text ? <input type="hidden" name="q" value={text} /> : null}
                {q.min ? <input type="hidden" name="min" value={q.min} /> : null}
                {q.max ? <input type="hidden" name="max" value={q.max} /> : null}
                {q.inStock === '1' ? <input type="hidden" name="inStock" value="1" /> : null}
                <label for="sort" class="visually-hidden">
                  Sort by
                </label>
                <select id="sort" name="sort" data-autosubmit="">
                  {PRODUCT_SORTS.filter((s) => s !== 'relevance' || text).map((s) => (
                    <option value={s} selected={s === sort}>
                      {SORT_LABELS[s]}
                    </option>
                  ))}
                </select>{' '}
                <button class="btn secondary small" type="submit" data-autosubmit-fallback="">
                  Sort
                </button>
              </form>
            </div>
            <p class="meta" aria-live="polite">
              {result.total} {result.total === 1 ? 'product' : 'products'}
            </p>
            {result.items.length ? (
              <ul class="product-grid">
                {result.items.map((p) => (
                  <ProductCard product={p} currency={currency} />
                ))}
              </ul>
            ) : (
              <div class="card">
                <p>No products match. Try fewer words or a wider price range.</p>
              </div>
            )}
            <Pagination page={page} total={result.total} limit={limit} href={params} />
          </section>
        </div>
      </Layout>,
    )
  }

  app.get<{ Params: { category: string } }>('/c/:category', async (req, reply) => {
    const body = await cached(req, async () => {
      const category = /^[a-z0-9-]{1,80}$/.test(req.params.category)
        ? await shop.catalog.getCategory(req.params.category)
        : null
      if (!category) return null
      return listing(req, { category })
    })
    if (!body) throw new NotFound('Category')
    return sendHtml(reply, body)
  })

  app.get('/search', async (req, reply) => {
    const body = (await cached(req, () => listing(req, {}))) as string
    const q = req.query as ListingQuery
    if (q.q?.trim() && (q.page ?? '1') === '1') ctx.tracking?.searched(req)
    return sendHtml(reply, body)
  })

  app.get<{ Params: { slug: string } }>('/products/:slug', async (req, reply) => {
    const slug = req.params.slug
    const body = await cached(req, async () => {
      const product = /^[a-z0-9-]{1,80}$/.test(slug) ? await shop.catalog.getBySlug(slug) : null
      if (!product) return null
      ctx.tracking?.rememberProduct(slug, product)
      return productPage(await viewState(ctx, req), product)
    })
    if (!body) throw new NotFound('Product')
    ctx.tracking?.productViewed(req, slug, () => shop.catalog.getBySlug(slug))
    return sendHtml(reply, body)
  })

  const productPage = (view: ViewState, p: ProductView) => {
    const prices = p.variants.map((v) => v.price)
    const first = p.variants.find((v) => v.available > 0) ?? p.variants[0]
    const available = p.variants.some((v) => v.available > 0)
    const jsonLd = {
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: p.name,
      description: p.description,
      sku: first?.sku,
      image: p.images.map((i) => `${view.origin}${i}`),
      category: p.category?.name,
      brand: { '@type': 'Brand', name: 'Emporium' },
      offers: {
        '@type': 'AggregateOffer',
        priceCurrency: currency,
        lowPrice: (Math.min(...prices) / 100).toFixed(2),
        highPrice: (Math.max(...prices) / 100).toFixed(2),
        offerCount: p.variants.length,
        availability: available ? 'https://schema.org/InStock' : 'https://schema.org/OutOfStock',
      },
    }
    return doc(
      <Layout
        meta={{
          title: p.name,
          description: p.description.slice(0, 160),
          canonical: `/products/${p.slug}`,
          image: p.images[0],
          type: 'product',
          jsonLd,
        }}
        view={view}
      >
        <Breadcrumbs
          items={[
            ['Home', '/'],
            [p.category?.name ?? 'Products', p.category ? `/c/${p.category.slug}` : '/search'],
            [p.name, null],
          ]}
        />
        <div class="product-page">
          <div class="gallery">
            <img src={p.images[0]} alt={p.name} width={400} height={400} />
            <div class="thumbs">
              {p.images.slice(1).map((i) => (
                <img src={i} alt="" width={80} height={80} loading="lazy" />
              ))}
            </div>
          </div>
          <div>
            <h1>{p.name}</h1>
            <p class="price big" data-variant-price="">
              {first ? money(first.price, currency) : ''}
            </p>
            <p data-variant-stock="">
              <StockBadge available={first?.available ?? 0} />
            </p>
            <p>{p.description}</p>
            <form method="post" action="/cart/add" class="card">
              <CsrfInput token={view.csrf} />
              <div class="field">
                <label for="variant">Option</label>
                <select id="variant" name="sku" data-variant-select="">
                  {p.variants.map((v) => (
                    <option
                      value={v.sku}
                      selected={v.sku === first?.sku}
                      disabled={v.available <= 0}
                      data-price={money(v.price, currency)}
                      data-stock={
                        v.available <= 0 ? 'Out of stock' : v.available < 5 ? `Only ${v.available} left` : 'In stock'
                      }
                    >
                      {v.name} — {money(v.price, currency)}
                      {v.available <= 0 ? ' (out of stock)' : ''}
                    </option>
                  ))}
                </select>
              </div>
              <Field
                name="quantity"
                label="Quantity"
                type="number"
                value={1}
                min={1}
                max={shop.settings.maxLineQuantity}
                inputMode="numeric"
              />
              <button class="btn block" type="submit" disabled={!available}>
                {available ? 'Add to cart' : 'Out of stock'}
              </button>
            </form>
            <h2>Details</h2>
            <table>
              <caption class="visually-hidden">Variants</caption>
              <thead>
                <tr>
                  <th scope="col">Option</th>
                  <th scope="col">SKU</th>
                  <th scope="col" class="num">
                    Price
                  </th>
                  <th scope="col">Stock</th>
                </tr>
              </thead>
              <tbody>
                {p.variants.map((v) => (
                  <tr>
                    <td>{v.name}</td>
                    <td>
                      <code>{v.sku}</code>
                    </td>
                    <td class="num">{money(v.price, currency)}</td>
                    <td>
                      <StockBadge available={v.available} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </Layout>,
    )
  }

  // ── Cart ──
  const cartRef = (req: Req): CartRef =>
    req.user ? { userId: req.user.id } : { cartId: req.sessionState?.data.cartId ?? null }
  const rememberCart = (req: Req, cartId: string) => {
    if (!req.user && req.sessionState?.data.cartId !== cartId) ctx.sessions.update(req, { cartId })
  }
  /** Runs a cart change; a refusal becomes a flash message instead of an error page. */
  const cartAction = async (req: Req, action: () => Promise<{ id: string } | undefined>, ok: string): Promise<void> => {
    try {
      const cart = await action()
      if (cart) rememberCart(req, cart.id)
      flash(ctx, req, 'info', ok)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      flash(ctx, req, 'error', e.fields ? `${e.message}: ${Object.values(e.fields).join('; ')}` : e.message)
    }
  }

  app.post('/cart/add', { config: { rateLimit: { max: 600, timeWindow: 60_000 } } }, async (req, reply) => {
    const body = req.body as FormBody
    const sku = field(body, 'sku')
    const quantity = intField(body, 'quantity') || 1
    await cartAction(req, () => shop.carts.addItem(cartRef(req), sku, quantity), 'Added to your cart.')
    return reply.redirect('/cart', 303)
  })

  app.post('/cart/update', async (req, reply) => {
    const body = req.body as FormBody
    await cartAction(
      req,
      () => shop.carts.setQuantity(cartRef(req), field(body, 'sku'), intField(body, 'quantity')),
      'Your cart was updated.',
    )
    return reply.redirect('/cart', 303)
  })

  app.post('/cart/remove', async (req, reply) => {
    const body = req.body as FormBody
    await cartAction(req, () => shop.carts.removeItem(cartRef(req), field(body, 'sku')), 'Removed from your cart.')
    return reply.redirect('/cart', 303)
  })

  app.post('/cart/coupon', async (req, reply) => {
    const body = req.body as FormBody
    await cartAction(req, () => shop.carts.applyCoupon(cartRef(req), field(body, 'code')), 'The coupon was applied.')
    return reply.redirect('/cart', 303)
  })

  app.post('/cart/coupon/remove', async (req, reply) => {
    await cartAction(req, () => shop.carts.removeCoupon(cartRef(req)), 'The coupon was removed.')
    return reply.redirect('/cart', 303)
  })

  app.get('/cart', async (req, reply) => {
    const view = await viewStateWithSession(ctx, req)
    const cart = await shop.carts.view(cartRef(req))
    return html(
      reply,
      <Layout meta={{ title: 'Your cart', description: 'The items in your cart.', noindex: true }} view={view}>
        <h1>Your cart</h1>
        {cart.items.length === 0 ? (
          <div class="card">
            <p>Your cart is empty.</p>
            <a class="btn" href="/">
              Continue shopping
            </a>
          </div>
        ) : (
          <div class="two-col">
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Items in your cart</caption>
                <thead>
                  <tr>
                    <th scope="col">Item</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                    <th scope="col">Quantity</th>
                    <th scope="col" class="num">
                      Total
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Remove</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {cart.items.map((l) => (
                    <tr>
                      <td>
                        <div class="cart-line">
                          <img src={l.image} alt="" width={56} height={56} />
                          <div>
                            <a href={`/products/${l.productSlug}`}>{l.name}</a>
                            <div class="meta">{l.variantName}</div>
                            {l.available < l.quantity ? (
                              <span class="badge bad">Only {l.available} available</span>
                            ) : null}
                          </div>
                        </div>
                      </td>
                      <td class="num">{money(l.unitPrice, cart.currency)}</td>
                      <td>
                        <form method="post" action="/cart/update" class="actions">
                          <CsrfInput token={view.csrf} />
                          <input type="hidden" name="sku" value={l.sku} />
                          <label class="visually-hidden" for={`qty-${l.sku}`}>
                            Quantity of {l.name}
                          </label>
                          <input
                            class="qty"
                            id={`qty-${l.sku}`}
                            type="number"
                            name="quantity"
                            value={l.quantity}
                            min={0}
                            max={shop.settings.maxLineQuantity}
                          />
                          <button class="btn secondary small" type="submit">
                            Update
                          </button>
                        </form>
                      </td>
                      <td class="num">{money(l.lineTotal, cart.currency)}</td>
                      <td>
                        <form method="post" action="/cart/remove">
                          <CsrfInput token={view.csrf} />
                          <input type="hidden" name="sku" value={l.sku} />
                          <button class="link-button" type="submit">
                            Remove<span class="visually-hidden"> {l.name}</span>
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div>
              <Totals {...cart}>
                <form method="post" action="/cart/coupon">
                  <CsrfInput token={view.csrf} />
                  <Field name="code" label="Coupon code" value={cart.coupon?.code} maxLength={32} autocomplete="off" />
                  {cart.coupon && !cart.coupon.applied ? (
                    <p class="notice error" role="alert">
                      {cart.coupon.message}
                    </p>
                  ) : null}
                  <button class="btn secondary block" type="submit">
                    Apply coupon
                  </button>
                </form>
                {cart.coupon ? (
                  <form method="post" action="/cart/coupon/remove">
                    <CsrfInput token={view.csrf} />
                    <button class="link-button" type="submit">
                      Remove coupon {cart.coupon.code}
                    </button>
                  </form>
                ) : null}
                <p />
                <a class="btn block" href="/checkout">
                  Check out
                </a>
              </Totals>
            </div>
          </div>
        )}
      </Layout>,
    )
  })

  // ── Checkout ──
  const checkoutPage = async (
    req: Req,
    reply: FastifyReply,
    state: { values?: FormBody; errors?: Record<string, string>; message?: string; status?: number } = {},
  ) => {
    const user = requireUser(req)
    const view = await viewStateWithSession(ctx, req)
    const cart = await shop.carts.view({ userId: user.id })
    if (cart.items.length === 0) {
      flash(ctx, req, 'info', 'Your cart is empty.')
      return reply.redirect('/cart', 303)
    }
    const v = state.values ?? {}
    const e = state.errors ?? {}
    const err = (k: string) => e[`shippingAddress.${k}`]
    const chosen = field(v, 'paymentToken') || 'tok_visa'
    return html(
      reply,
      <Layout meta={{ title: 'Checkout', description: 'Shipping and payment.', noindex: true }} view={view}>
        <h1>Checkout</h1>
        {state.message ? (
          <div class="notice error" role="alert">
            {state.message}
          </div>
        ) : null}
        <div class="two-col">
          <form method="post" action="/checkout" class="card" data-submit-once="" novalidate>
            <CsrfInput token={view.csrf} />
            <input type="hidden" name="idempotencyKey" value={`web-${randomSecret(18)}`} />
            <fieldset>
              <legend>Shipping address</legend>
              <Field
                name="name"
                label="Full name"
                value={field(v, 'name') || user.name}
                error={err('name')}
                autocomplete="name"
                required
                maxLength={100}
              />
              <Field
                name="line1"
                label="Address"
                value={field(v, 'line1')}
                error={err('line1')}
                autocomplete="address-line1"
                required
                maxLength={200}
              />
              <Field
                name="line2"
                label="Apartment, suite (optional)"
                value={field(v, 'line2')}
                error={err('line2')}
                autocomplete="address-line2"
                maxLength={200}
              />
              <div class="grid-2">
                <Field
                  name="city"
                  label="City"
                  value={field(v, 'city')}
                  error={err('city')}
                  autocomplete="address-level2"
                  required
                  maxLength={100}
                />
                <Field
                  name="postalCode"
                  label="Postal code"
                  value={field(v, 'postalCode')}
                  error={err('postalCode')}
                  autocomplete="postal-code"
                  required
                  maxLength={16}
                />
              </div>
              <Field
                name="country"
                label="Country code"
                value={field(v, 'country') || 'US'}
                error={err('country')}
                hint="Two letters, such as US, GB or DE"
                autocomplete="country"
                required
                maxLength={2}
              />
            </fieldset>
            <fieldset>
              <legend>Shipping</legend>
              <p>
                {cart.shipping === 0
                  ? 'Free standard shipping (3–5 business days).'
                  : `Standard shipping (3–5 business days): ${money(cart.shipping, cart.currency)}. Free over ${money(shop.settings.freeShippingThreshold, cart.currency)}.`}
              </p>
            </fieldset>
            <fieldset>
              <legend>Payment (test cards)</legend>
              {Object.entries(TEST_TOKENS).map(([token, card]) => (
                <label class="radio">
                  <input type="radio" name="paymentToken" value={token} checked={token === chosen} />
                  <span>
                    {card.brand.toUpperCase()} ending {card.last4}
                    <span class="meta">
                      {' '}
                      —{' '}
                      {card.outcome === 'succeeded' ? 'approves' : `declines (${card.declineCode?.replace('_', ' ')})`}
                    </span>
                  </span>
                </label>
              ))}
              {e.paymentToken ? <div class="error">{e.paymentToken}</div> : null}
            </fieldset>
            <button class="btn block" type="submit">
              Pay {money(cart.total, cart.currency)}
            </button>
          </form>
          <Totals {...cart}>
            <ul>
              {cart.items.map((l) => (
                <li>
                  {l.quantity} × {l.name} ({l.variantName})
                </li>
              ))}
            </ul>
          </Totals>
        </div>
      </Layout>,
      state.status ?? 200,
    )
  }

  app.get('/checkout', async (req, reply) => checkoutPage(req, reply))

  app.post('/checkout', async (req, reply) => {
    const user = requireUser(req)
    const body = req.body as FormBody
    const key = field(body, 'idempotencyKey')
    try {
      const { order } = await shop.checkout.checkout({
        userId: user.id,
        idempotencyKey: IDEMPOTENCY_KEY_RE.test(key) ? key : undefined,
        shippingAddress: {
          name: field(body, 'name'),
          line1: field(body, 'line1'),
          line2: field(body, 'line2') || undefined,
          city: field(body, 'city'),
          postalCode: field(body, 'postalCode'),
          country: field(body, 'country'),
        },
        paymentToken: field(body, 'paymentToken'),
        channel: 'web',
      })
      return reply.redirect(`/account/orders/${order.id}?placed=1`, 303)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      const message =
        e.code === 'EMP_PAYMENT_DECLINED'
          ? `${e.message.replace(/\.$/, '')}. Your cart is kept: choose another card and try again.`
          : e.code === 'EMP_VALIDATION'
            ? 'Please correct the highlighted fields.'
            : e.message
      return checkoutPage(req, reply, { values: body, errors: e.fields ?? {}, message, status: e.statusCode })
    }
  })
}
