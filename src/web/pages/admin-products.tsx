// Back office, catalog: product list and search, the product form with its variant rows, stock per SKU, delete.
import type { FastifyInstance } from 'fastify'
import { MAX_PRICE, MAX_STOCK, type ProductInput, type ProductView } from '../../commerce/catalog.ts'
import type { Category } from '../../commerce/model.ts'
import { SKU_RE } from '../../commerce/validation.ts'
import { type EmporiumError, NotFound } from '../../core/errors.ts'
import { requirePermission } from '../plugins/auth.ts'
import {
  AdminPage,
  ID_RE,
  LOW_STOCK,
  pageParam,
  pageRoute,
  refusal,
  refusalText,
  textParam,
  withQuery,
} from './admin-shared.tsx'
import { CsrfInput, Field, money, Pagination, StockBadge } from './components.tsx'
import type { PagesContext, Reply, Req } from './context.ts'
import { type FormBody, field, flash, html, viewStateWithSession } from './render.tsx'

/** One variant row of the form, exactly as typed. */
interface VariantRow {
  sku: string
  name: string
  price: string
  options: string
  stock: string
}

interface ProductForm {
  name: string
  slug: string
  description: string
  category: string
  featured: boolean
  variants: VariantRow[]
}

type Errors = Record<string, string>

const VARIANT_FIELDS = ['sku', 'name', 'price', 'options', 'stock'] as const
/** @fastify/formbody leaves `variants[0][sku]` as a flat key; rows are gathered from these. */
const VARIANT_KEY = /^variants\[(\d{1,2})\]\[(sku|name|price|options|stock)\]$/
const NEW_ROWS = 3
const MAX_OPTIONS = 10
const LIST_LIMIT = 25

const blankRow = (): VariantRow => ({ sku: '', name: '', price: '', options: '', stock: '' })
const isBlank = (r: VariantRow) => VARIANT_FIELDS.every((k) => r[k].trim() === '')

/** Minor units as typed in the form: 1999 → "19.99". */
export const formatPrice = (minor: number): string =>
  `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`

