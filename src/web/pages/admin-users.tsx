// Back office, people (admins only): find accounts and change their role.
import type { FastifyInstance } from 'fastify'
import { ROLES, type Role } from '../../commerce/model.ts'
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
import { CsrfInput, Pagination } from './components.tsx'
import type { PagesContext } from './context.ts'
import { type FormBody, field, flash, html, viewStateWithSession } from './render.tsx'

const LIMIT = 25
const ROLE_LABEL: Record<Role, string> = { customer: 'Customer', staff: 'Staff', analyst: 'Analyst', admin: 'Admin' }
/** Where to return after a role change: the user list with its filters, never anywhere else. */
const BACK_RE = /^\/admin\/users(\?[A-Za-z0-9_.~=&%+-]{0,300})?$/

export async function adminUserPages(app: FastifyInstance, ctx: PagesContext) {
  const { shop } = ctx

  app.get('/admin/users', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'users:manage')
    const query = req.query as { q?: string; role?: string; page?: string }
    const q = textParam(query.q, 100)
    const rawRole = textParam(query.role, 16)
    if (rawRole && !ROLES.includes(rawRole as Role))
      throw new ValidationFailed('Unknown role').withFields({ role: ROLES.join(', ') })
    const role = (rawRole || undefined) as Role | undefined
    const page = pageParam(query.page)
    const view = await viewStateWithSession(ctx, req)
    const { items, total } = await shop.store.listUsers({
      ...(q ? { q } : {}),
      ...(role ? { role } : {}),
      page,
      limit: LIMIT,
    })
    const here = withQuery('/admin/users', { q, role, page })
    return html(
      reply,
      <AdminPage view={view} user={user} section="/admin/users" title="Users" description="Accounts and their roles.">
        <form method="get" action="/admin/users" class="filter-bar" role="search">
          <div class="field">
            <label for="user-q">E-mail or name</label>
            <input id="user-q" type="search" name="q" value={q} maxLength={100} />
          </div>
          <div class="field">
            <label for="user-role">Role</label>
            <select id="user-role" name="role">
              <option value="" selected={!role}>
                All roles
              </option>
              {ROLES.map((r) => (
                <option value={r} selected={r === role}>
                  {ROLE_LABEL[r]}
                </option>
              ))}
            </select>
          </div>
          <button class="btn secondary" type="submit">
            Apply
          </button>
        </form>
        <p class="meta" aria-live="polite">
          {total} {total === 1 ? 'account' : 'accounts'}
        </p>
        {items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Accounts</caption>
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Change role</th>
                </tr>
              </thead>
              <tbody>
                {items.map((u) => (
                  <tr>
                    <td>
                      {u.email}
                      {u.id === user.id ? <span class="badge">You</span> : null}
                    </td>
                    <td>{u.name}</td>
                    <td>
                      <span class={`badge${u.role === 'admin' ? ' warn' : u.role === 'customer' ? '' : ' ok'}`}>
                        {ROLE_LABEL[u.role]}
                      </span>
                    </td>
                    <td>{dateOnly(u.createdAt)}</td>
                    <td>
                      <form method="post" action={`/admin/users/${u.id}/role`} class="inline-fields">
                        <CsrfInput token={view.csrf} />
                        <input type="hidden" name="back" value={here} />
                        <label class="visually-hidden" for={`role-${u.id}`}>
                          Role of {u.email}
                        </label>
                        <select id={`role-${u.id}`} name="role">
                          {ROLES.map((r) => (
                            <option value={r} selected={r === u.role}>
                              {ROLE_LABEL[r]}
                            </option>
                          ))}
                        </select>
                        <button class="btn secondary small" type="submit">
                          Save role<span class="visually-hidden"> of {u.email}</span>
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card">
            <p>No accounts match.</p>
          </div>
        )}
        <Pagination
          page={page}
          total={total}
          limit={LIMIT}
          href={(p) => withQuery('/admin/users', { q, role, page: p })}
        />
      </AdminPage>,
    )
  })

  app.post<{ Params: { id: string } }>('/admin/users/:id/role', pageRoute, async (req, reply) => {
    const actor = requirePermission(req, 'users:manage')
    if (!ID_RE.test(req.params.id)) throw new NotFound('User')
    const body = req.body as FormBody
    const back = field(body, 'back')
    const role = field(body, 'role')
    try {
      if (!ROLES.includes(role as Role))
        throw new ValidationFailed('Choose a role').withFields({ role: `One of ${ROLES.join(', ')}` })
      const updated = await shop.accounts.setRole(actor, req.params.id, role as Role)
      req.log.info(
        { userId: actor.id, target: updated.id, role: updated.role, audit: 'user.role_changed' },
        'role changed',
      )
      flash(ctx, req, 'info', `${updated.email} is now ${ROLE_LABEL[updated.role].toLowerCase()}.`)
    } catch (err) {
      flash(ctx, req, 'error', refusalText(refusal(err)))
    }
    return reply.redirect(BACK_RE.test(back) ? back : '/admin/users', 303)
  })
}
