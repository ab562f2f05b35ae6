// JSON Schemas of the REST API: request validation (strict: no extra fields) and fast response serialization.

export const money = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: { amount: { type: 'integer' }, currency: { type: 'string' } },
} as const

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        fields: { type: 'object', additionalProperties: { type: 'string' } },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const

export const user = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const

export const category = {
  type: 'object',
  properties: {
    slug: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    position: { type: 'integer' },
  },
} as const

export const product = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    slug: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    category: { type: 'object', nullable: true, properties: { slug: { type: 'string' }, name: { type: 'string' } } },
    images: { type: 'array', items: { type: 'string' } },
    featured: { type: 'boolean' },
    price: money,
    inStock: { type: 'boolean' },
    variants: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string' },
          name: { type: 'string' },
          options: { type: 'object', additionalProperties: { type: 'string' } },
          price: money,
          available: { type: 'integer' },
        },
      },
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const

export const page = (items: object) =>
  ({
    type: 'object',
    properties: {
      items: { type: 'array', items },
      total: { type: 'integer' },
      page: { type: 'integer' },
      limit: { type: 'integer' },
    },
  }) as const

export const cart = {
  type: 'object',
  properties: {
    id: { type: 'string', nullable: true },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string' },
          quantity: { type: 'integer' },
          name: { type: 'string' },
          variantName: { type: 'string' },
          productSlug: { type: 'string' },
          image: { type: 'string' },
          available: { type: 'integer' },
          unitPrice: money,
          lineTotal: money,
        },
      },
    },
    itemCount: { type: 'integer' },
    coupon: {
      type: 'object',
      nullable: true,
      properties: {
        code: { type: 'string' },
        applied: { type: 'boolean' },
        message: { type: 'string', nullable: true },
      },
    },
    subtotal: money,
    discount: money,
    shipping: money,
    tax: money,
    total: money,
  },
} as const

const address = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    line1: { type: 'string' },
    line2: { type: 'string' },
    city: { type: 'string' },
    postalCode: { type: 'string' },
    country: { type: 'string' },
  },
} as const

export const order = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    status: { type: 'string' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string' },
          productSlug: { type: 'string' },
          name: { type: 'string' },
          variantName: { type: 'string' },
          quantity: { type: 'integer' },
          unitPrice: money,
          lineTotal: money,
        },
      },
    },
    couponCode: { type: 'string', nullable: true },
    subtotal: money,
    discount: money,
    shipping: money,
    tax: money,
    total: money,
    shippingAddress: address,
    payment: {
      type: 'object',
      nullable: true,
      properties: {
        status: { type: 'string' },
        brand: { type: 'string', nullable: true },
        last4: { type: 'string', nullable: true },
        amount: money,
      },
    },
    failureReason: { type: 'string', nullable: true },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          from: { type: 'string', nullable: true },
          to: { type: 'string' },
          at: { type: 'string' },
          actor: { type: 'string' },
          reason: { type: 'string' },
        },
      },
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const

export const refund = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    orderId: { type: 'string' },
    userId: { type: 'string' },
    amount: money,
    reason: { type: 'string' },
    status: { type: 'string' },
    createdAt: { type: 'string' },
    decidedAt: { type: 'string', nullable: true },
    decidedBy: { type: 'string', nullable: true },
    decisionNote: { type: 'string', nullable: true },
  },
} as const

export const pagingQuery = {
  page: { type: 'integer', minimum: 1, maximum: 10_000, default: 1 },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
} as const

export const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } },
} as const

export const skuParam = {
  type: 'object',
  required: ['sku'],
  properties: { sku: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' } },
} as const

/** Standard error responses for the OpenAPI document. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorSchema]))