/** "19.99", "19.9" or "19" into minor units without floating point; null when it is not a price. */
export const parsePrice = (raw: string): number | null => {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(raw.trim())
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** "size=M, colour=Blue" into { size: 'M', colour: 'Blue' }; null when it does not read that way. */
export const parseOptions = (raw: string): Record<string, string> | null => {
  const options: Record<string, string> = {}
  const parts = raw
    .split(/[,;\n]/)
    .map((p) => p.trim())
    .filter(Boolean)
  if (parts.length > MAX_OPTIONS) return null
  for (const part of parts) {
    const eq = part.indexOf('=')
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (eq <= 0 || !key || !value || key.length > 40 || value.length > 80) return null
    options[key] = value
  }
  return options
}

export const formatOptions = (options: Record<string, string>): string =>
  Object.entries(options)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')

const formFromProduct = (p: ProductView): ProductForm => ({
  name: p.name,
  slug: p.slug,
  description: p.description,
  category: p.category?.slug ?? '',
  featured: p.featured,
  variants: p.variants.map((v) => ({
    sku: v.sku,
    name: v.name,
    price: formatPrice(v.price),
    options: formatOptions(v.options),
    stock: '',
  })),
})

const formFromBody = (body: FormBody): ProductForm => {
  const rows = new Map<number, VariantRow>()
  for (const [key, value] of Object.entries(body ?? {})) {
    const m = VARIANT_KEY.exec(key)
    if (!m) continue
    const index = Number(m[1])
    const row = rows.get(index) ?? blankRow()
    row[m[2] as keyof VariantRow] = typeof value === 'string' ? value : (value?.[0] ?? '')
    rows.set(index, row)
  }
  return {
    name: field(body, 'name'),
    slug: field(body, 'slug'),
    description: field(body, 'description'),
    category: field(body, 'category'),
    featured: field(body, 'featured') !== '',
    variants: [...rows.entries()].sort(([a], [b]) => a - b).map(([, r]) => r),
  }
}

/** The domain input of a form, with the reasons of the fields this page reads itself (prices, options, stock). */
const toInput = (f: ProductForm, keepSlug: boolean) => {
  const errors: Errors = {}
  const variants: ProductInput['variants'] = []
  /** Form row of each variant handed to the domain, to put its field errors back next to the right input. */
  const rowOf: number[] = []
  f.variants.forEach((r, row) => {
    if (isBlank(r)) return
    const at = `variants.${row}`
    const price = parsePrice(r.price)
    if (price === null) errors[`${at}.price`] = 'Enter a price like 19.99'
    else if (price > MAX_PRICE) errors[`${at}.price`] = `At most ${formatPrice(MAX_PRICE)}`
    const options = parseOptions(r.options)
    if (!options) errors[`${at}.options`] = `Write name=value pairs separated by commas, at most ${MAX_OPTIONS}`
    const stockText = r.stock.trim()
    let stock: number | undefined
    if (stockText) {
      if (/^\d{1,10}$/.test(stockText) && Number(stockText) <= MAX_STOCK) stock = Number(stockText)
      else errors[`${at}.stock`] = `A whole number from 0 to ${MAX_STOCK}`
    }
    variants.push({ sku: r.sku.trim(), name: r.name, price: price ?? 0, options: options ?? {}, stock })
    rowOf.push(row)
  })
  const input: ProductInput = {
    name: f.name,
    slug: f.slug.trim() || undefined,
    description: f.description,
    category: f.category,
    featured: f.featured,
    variants,
  }
  if (keepSlug && !input.slug) delete input.slug
  return { input, errors, rowOf }
}

/** Field reasons of a domain refusal, keyed by form row rather than by position among the filled rows. */
const formErrors = (e: EmporiumError, f: ProductForm, rowOf: number[]): Errors => {
  const out: Errors = {}
  for (const [key, reason] of Object.entries(e.fields ?? {})) {
    const m = /^variants\.(\d+)\.(sku|name|price|options|stock)/.exec(key)
    const row = m ? rowOf[Number(m[1])] : undefined
    out[m && row !== undefined ? `variants.${row}.${m[2]}` : key] = reason
  }
  if (e.code === 'EMP_SKU_TAKEN') {
    const row = f.variants.findIndex((r) => r.sku.trim() && e.message.includes(`SKU ${r.sku.trim()} `))
    out[row >= 0 ? `variants.${row}.sku` : 'variants'] = 'Already used by another product'
  }
  if (e.code === 'EMP_SLUG_TAKEN') out.slug = 'Already used by another product; choose another slug'
  return out
}

function SelectField(props: {
  name: string
  label: string
  value: string
  options: [value: string, label: string][]
  error?: string | undefined
  placeholder?: string
}) {
  const id = `f-${props.name}`
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        required
      >
        {props.placeholder ? (
          <option value="" selected={!props.options.some(([v]) => v === props.value)}>
            {props.placeholder}
          </option>
        ) : null}
        {props.options.map(([value, label]) => (
          <option value={value} selected={value === props.value}>
            {label}
          </option>
        ))}
      </select>
      {props.error ? (
        <div class="error" id={`${id}-error`}>
          {props.error}
        </div>
      ) : null}
    </div>
  )
}

function TextArea(props: { name: string; label: string; value: string; error?: string | undefined; max: number }) {
  const id = `f-${props.name}`
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={5}
        maxLength={props.max}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
      >
        {props.value}
      </textarea>
      {props.error ? (
        <div class="error" id={`${id}-error`}>
          {props.error}
        </div>
      ) : null}
    </div>
  )
}

function VariantFieldset(props: {
  row: number
  value: VariantRow
  errors: Errors
  currency: string
  stockNow: number | undefined
}) {
  const { row, value: r, errors } = props
  const name = (k: string) => `variants[${row}][${k}]`
  const err = (k: string) => errors[`variants.${row}.${k}`]
  const existing = props.stockNow !== undefined
  return (
    <fieldset class="variant-row">
      <legend>{existing ? `Variant ${row + 1}: ${r.sku}` : `New variant ${row + 1}`}</legend>
      <div class="variant-grid">
        <Field name={name('sku')} label="SKU" value={r.sku} error={err('sku')} maxLength={64} autocomplete="off" />
        <Field name={name('name')} label="Variant name" value={r.name} error={err('name')} maxLength={120} />
        <Field
          name={name('price')}
          label={`Price (${props.currency})`}
          value={r.price}
          error={err('price')}
          inputMode="decimal"
          maxLength={13}
        />
        <Field name={name('options')} label="Options" value={r.options} error={err('options')} maxLength={1000} />
        <Field
          name={name('stock')}
          label={existing ? 'Set stock' : 'Stock'}
          type="number"
          min={0}
          max={MAX_STOCK}
          value={r.stock}
          error={err('stock')}
          hint={existing ? `Now ${props.stockNow}` : undefined}
          inputMode="numeric"
        />
      </div>
    </fieldset>
  )
}

