// Rendering helpers: HTML from JSX (auto-escaped by preact), the per-request view state, flash messages,
// form parsing and a short-lived cache of anonymous catalog pages.
import type { VNode } from 'preact'
import { renderToString } from 'preact-render-to-string'
import type { EmporiumError } from '../../core/errors.ts'
import type { Flash, PagesContext, Reply, Req, ViewState } from './context.ts'
import { Layout } from './layout.tsx'

export const html = (reply: Reply, vnode: VNode, status = 200) =>
  reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(vnode)}`)

export function flash(ctx: PagesContext, req: Req, kind: Flash['kind'], text: string): void {
  const s = ctx.sessions.ensure(req)
  ctx.sessions.update(req, { flash: [...(s.data.flash ?? []), { kind, text }].slice(-5) })
}

let categoryCache: { version: number; items: { slug: string; name: string }[] } | null = null

export async function viewState(ctx: PagesContext, req: Req): Promise<ViewState> {
  const version = await ctx.shop.catalog.version()
  if (!categoryCache || categoryCache.version !== version) {
    const items = (await ctx.shop.catalog.listCategories()).map((c) => ({ slug: c.slug, name: c.name }))
    categoryCache = { version, items }
  }
  const session = req.sessionState
  let flashes: Flash[] = []
  if (session?.data.flash?.length) {
    flashes = session.data.flash
    ctx.sessions.update(req, { flash: [] })
  }
  let cartCount = 0
  const ref = req.user ? { userId: req.user.id } : session?.data.cartId ? { cartId: session.data.cartId } : null
  if (ref) {
    const cart = await ctx.shop.carts.load(ref)
    cartCount = cart?.items.reduce((n, i) => n + i.quantity, 0) ?? 0
  }
  return {
    user: req.user ? { name: req.user.name, role: req.user.role } : null,
    cartCount,
    csrf: session?.data.csrfToken ?? '',
    flash: flashes,
    path: req.url.split('?')[0] ?? '/',
    origin: `${req.protocol}://${req.host}`,
    assets: ctx.assets.paths,
    categories: categoryCache.items,
  }
}

/** Makes sure the visitor has a session (and so a CSRF token) before a page with a form is rendered. */
export async function viewStateWithSession(ctx: PagesContext, req: Req): Promise<ViewState> {
  ctx.sessions.ensure(req)
  return viewState(ctx, req)
}

export type FormBody = Record<string, string | string[] | undefined>

export const field = (body: FormBody | undefined, name: string): string => {
  const v = body?.[name]
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? '') : ''
}

export const intField = (body: FormBody | undefined, name: string): number => {
  const raw = field(body, name).trim()
  return /^-?\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN
}

/** Where to go after sign-in: only a local path, never another site. */
export const safeNext = (raw: unknown): string =>
  typeof raw === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(raw) ? raw : '/account'

/** Renders errors as pages: 404, 403 (with CSRF help), 401 (sign-in), 4xx with the reason, 500 without details. */
export async function renderErrorPage(ctx: PagesContext, req: Req, reply: Reply, e: EmporiumError) {
  if (e.code === 'EMP_AUTH_REQUIRED' && req.method === 'GET')
    return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303)
  let view: ViewState
  try {
    view = await viewState(ctx, req)
  } catch {
    view = {
      user: null,
      cartCount: 0,
      csrf: '',
      flash: [],
      path: req.url,
      origin: '',
      assets: ctx.assets.paths,
      categories: [],
    }
  }
  const [title, text] =
    e.statusCode === 404
      ? ['Page not found', 'We could not find that page. It may have moved, or the address may be mistyped.']
      : e.code === 'EMP_CSRF'
        ? [
            'Your form expired',
            'For your security, forms only work from a page we just showed you. Go back, reload the page and send the form again.',
          ]
        : e.statusCode === 403
          ? ['Not allowed', 'Your account may not open this page.']
          : e.statusCode >= 500
            ? ['Something went wrong', 'Something broke on our side. It has been logged; please try again in a moment.']
            : ['We could not do that', e.message]
  return html(
    reply,
    <Layout meta={{ title, description: text, noindex: true }} view={view}>
      <div class="card">
        <h1>{title}</h1>
        <p>{text}</p>
        <p class="meta">
          Error code: <code>{e.code}</code>
        </p>
        <p>
          <a class="btn" href="/">
            Back to the shop
          </a>
        </p>
      </div>
    </Layout>,
    e.statusCode,
  )
}
