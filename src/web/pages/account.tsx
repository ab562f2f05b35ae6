// Sign-in, registration and the customer's account: orders with their timeline, refunds, password, API tokens.
import type { FastifyInstance } from 'fastify'
import { isEmporiumError } from '../../core/errors.ts'
import { requireUser } from '../plugins/auth.ts'
import { CsrfInput, Field, money, OrderLines, Pagination, StatusBadge, Timeline, Totals } from './components.tsx'
import type { PagesContext, Reply, Req } from './context.ts'
import { Layout } from './layout.tsx'
import { type FormBody, field, flash, html, safeNext, viewStateWithSession } from './render.tsx'

export async function accountPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop, sessions } = ctx
  const authLimit = { rateLimit: { max: ctx.config.authRateLimit, timeWindow: 60_000 } }

  const loginPage = async (
    req: Req,
    reply: Reply,
    state: { email?: string; message?: string; status?: number } = {},
  ) => {
    const view = await viewStateWithSession(ctx, req)
    const next = safeNext((req.query as { next?: string }).next ?? field(req.body as FormBody, 'next'))
    return html(
      reply,
      <Layout meta={{ title: 'Sign in', description: 'Sign in to your Emporium account.', noindex: true }} view={view}>
        <div class="card narrow">
          <h1>Sign in</h1>
          {state.message ? (
            <div class="notice error" role="alert">
              {state.message}
            </div>
          ) : null}
          <form method="post" action="/login">
            <CsrfInput token={view.csrf} />
            <input type="hidden" name="next" value={next} />
            <Field
              name="email"
              label="E-mail"
              type="email"
              value={state.email}
              autocomplete="email"
              required
              maxLength={254}
            />
            <Field
              name="password"
              label="Password"
              type="password"
              autocomplete="current-password"
              required
              maxLength={256}
            />
            <button class="btn block" type="submit">
              Sign in
            </button>
          </form>
          <p />
          <p>
            New here? <a href={`/register?next=${encodeURIComponent(next)}`}>Create an account</a>
          </p>
        </div>
      </Layout>,
      state.status ?? 200,
    )
  }

  app.get('/login', async (req, reply) => (req.user ? reply.redirect('/account', 303) : loginPage(req, reply)))

  app.post('/login', { config: authLimit }, async (req, reply) => {
    const body = req.body as FormBody
    try {
      const user = await shop.accounts.login({ email: field(body, 'email'), password: field(body, 'password') })
      await shop.carts.mergeGuestCart(req.sessionState?.data.cartId ?? null, user.id)
      await sessions.rotate(req, {
        userId: user.id,
        cartId: null,
        flash: [{ kind: 'info', text: `Welcome back, ${user.name}.` }],
      })
      req.log.info({ userId: user.id, audit: 'user.login' }, 'signed in')
      return reply.redirect(safeNext(field(body, 'next')), 303)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      req.log.warn({ security: 'login.failed', code: e.code }, 'sign-in refused')
      return loginPage(req, reply, { email: field(body, 'email'), message: e.message, status: e.statusCode })
    }
  })

  const registerPage = async (
    req: Req,
    reply: Reply,
    state: { values?: FormBody; errors?: Record<string, string>; message?: string; status?: number } = {},
  ) => {
    const view = await viewStateWithSession(ctx, req)
    const v = state.values ?? {}
    const e = state.errors ?? {}
    const next = safeNext((req.query as { next?: string }).next ?? field(v, 'next'))
    return html(
      reply,
      <Layout
        meta={{ title: 'Create an account', description: 'Register for an Emporium account.', noindex: true }}
        view={view}
      >
        <div class="card narrow">
          <h1>Create an account</h1>
          {state.message ? (
            <div class="notice error" role="alert">
              {state.message}
            </div>
          ) : null}
          <form method="post" action="/register">
            <CsrfInput token={view.csrf} />
            <input type="hidden" name="next" value={next} />
            <Field
              name="name"
              label="Your name"
              value={field(v, 'name')}
              error={e.name}
              autocomplete="name"
              required
              maxLength={100}
            />
            <Field
              name="email"
              label="E-mail"
              type="email"
              value={field(v, 'email')}
              error={e.email}
              autocomplete="email"
              required
              maxLength={254}
            />
            <Field
              name="password"
              label="Password"
              type="password"
              error={e.password}
              hint="At least 10 characters; a short sentence works well."
              autocomplete="new-password"
              required
              maxLength={256}
            />
            <button class="btn block" type="submit">
              Create account
            </button>
          </form>
          <p />
          <p>
            Already have an account? <a href="/login">Sign in</a>
          </p>
        </div>
      </Layout>,
      state.status ?? 200,
    )
  }

  app.get('/register', async (req, reply) => (req.user ? reply.redirect('/account', 303) : registerPage(req, reply)))

  app.post('/register', { config: authLimit }, async (req, reply) => {
    const body = req.body as FormBody
    try {
      const user = await shop.accounts.register({
        email: field(body, 'email'),
        password: field(body, 'password'),
        name: field(body, 'name'),
      })
      await shop.carts.mergeGuestCart(req.sessionState?.data.cartId ?? null, user.id)
      await sessions.rotate(req, {
        userId: user.id,
        cartId: null,
        flash: [{ kind: 'info', text: `Welcome to Emporium, ${user.name}.` }],
      })
      req.log.info({ userId: user.id, audit: 'user.registered' }, 'account created')
      return reply.redirect(safeNext(field(body, 'next')), 303)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      const errors = e.fields ?? (e.code === 'EMP_EMAIL_TAKEN' ? { email: e.message } : {})
      return registerPage(req, reply, {
        values: { ...body, password: '' },
        errors,
        message: e.message,
        status: e.statusCode,
      })
    }
  })

  app.post('/logout', async (req, reply) => {
    await sessions.destroy(req, reply)
    return reply.redirect('/', 303)
  })

  // ── Account ──
  const AccountNav = ({ current }: { current: string }) => (
    <ul class="admin-nav">
      {[
        ['/account', 'Orders'],
        ['/account/password', 'Password'],
        ['/account/tokens', 'API tokens'],
      ].map(([href, label]) => (
        <li>
          <a href={href} aria-current={current === href ? 'page' : undefined}>
            {label}
          </a>
        </li>
      ))}
    </ul>
  )

  app.get('/account', async (req, reply) => {
    const user = requireUser(req)
    const view = await viewStateWithSession(ctx, req)
    const page = Math.max(1, Number.parseInt((req.query as { page?: string }).page ?? '1', 10) || 1)
    const { items, total } = await shop.fulfilment.listOwnOrders(user.id, page, 20)
    return html(
      reply,
      <Layout meta={{ title: 'Your account', description: 'Your orders and settings.', noindex: true }} view={view}>
        <h1>Hello, {user.name}</h1>
        <AccountNav current="/account" />
        <h2>Your orders</h2>
        {items.length === 0 ? (
          <p>No orders yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Your orders</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
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
                      <a href={`/account/orders/${o.id}`}>{o.id.slice(0, 16)}…</a>
                    </td>
                    <td>
                      <time dateTime={o.createdAt}>{o.createdAt.slice(0, 10)}</time>
                    </td>
                    <td>
                      <StatusBadge status={o.status} />
                    </td>
                    <td class="num">{money(o.total, o.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination page={page} total={total} limit={20} href={(p) => `/account?page=${p}`} />
      </Layout>,
    )
  })

  app.get<{ Params: { id: string } }>('/account/orders/:id', async (req, reply) => {
    const user = requireUser(req)
    const order = await shop.fulfilment.getOwnOrder(user.id, req.params.id)
    const refund = await shop.fulfilment.getRefundForOrder(order.id)
    const view = await viewStateWithSession(ctx, req)
    const placed = (req.query as { placed?: string }).placed === '1'
    const canRefund = ['paid', 'shipped', 'delivered'].includes(order.status) && !refund
    const a = order.shippingAddress
    return html(
      reply,
      <Layout meta={{ title: `Order ${order.id}`, description: 'Order details.', noindex: true }} view={view}>
        {placed ? (
          <div class="notice ok" role="status">
            Thank you! Your order is confirmed and paid. We will e-mail you when it ships.
          </div>
        ) : null}
        <h1>
          Order <code>{order.id}</code> <StatusBadge status={order.status} />
        </h1>
        <div class="two-col">
          <div>
            <OrderLines order={order} caption="Items" />
            <h2>Shipping to</h2>
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
            <h2>Status</h2>
            <Timeline history={order.history} />
            {refund ? (
              <p>
                Refund request: <strong>{refund.status}</strong>
                {refund.decisionNote ? ` — ${refund.decisionNote}` : ''}
              </p>
            ) : null}
            {canRefund ? (
              <form method="post" action={`/account/orders/${order.id}/refund`} class="card">
                <CsrfInput token={view.csrf} />
                <h2>Request a refund</h2>
                <div class="field">
                  <label for="reason">Why would you like a refund?</label>
                  <textarea id="reason" name="reason" required maxLength={1000} rows={3} />
                </div>
                <button class="btn secondary" type="submit">
                  Request refund
                </button>
              </form>
            ) : null}
          </div>
          <Totals {...order}>
            {order.payment ? (
              <p class="meta">
                Paid with {order.payment.brand?.toUpperCase()} ending {order.payment.last4}
                {order.payment.status === 'refunded' ? ' (refunded)' : ''}
              </p>
            ) : null}
          </Totals>
        </div>
      </Layout>,
    )
  })

  app.post<{ Params: { id: string } }>('/account/orders/:id/refund', async (req, reply) => {
    const user = requireUser(req)
    try {
      await shop.fulfilment.requestRefund(user.id, req.params.id, field(req.body as FormBody, 'reason'))
      flash(ctx, req, 'info', 'Your refund request was sent. We will review it shortly.')
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500 || e.statusCode === 404) throw e
      flash(ctx, req, 'error', e.fields ? 'Please tell us why you would like a refund.' : e.message)
    }
    return reply.redirect(`/account/orders/${encodeURIComponent(req.params.id)}`, 303)
  })

  const passwordPage = async (
    req: Req,
    reply: Reply,
    state: { errors?: Record<string, string>; message?: string; status?: number } = {},
  ) => {
    requireUser(req)
    const view = await viewStateWithSession(ctx, req)
    const e = state.errors ?? {}
    return html(
      reply,
      <Layout meta={{ title: 'Change password', description: 'Change your password.', noindex: true }} view={view}>
        <h1>Change password</h1>
        <AccountNav current="/account/password" />
        <form method="post" action="/account/password" class="card narrow-left">
          {state.message ? (
            <div class="notice error" role="alert">
              {state.message}
            </div>
          ) : null}
          <CsrfInput token={view.csrf} />
          <Field
            name="currentPassword"
            label="Current password"
            type="password"
            error={e.currentPassword}
            autocomplete="current-password"
            required
          />
          <Field
            name="newPassword"
            label="New password"
            type="password"
            error={e.newPassword}
            hint="At least 10 characters."
            autocomplete="new-password"
            required
          />
          <button class="btn" type="submit">
            Change password
          </button>
        </form>
      </Layout>,
      state.status ?? 200,
    )
  }

  app.get('/account/password', async (req, reply) => passwordPage(req, reply))

  app.post('/account/password', { config: authLimit }, async (req, reply) => {
    const user = requireUser(req)
    const body = req.body as FormBody
    try {
      await shop.accounts.changePassword(user.id, field(body, 'currentPassword'), field(body, 'newPassword'))
      await sessions.destroyOthers(user.id, req)
      flash(ctx, req, 'info', 'Your password was changed. Other devices were signed out.')
      return reply.redirect('/account/password', 303)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      return passwordPage(req, reply, { errors: e.fields ?? {}, message: e.message, status: e.statusCode })
    }
  })

  app.get('/account/tokens', async (req, reply) => {
    const user = requireUser(req)
    const view = await viewStateWithSession(ctx, req)
    const tokens = await shop.accounts.listApiTokens(user.id)
    return html(
      reply,
      <Layout meta={{ title: 'API tokens', description: 'Personal API tokens.', noindex: true }} view={view}>
        <h1>API tokens</h1>
        <AccountNav current="/account/tokens" />
        <p>
          Tokens let your scripts and integrations use the API as you. Send one as <code>Authorization: Bearer …</code>.
        </p>
        <form method="post" action="/account/tokens" class="card narrow-left">
          <CsrfInput token={view.csrf} />
          <Field
            name="name"
            label="Token name"
            hint="What will use it, e.g. “inventory sync”"
            required
            maxLength={80}
          />
          <button class="btn" type="submit">
            Create token
          </button>
        </form>
        <h2>Your tokens</h2>
        {tokens.length === 0 ? (
          <p>No tokens yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Your API tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((t) => (
                  <tr>
                    <td>{t.name}</td>
                    <td>
                      <code>{t.prefix}…</code>
                    </td>
                    <td>{t.createdAt.slice(0, 10)}</td>
                    <td>
                      {t.revokedAt ? (
                        <span class="badge">Revoked</span>
                      ) : (
                        <form
                          method="post"
                          action={`/account/tokens/${t.id}/revoke`}
                          data-confirm="Revoke this token? Scripts using it will stop working."
                        >
                          <CsrfInput token={view.csrf} />
                          <button class="btn danger small" type="submit">
                            Revoke<span class="visually-hidden"> {t.name}</span>
                          </button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    )
  })

  app.post('/account/tokens', async (req, reply) => {
    const user = requireUser(req)
    try {
      const { secret } = await shop.accounts.createApiToken(user.id, field(req.body as FormBody, 'name'))
      const view = await viewStateWithSession(ctx, req)
      return html(
        reply,
        <Layout meta={{ title: 'Your new API token', description: 'Copy your token now.', noindex: true }} view={view}>
          <h1>Your new API token</h1>
          <div class="notice ok" role="status">
            Copy it now: it is shown only once and we keep only a hash of it.
          </div>
          <div class="card">
            <label for="new-token">Token</label>
            <input id="new-token" readonly value={secret} />
          </div>
          <p />
          <a class="btn secondary" href="/account/tokens">
            Back to tokens
          </a>
        </Layout>,
        201,
      )
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode >= 500) throw e
      flash(ctx, req, 'error', e.message)
      return reply.redirect('/account/tokens', 303)
    }
  })

  app.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', async (req, reply) => {
    const user = requireUser(req)
    await shop.accounts.revokeApiToken(user.id, req.params.id)
    flash(ctx, req, 'info', 'The token was revoked.')
    return reply.redirect('/account/tokens', 303)
  })
}