function ProductSide({ product, csrf }: { product: ProductView; csrf: string }) {
  return (
    <div class="side-stack">
      <section class="card" aria-labelledby="stock-title">
        <h2 id="stock-title">Stock</h2>
        <p class="meta">Units available to sell now; reserved units of open checkouts are not counted.</p>
        {product.variants.map((v) => (
          <form method="post" action="/admin/inventory" class="stock-form">
            <CsrfInput token={csrf} />
            <input type="hidden" name="sku" value={v.sku} />
            <label for={`stock-${v.sku}`}>Stock for {v.sku}</label>
            <div class="inline-fields">
              <input
                id={`stock-${v.sku}`}
                type="number"
                name="available"
                value={v.available}
                min={0}
                max={MAX_STOCK}
                inputMode="numeric"
                required
              />
              <button class="btn secondary small" type="submit">
                Set<span class="visually-hidden"> stock for {v.sku}</span>
              </button>
            </div>
            <div class="meta">
              {v.name} · <StockBadge available={v.available} />
            </div>
          </form>
        ))}
      </section>
      <section class="card" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete</h2>
        <p class="meta">Past orders keep their copy of the product; it disappears from the shop.</p>
        <form
          method="post"
          action={`/admin/products/${product.id}/delete`}
          data-confirm={`Delete “${product.name}” and its ${product.variants.length} variants? This cannot be undone.`}
        >
          <CsrfInput token={csrf} />
          <button class="btn danger" type="submit">
            Delete product
          </button>
        </form>
      </section>
    </div>
  )
}

