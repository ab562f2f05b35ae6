// The catalog: categories, products with variants and their stock, search, and staff edits.
import type { Clock } from '../core/clock.ts'
import { NotFound, ValidationFailed } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Category, Inventory, Product, ProductQuery, Variant } from './model.ts'
import type { CommerceStore } from './store/commerce-store.ts'
import { cleanText, SKU_RE, SLUG_RE } from './validation.ts'

export interface VariantView extends Variant {
  available: number
}

export interface ProductView extends Omit<Product, 'variants'> {
  category: Pick<Category, 'slug' | 'name'> | null
  variants: VariantView[]
}

export interface ProductInput {
  name: string
  slug?: string | undefined
  description: string
  category: string
  featured?: boolean | undefined
  images?: string[] | undefined
  variants: {
    sku: string
    name: string
    options?: Record<string, string> | undefined
    price: number
    stock?: number | undefined
  }[]
}

export interface CategoryInput {
  slug: string
  name: string
  description?: string | undefined
  position?: number | undefined
}

export const MAX_PRICE = 100_000_000
export const MAX_STOCK = 1_000_000_000

export const slugify = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/g, '')

/** Placeholder images are generated locally from the slug (see web/images.ts); no network is needed. */
export const placeholderImages = (slug: string, count = 2): string[] =>
  Array.from({ length: count }, (_, i) => `/images/products/${slug}-${i + 1}.svg`)

export class Catalog {
  constructor(
    private readonly store: CommerceStore,
    private readonly clock: Clock,
  ) {}

  listCategories(): Promise<Category[]> {
    return this.store.listCategories()
  }

  getCategory(slug: string): Promise<Category | null> {
    return this.store.getCategoryBySlug(slug)
  }

  version(): Promise<number> {
    return this.store.catalogVersion()
  }

  private async view(products: Product[]): Promise<ProductView[]> {
    if (products.length === 0) return []
    const [categories, stock] = await Promise.all([
      this.store.listCategories(),
      this.store.getInventory(products.flatMap((p) => p.variants.map((v) => v.sku))),
    ])
    const catById = new Map(categories.map((c) => [c.id, c]))
    const stockBySku = new Map<string, Inventory>(stock.map((s) => [s.sku, s]))
    return products.map((p) => {
      const c = catById.get(p.categoryId)
      return {
        ...p,
        category: c ? { slug: c.slug, name: c.name } : null,
        variants: p.variants.map((v) => ({ ...v, available: stockBySku.get(v.sku)?.available ?? 0 })),
      }
    })
  }

  /** Search and browse; an unknown category slug yields an empty page rather than every product. */
  async search(
    query: Omit<ProductQuery, 'categoryId'> & { category?: string | undefined },
  ): Promise<{ items: ProductView[]; total: number; page: number; limit: number }> {
    let categoryId: string | undefined
    if (query.category) {
      const c = await this.store.getCategoryBySlug(query.category)
      if (!c) return { items: [], total: 0, page: query.page, limit: query.limit }
      categoryId = c.id
    }
    const { category: _ignored, ...rest } = query
    const { items, total } = await this.store.searchProducts({ ...rest, ...(categoryId ? { categoryId } : {}) })
    return { items: await this.view(items), total, page: query.page, limit: query.limit }
  }

  async getBySlug(slug: string): Promise<ProductView | null> {
    const p = await this.store.getProductBySlug(slug)
    return p ? ((await this.view([p]))[0] ?? null) : null
  }

  async getById(id: string): Promise<ProductView | null> {
    const p = await this.store.getProductById(id)
    return p ? ((await this.view([p]))[0] ?? null) : null
  }

