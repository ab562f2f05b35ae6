// Crawlers: robots.txt, sitemap.xml of categories and products, and the favicon.
import type { FastifyInstance } from 'fastify'
import type { PagesContext } from './context.ts'

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)

export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f5f58"/><text x="16" y="22" text-anchor="middle" font-family="system-ui,sans-serif" font-size="18" font-weight="700" fill="#fff">E</text></svg>`

export async function seoRoutes(app: FastifyInstance, ctx: PagesContext) {
  app.get('/robots.txt', async (req, reply) =>
    reply
      .type('text/plain; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(
        `User-agent: *\nDisallow: /admin\nDisallow: /account\nDisallow: /cart\nDisallow: /checkout\nDisallow: /api/\nSitemap: ${req.protocol}://${req.host}/sitemap.xml\n`,
      ),
  )

  app.get('/favicon.svg', async (_req, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON),
  )

  app.get('/sitemap.xml', async (req, reply) => {
    const origin = `${req.protocol}://${req.host}`
    const urls: { loc: string; lastmod?: string }[] = [{ loc: `${origin}/` }]
    for (const c of await ctx.shop.catalog.listCategories()) urls.push({ loc: `${origin}/c/${c.slug}` })
    for (let page = 1; ; page++) {
      const { items, total } = await ctx.shop.store.searchProducts({ sort: 'newest', page, limit: 500 })
      for (const p of items) urls.push({ loc: `${origin}/products/${p.slug}`, lastmod: p.updatedAt.slice(0, 10) })
      if (page * 500 >= total || items.length === 0) break
    }
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' +
      urls
        .map((u) => `<url><loc>${xmlEscape(u.loc)}</loc>${u.lastmod ? `<lastmod>${u.lastmod}</lastmod>` : ''}</url>`)
        .join('\n') +
      '\n</urlset>\n'
    return reply.type('application/xml; charset=utf-8').header('cache-control', 'public, max-age=600').send(body)
  })
}