export async function adminProductPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop } = ctx
  const currency = shop.settings.currency

  app.get('/admin/products', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'catalog:write')
    const query = req.query as { q?: string; page?: string }
    const q = textParam(query.q, 200)
    const page = pageParam(query.page)
    const view = await viewStateWithSession(ctx, req)
    const result = await shop.catalog.search({
      ...(q ? { q } : {}),
      sort: q ? 'relevance' : 'name',
      page,
      limit: LIST_LIMIT,
    })
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section="/admin/products"
        title="Products"
        description="Products, variants, prices and stock."
      >
        <div class="toolbar">
          <form method="get" action="/admin/products" class="filter-bar" role="search">
            <div class="field">
              <label for="product-q">Search products</label>
              <input id="product-q" type="search" name="q" value={q} maxLength={200} />
            </div>
            <button class="btn secondary" type="submit">
              Search
            </button>
          </form>
          <a class="btn" href="/admin/products/new">
            New product
          </a>
        </div>
        <p class="meta" aria-live="polite">
          {result.total} {result.total === 1 ? 'product' : 'products'}
          {q ? ` matching “${q}”` : ''}
        </p>
        {result.items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Products{q ? ` matching “${q}”` : ''}</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Category</th>
                  <th scope="col" class="num">
                    Variants
                  </th>
                  <th scope="col" class="num">
                    From
                  </th>
                  <th scope="col" class="num">
                    Stock
                  </th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.items.map((p) => {
                  const stock = p.variants.reduce((n, v) => n + v.available, 0)
                  const low = p.variants.filter((v) => v.available <= LOW_STOCK).length
                  return (
                    <tr>
                      <td>
                        <a href={`/admin/products/${p.id}`}>{p.name}</a>
                        {p.featured ? <span class="badge ok">Featured</span> : null}
                        <div class="meta">{p.slug}</div>
                      </td>
                      <td>{p.category?.name ?? '—'}</td>
                      <td class="num">{p.variants.length}</td>
                      <td class="num">
                        {p.variants.length ? money(Math.min(...p.variants.map((v) => v.price)), currency) : '—'}
                      </td>
                      <td class="num">
                        {low ? (
                          <>
                            <span class="badge warn" title={`${low} SKUs with ${LOW_STOCK} units or fewer`}>
                              {low} low
                            </span>{' '}
                          </>
                        ) : null}
                        {stock}
                      </td>
                      <td>
                        <a class="btn secondary small" href={`/admin/products/${p.id}`}>
                          Edit<span class="visually-hidden"> {p.name}</span>
                        </a>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card">
            <p>No products match.</p>
          </div>
        )}
        <Pagination
          page={page}
          total={result.total}
          limit={LIST_LIMIT}
          href={(p) => withQuery('/admin/products', { q, page: p })}
        />
      </AdminPage>,
    )
  })

  const formPage = async (
    req: Req,
    reply: Reply,
    state: { product: ProductView | null; form: ProductForm; errors?: Errors; message?: string; status?: number },
  ) => {
    const user = requirePermission(req, 'catalog:write')
    const view = await viewStateWithSession(ctx, req)
    const categories: Category[] = await shop.catalog.listCategories()
    const { product, form } = state
    const e = state.errors ?? {}
    const stockNow = new Map(product?.variants.map((v) => [v.sku, v.available]) ?? [])
    const rows = [...form.variants]
    let trailing = 0
    for (let i = rows.length - 1; i >= 0 && isBlank(rows[i] as VariantRow); i--) trailing++
    for (; trailing < NEW_ROWS && rows.length < 50; trailing++) rows.push(blankRow())
    const title = product ? `Edit ${product.name}` : 'New product'
    const action = product ? `/admin/products/${product.id}` : '/admin/products'
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section="/admin/products"
        title={title}
        description={product ? 'Edit a product, its variants and stock.' : 'Add a product to the catalog.'}
      >
        {product ? (
          <p class="meta">
            <a href={`/products/${product.slug}`}>View in the shop</a> · Last changed{' '}
            <time dateTime={product.updatedAt}>{product.updatedAt.slice(0, 16).replace('T', ' ')} UTC</time>
          </p>
        ) : null}
        {state.message ? (
          <div class="notice error" role="alert">
            {state.message}
            {Object.keys(e).length ? ' Please correct the highlighted fields.' : ''}
          </div>
        ) : null}
        <div class={product ? 'two-col' : ''}>
          <form method="post" action={action} class="card" novalidate>
            <CsrfInput token={view.csrf} />
            <Field name="name" label="Name" value={form.name} error={e.name} required maxLength={200} />
            <Field
              name="slug"
              label="Slug (optional)"
              value={form.slug}
              error={e.slug}
              hint="The address in the shop, e.g. merino-hoodie. Empty: made from the name."
              maxLength={80}
              autocomplete="off"
            />
            <TextArea
              name="description"
              label="Description"
              value={form.description}
              error={e.description}
              max={5000}
            />
            <div class="grid-2">
              <SelectField
                name="category"
                label="Category"
                value={form.category}
                error={e.category}
                placeholder="Choose a category"
                options={categories.map((c) => [c.slug, `${c.name} (${c.slug})`])}
              />
              <div class="field checkbox-field">
                <label class="radio">
                  <input type="checkbox" name="featured" value="1" checked={form.featured} /> Featured on the home page
                </label>
              </div>
            </div>
            <h2>Variants</h2>
            <p class="meta">
              Each variant is a SKU with its own price and stock. Options are name=value pairs separated by commas, e.g.{' '}
              <code>size=M, colour=Blue</code>. An empty “Set stock” keeps the current units. Empty rows are ignored;
              clear a row to remove that variant.
            </p>
            {e.variants ? (
              <div class="notice error" role="alert">
                {e.variants}
              </div>
            ) : null}
            {rows.map((r, row) => (
              <VariantFieldset
                row={row}
                value={r}
                errors={e}
                currency={currency}
                stockNow={r.sku ? stockNow.get(r.sku.trim()) : undefined}
              />
            ))}
            <div class="actions">
              <button class="btn" type="submit">
                {product ? 'Save product' : 'Create product'}
              </button>
              <a class="btn secondary" href="/admin/products">
                Back to products
              </a>
            </div>
          </form>
          {product ? <ProductSide product={product} csrf={view.csrf} /> : null}
        </div>
      </AdminPage>,
      state.status ?? 200,
    )
  }

  const loadProduct = async (id: string): Promise<ProductView> => {
    const product = ID_RE.test(id) ? await shop.catalog.getById(id) : null
    if (!product) throw new NotFound('Product')
    return product
  }

  app.get('/admin/products/new', pageRoute, async (req, reply) =>
    formPage(req, reply, {
      product: null,
      form: { name: '', slug: '', description: '', category: '', featured: false, variants: [] },
    }),
  )

  app.post('/admin/products', pageRoute, async (req, reply) => {
    const actor = requirePermission(req, 'catalog:write')
    const form = formFromBody(req.body as FormBody)
    const { input, errors, rowOf } = toInput(form, false)
    if (Object.keys(errors).length)
      return formPage(req, reply, { product: null, form, errors, message: 'The product was not created.', status: 400 })
    try {
      const p = await shop.catalog.createProduct(input)
      req.log.info({ userId: actor.id, productId: p.id, audit: 'product.created' }, 'product created')
      flash(ctx, req, 'info', `Product “${p.name}” was created.`)
      return reply.redirect(`/admin/products/${p.id}`, 303)
    } catch (err) {
      const e = refusal(err)
      return formPage(req, reply, {
        product: null,
        form,
        errors: formErrors(e, form, rowOf),
        message: `The product was not created: ${e.message}.`,
        status: e.statusCode,
      })
    }
  })

  app.get<{ Params: { id: string } }>('/admin/products/:id', pageRoute, async (req, reply) => {
    requirePermission(req, 'catalog:write')
    const product = await loadProduct(req.params.id)
    return formPage(req, reply, { product, form: formFromProduct(product) })
  })

  app.post<{ Params: { id: string } }>('/admin/products/:id', pageRoute, async (req, reply) => {
    const actor = requirePermission(req, 'catalog:write')
    const product = await loadProduct(req.params.id)
    const form = formFromBody(req.body as FormBody)
    const { input, errors, rowOf } = toInput(form, true)
    // The form has no image field: keep the product's images rather than resetting them to placeholders.
    input.images = product.images
    if (Object.keys(errors).length)
      return formPage(req, reply, { product, form, errors, message: 'The changes were not saved.', status: 400 })
    try {
      const p = await shop.catalog.updateProduct(product.id, input)
      req.log.info({ userId: actor.id, productId: p.id, audit: 'product.updated' }, 'product updated')
      flash(ctx, req, 'info', 'The product was saved.')
      return reply.redirect(`/admin/products/${p.id}`, 303)
    } catch (err) {
      const e = refusal(err)
      return formPage(req, reply, {
        product,
        form,
        errors: formErrors(e, form, rowOf),
        message: `The changes were not saved: ${e.message}.`,
        status: e.statusCode,
      })
    }
  })

  app.post<{ Params: { id: string } }>('/admin/products/:id/delete', pageRoute, async (req, reply) => {
    const actor = requirePermission(req, 'catalog:write')
    const product = await loadProduct(req.params.id)
    await shop.catalog.deleteProduct(product.id)
    req.log.info({ userId: actor.id, productId: product.id, audit: 'product.deleted' }, 'product deleted')
    flash(ctx, req, 'info', `Product “${product.name}” was deleted.`)
    return reply.redirect('/admin/products', 303)
  })

  app.post('/admin/inventory', pageRoute, async (req, reply) => {
    const actor = requirePermission(req, 'catalog:write')
    const body = req.body as FormBody
    const sku = field(body, 'sku').trim()
    const [variant] = SKU_RE.test(sku) ? await shop.store.getVariants([sku]) : []
    if (!variant) {
      flash(ctx, req, 'error', 'There is no product variant with that SKU.')
      return reply.redirect('/admin/products', 303)
    }
    const raw = field(body, 'available').trim()
    const available = /^-?\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN
    try {
      const inv = await shop.catalog.setStock(sku, available)
      req.log.info({ userId: actor.id, sku: inv.sku, available: inv.available, audit: 'stock.set' }, 'stock set')
      flash(ctx, req, 'info', `Stock for ${sku} is now ${inv.available}.`)
    } catch (err) {
      flash(ctx, req, 'error', `Stock for ${sku} was not changed. ${refusalText(refusal(err))}`)
    }
    return reply.redirect(`/admin/products/${variant.productId}`, 303)
  })
}
