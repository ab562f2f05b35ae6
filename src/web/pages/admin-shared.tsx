// Pieces shared by the back-office pages: the section navigation, paging, filters and error wording.
import type { ComponentChildren } from 'preact'
import { can, type Permission } from '../../commerce/accounts.ts'
import type { User } from '../../commerce/model.ts'
import { type EmporiumError, isEmporiumError } from '../../core/errors.ts'
import type { ViewState } from './context.ts'
import { Layout } from './layout.tsx'

/** A SKU with this many sellable units or fewer counts as low on stock. */
export const LOW_STOCK = 5

/** Back-office pages are kept out of the OpenAPI document (their paths would shadow the API's). */
export const pageRoute = { schema: { hide: true } } as const

const SECTIONS: [href: string, label: string, permission: Permission][] = [
  ['/admin', 'Dashboard', 'orders:manage'],
  ['/admin/products', 'Products', 'catalog:write'],
  ['/admin/orders', 'Orders', 'orders:manage'],
  ['/admin/refunds', 'Refunds', 'refunds:decide'],
  ['/admin/users', 'Users', 'users:manage'],
  ['/admin/analytics', 'Analytics', 'analytics:read'],
  ['/admin/observability', 'Observability', 'ops:read'],
]

export function AdminNav({ user, current }: { user: Pick<User, 'role'>; current: string }) {
  return (
    <nav aria-label="Back office">
      <ul class="admin-nav">
        {SECTIONS.filter(([, , permission]) => can(user, permission)).map(([href, label]) => (
          <li>
            <a href={href} aria-current={current === href ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}

/** The frame of every back-office page: layout (never indexed), section navigation, heading. */
export function AdminPage(props: {
  view: ViewState
  user: Pick<User, 'role'>
  section: string
  title: string
  description: string
  heading?: ComponentChildren
  children: ComponentChildren
  /** Page-only scripts (logical asset names). */
  scripts?: readonly string[]
}) {
  return (
    <Layout
      meta={{ title: props.title, description: props.description, noindex: true }}
      view={props.view}
      {...(props.scripts ? { scripts: props.scripts } : {})}
    >
      <div class="admin-page">
        <AdminNav user={props.user} current={props.section} />
        <h1>{props.heading ?? props.title}</h1>
        {props.children}
      </div>
    </Layout>
  )
}

/** A page number from the query string: 1 to 10 000, anything else is page 1. */
export const pageParam = (raw: unknown): number =>
  Math.min(Math.max(1, Number.parseInt(typeof raw === 'string' ? raw : '1', 10) || 1), 10_000)

/** A one-line query-string value, trimmed and bounded. */
export const textParam = (raw: unknown, max = 100): string => (typeof raw === 'string' ? raw.trim().slice(0, max) : '')

/** Record ids as the API accepts them; anything else cannot exist. */
export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/

/** Builds `/path?a=1&b=2`, leaving out empty values. */
export const withQuery = (path: string, params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '' || (k === 'page' && v === 1)) continue
    s.set(k, String(v))
  }
  const str = s.toString()
  return str ? `${path}?${str}` : path
}

/** A refusal people can act on becomes a message; anything else (bugs, outages, not found, access) propagates. */
export const refusal = (e: unknown): EmporiumError => {
  if (!isEmporiumError(e) || e.statusCode >= 500 || [401, 403, 404].includes(e.statusCode)) throw e
  return e
}

/** The message of a refusal with its field reasons, for a flash. */
export const refusalText = (e: EmporiumError): string =>
  e.fields ? `${e.message}: ${Object.values(e.fields).join('; ')}` : e.message

export const dateOnly = (iso: string) => <time dateTime={iso}>{iso.slice(0, 10)}</time>
