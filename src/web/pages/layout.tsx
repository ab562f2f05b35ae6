// The page shell: head (title, description, canonical, Open Graph, JSON-LD), header with search and cart, footer.
import type { ComponentChildren } from 'preact'
import type { ViewState } from './context.ts'

export interface Meta {
  title: string
  description: string
  /** Path of the canonical URL; defaults to the request path without its query. */
  canonical?: string
  image?: string
  type?: 'website' | 'product'
  noindex?: boolean
  jsonLd?: object
}

export const SHOP_NAME = 'Emporium'

/** JSON-LD goes into a script element: escape `<` so text can never close it. */
const jsonLd = (data: object) => JSON.stringify(data).replace(/</g, '\\u003c')

export function Layout(props: {
  meta: Meta
  view: ViewState
  children: ComponentChildren
  wide?: boolean
  /** Extra module scripts of this page only (logical asset names, e.g. 'ops.js'). */
  scripts?: readonly string[]
}) {
  const { meta, view } = props
  const canonical = `${view.origin}${meta.canonical ?? view.path}`
  const title = meta.title === SHOP_NAME ? SHOP_NAME : `${meta.title} · ${SHOP_NAME}`
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <meta name="description" content={meta.description} />
        <link rel="canonical" href={canonical} />
        {meta.noindex ? <meta name="robots" content="noindex" /> : null}
        <meta property="og:site_name" content={SHOP_NAME} />
        <meta property="og:title" content={meta.title} />
        <meta property="og:description" content={meta.description} />
        <meta property="og:type" content={meta.type ?? 'website'} />
        <meta property="og:url" content={canonical} />
        {meta.image ? <meta property="og:image" content={`${view.origin}${meta.image}`} /> : null}
        <meta name="theme-color" content="#0f5f58" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={view.assets['styles.css']} />
        <script type="module" src={view.assets['main.js']} />
        {(props.scripts ?? []).map((name) => (
          <script type="module" src={view.assets[name]} />
        ))}
        {meta.jsonLd ? (
          <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: jsonLd(meta.jsonLd) }} />
        ) : null}
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Header view={view} />
        <main id="main">
          {view.flash.map((f) => (
            <div class={`notice ${f.kind}`} role={f.kind === 'error' ? 'alert' : 'status'}>
              {f.text}
            </div>
          ))}
          {props.children}
        </main>
        <footer class="site-footer">
          <div class="inner">
            <div>
              <strong>{SHOP_NAME}</strong> — an open-source shop. Prices include no hidden fees; tax is shown before you
              pay.
            </div>
            <nav aria-label="Footer">
              <a href="/docs">API</a> · <a href="/sitemap.xml">Sitemap</a>
            </nav>
          </div>
        </footer>
      </body>
    </html>
  )
}

function Header({ view }: { view: ViewState }) {
  // Analysts have one back-office page: analytics.
  const backOffice = !view.user
    ? null
    : ['staff', 'admin'].includes(view.user.role)
      ? '/admin'
      : view.user.role === 'analyst'
        ? '/admin/analytics'
        : null
  return (
    <header class="site-header">
      <div class="bar">
        <a class="brand" href="/">
          <span class="brand-mark" aria-hidden="true">
            E
          </span>
          {SHOP_NAME}
        </a>
        <form class="search" action="/search" method="get" role="search">
          <label class="visually-hidden" for="site-search">
            Search products
          </label>
          <input id="site-search" type="search" name="q" placeholder="Search products" maxLength={200} />
          <button class="btn" type="submit">
            Search
          </button>
        </form>
        <nav aria-label="Account">
          <ul class="nav-links">
            {backOffice ? (
              <li>
                <a href={backOffice}>Back office</a>
              </li>
            ) : null}
            {view.user ? (
              <>
                <li>
                  <a href="/account">Account</a>
                </li>
                <li>
                  <form class="inline-form" method="post" action="/logout">
                    <input type="hidden" name="_csrf" value={view.csrf} />
                    <button type="submit">Sign out</button>
                  </form>
                </li>
              </>
            ) : (
              <>
                <li>
                  <a href="/login">Sign in</a>
                </li>
                <li>
                  <a href="/register">Register</a>
                </li>
              </>
            )}
            <li>
              <a href="/cart">
                Cart <span class="cart-count">{view.cartCount}</span>
                <span class="visually-hidden"> items</span>
              </a>
            </li>
          </ul>
        </nav>
      </div>
      <nav class="categories-nav" aria-label="Categories">
        <ul>
          {view.categories.map((c) => (
            <li>
              <a href={`/c/${c.slug}`} aria-current={view.path === `/c/${c.slug}` ? 'page' : undefined}>
                {c.name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  )
}
