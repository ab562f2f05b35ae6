import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stockMemo, variantMemo } from './carts.ts'
import type { Inventory, VariantInfo } from './model.ts'

const variant = (sku: string, price: number): VariantInfo => ({
  sku,
  name: sku,
  options: {},
  price,
  productId: `p-${sku}`,
  productSlug: `slug-${sku}`,
  productName: `Product ${sku}`,
  categoryId: 'c',
  image: undefined,
})

/** A stand-in for the two store methods the memo uses (logic above the port), counting the variant reads. */
function fakeCatalog(initial: VariantInfo[]) {
  const state = { version: 1, reads: [] as string[][], rows: new Map(initial.map((v) => [v.sku, v])) }
  return {
    state,
    store: {
      catalogVersion: async () => state.version,
      getVariants: async (skus: readonly string[]) => {
        state.reads.push([...skus])
        return skus.flatMap((s) => (state.rows.has(s) ? [state.rows.get(s) as VariantInfo] : []))
      },
    },
  }
}

describe('variantMemo (cart pricing reads)', () => {
  it('reads each SKU once per catalog version, and only the ones it has not seen', async () => {
    const { state, store } = fakeCatalog([variant('A', 100), variant('B', 200)])
    const memo = variantMemo(store)
    assert.deepEqual(
      (await memo.get(['A'])).map((v) => v.price),
      [100],
    )
    assert.deepEqual(
      (await memo.get(['A', 'B'])).map((v) => v.sku),
      ['A', 'B'],
    )
    assert.deepEqual(
      (await memo.get(['B', 'A', 'B'])).map((v) => v.sku),
      ['B', 'A'],
    )
    assert.deepEqual(state.reads, [['A'], ['B']])
  })

  it('a new catalog version (a price change) is read afresh', async () => {
    const { state, store } = fakeCatalog([variant('A', 100)])
    const memo = variantMemo(store)
    assert.equal((await memo.get(['A']))[0]?.price, 100)
    state.rows.set('A', variant('A', 150))
    assert.equal((await memo.get(['A']))[0]?.price, 100, 'same version: the memo answers')
    state.version = 2
    assert.equal((await memo.get(['A']))[0]?.price, 150)
    assert.equal(state.reads.length, 2)
  })

  it('an unknown SKU is absent from the answer, and becomes known when the catalog version moves', async () => {
    const { state, store } = fakeCatalog([variant('A', 100)])
    const memo = variantMemo(store)
    assert.deepEqual(
      (await memo.get(['A', 'NEW'])).map((v) => v.sku),
      ['A'],
    )
    assert.deepEqual(
      (await memo.get(['NEW'])).map((v) => v.sku),
      [],
      'remembered as unknown for this version',
    )
    state.rows.set('NEW', variant('NEW', 300))
    state.version = 2
    assert.deepEqual(
      (await memo.get(['NEW'])).map((v) => v.price),
      [300],
    )
  })
})

describe('stockMemo (availability shown in carts)', () => {
  it('answers from memory within a catalog version, and a reservation (which bumps it) is read afresh', async () => {
    const state = {
      version: 7,
      reads: 0,
      rows: new Map<string, Inventory>([['A', { sku: 'A', available: 5, reserved: 0 }]]),
    }
    const memo = stockMemo({
      catalogVersion: async () => state.version,
      getInventory: async (skus: readonly string[]) => {
        state.reads++
        return skus.flatMap((s) => (state.rows.has(s) ? [{ ...(state.rows.get(s) as Inventory) }] : []))
      },
    })
    assert.equal((await memo.get(['A']))[0]?.available, 5)
    assert.equal((await memo.get(['A']))[0]?.available, 5)
    assert.equal(state.reads, 1)
    state.rows.set('A', { sku: 'A', available: 3, reserved: 2 })
    state.version = 8
    assert.deepEqual(await memo.get(['A']), [{ sku: 'A', available: 3, reserved: 2 }])
    assert.equal(state.reads, 2)
  })
})