  private async checkProductInput(
    input: ProductInput,
  ): Promise<{ product: Omit<Product, 'id' | 'createdAt' | 'updatedAt'>; category: Category }> {
    const name = cleanText(input.name, 'name', 200)
    const description = cleanText(input.description ?? '', 'description', 5000, { min: 0 })
    const slug = input.slug?.trim() || slugify(name)
    if (!SLUG_RE.test(slug) || slug.length > 80)
      throw new ValidationFailed('The slug is not valid').withFields({
        slug: 'Lower-case letters, digits and single dashes, at most 80 characters',
      })
    const category = await this.store.getCategoryBySlug(input.category)
    if (!category)
      throw new ValidationFailed('Unknown category').withFields({ category: `No category ${input.category}` })
    if (!Array.isArray(input.variants) || input.variants.length === 0 || input.variants.length > 50)
      throw new ValidationFailed('A product needs 1 to 50 variants').withFields({
        variants: 'Between 1 and 50 variants',
      })
    const seen = new Set<string>()
    const variants: Variant[] = input.variants.map((v, i) => {
      const f = `variants.${i}`
      if (!SKU_RE.test(v.sku))
        throw new ValidationFailed('A SKU is not valid').withFields({
          [`${f}.sku`]: 'Letters, digits, dot, dash or underscore; at most 64 characters',
        })
      if (seen.has(v.sku)) throw new ValidationFailed('Duplicate SKU').withFields({ [`${f}.sku`]: 'Used twice' })
      seen.add(v.sku)
      if (!Number.isInteger(v.price) || v.price < 0 || v.price > MAX_PRICE)
        throw new ValidationFailed('A price is not valid').withFields({
          [`${f}.price`]: `Whole minor units from 0 to ${MAX_PRICE}`,
        })
      const options: Record<string, string> = {}
      for (const [k, val] of Object.entries(v.options ?? {})) {
        options[cleanText(k, `${f}.options`, 40)] = cleanText(String(val), `${f}.options.${k}`, 80)
      }
      return { sku: v.sku, name: cleanText(v.name, `${f}.name`, 120), options, price: v.price }
    })
    const images = input.images?.length ? input.images : placeholderImages(slug)
    for (const [i, img] of images.entries()) {
      if (!/^\/[A-Za-z0-9/_.-]{1,200}$/.test(img) || img.includes('..'))
        throw new ValidationFailed('Images must be local paths').withFields({
          [`images.${i}`]: 'A local path such as /images/…',
        })
    }
    return {
      product: { slug, name, description, categoryId: category.id, images, featured: !!input.featured, variants },
      category,
    }
  }

  private async setInitialStock(input: ProductInput): Promise<void> {
    for (const v of input.variants) {
      if (v.stock !== undefined) await this.setStock(v.sku, v.stock)
    }
  }

  async createProduct(input: ProductInput): Promise<ProductView> {
    const { product } = await this.checkProductInput(input)
    for (const [i, v] of input.variants.entries()) {
      if (v.stock !== undefined) this.checkStock(v.stock, `variants.${i}.stock`)
    }
    const now = this.clock.now().toISOString()
    const full: Product = { ...product, id: newId('prd'), createdAt: now, updatedAt: now }
    await this.store.createProduct(full)
    await this.setInitialStock(input)
    return (await this.getById(full.id)) as ProductView
  }

  async updateProduct(id: string, input: ProductInput): Promise<ProductView> {
    const existing = await this.store.getProductById(id)
    if (!existing) throw new NotFound('Product')
    const { product } = await this.checkProductInput({ ...input, slug: input.slug ?? existing.slug })
    for (const [i, v] of input.variants.entries()) {
      if (v.stock !== undefined) this.checkStock(v.stock, `variants.${i}.stock`)
    }
    await this.store.updateProduct({
      ...product,
      id,
      createdAt: existing.createdAt,
      updatedAt: this.clock.now().toISOString(),
    })
    await this.setInitialStock(input)
    return (await this.getById(id)) as ProductView
  }

  async deleteProduct(id: string): Promise<void> {
    if (!(await this.store.deleteProduct(id))) throw new NotFound('Product')
  }

  private checkStock(available: number, field: string): void {
    if (!Number.isInteger(available) || available < 0 || available > MAX_STOCK)
      throw new ValidationFailed('Stock must be a whole number of units').withFields({
        [field]: `A whole number from 0 to ${MAX_STOCK}`,
      })
  }

  async setStock(sku: string, available: number): Promise<Inventory> {
    this.checkStock(available, 'available')
    if (!(await this.store.setAvailable(sku, available))) throw new NotFound(`SKU ${sku}`)
    const [inv] = await this.store.getInventory([sku])
    return inv as Inventory
  }

  async upsertCategory(input: CategoryInput, id?: string): Promise<Category> {
    const slug = input.slug.trim()
    if (!SLUG_RE.test(slug) || slug.length > 60)
      throw new ValidationFailed('The slug is not valid').withFields({ slug: 'Lower-case letters, digits and dashes' })
    const existing = id ? await this.store.getCategoryById(id) : await this.store.getCategoryBySlug(slug)
    if (id && !existing) throw new NotFound('Category')
    const category: Category = {
      id: existing?.id ?? newId('cat'),
      slug,
      name: cleanText(input.name, 'name', 80),
      description: cleanText(input.description ?? '', 'description', 1000, { min: 0 }),
      position: input.position ?? existing?.position ?? 100,
    }
    if (!Number.isInteger(category.position) || category.position < 0 || category.position > 10_000)
      throw new ValidationFailed('Position is not valid').withFields({ position: 'A whole number from 0 to 10000' })
    await this.store.upsertCategory(category)
    return category
  }

  async deleteCategory(slug: string): Promise<void> {
    const c = await this.store.getCategoryBySlug(slug)
    if (!c || !(await this.store.deleteCategory(c.id))) throw new NotFound('Category')
  }
}
