// Progressive enhancement for the storefront and back office: every page works without it.
import { rangePresets } from './analytics.ts'

/** Submits a form when one of its selects marked data-autosubmit changes (sort order, filters). */
function autosubmit(): void {
  for (const el of document.querySelectorAll<HTMLSelectElement>('select[data-autosubmit]')) {
    el.addEventListener('change', () => el.form?.requestSubmit())
    const button = el.form?.querySelector<HTMLElement>('[data-autosubmit-fallback]')
    if (button) button.hidden = true
  }
}

/** Asks before destructive back-office actions (cancel, reject, delete). */
function confirmations(): void {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm ?? 'Are you sure?')) event.preventDefault()
    })
  }
}

/** Prevents double submission of checkout and other forms that place or change orders. */
function submitOnce(): void {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-submit-once]')) {
    form.addEventListener('submit', () => {
      for (const b of form.querySelectorAll<HTMLButtonElement>('button[type=submit]')) {
        b.disabled = true
        b.setAttribute('aria-busy', 'true')
      }
    })
  }
}

/** Shows the chosen variant's price and stock on the product page. */
function variantPicker(): void {
  const select = document.querySelector<HTMLSelectElement>('select[data-variant-select]')
  if (!select) return
  const price = document.querySelector<HTMLElement>('[data-variant-price]')
  const stock = document.querySelector<HTMLElement>('[data-variant-stock]')
  const update = () => {
    const option = select.selectedOptions[0]
    if (!option) return
    if (price && option.dataset.price) price.textContent = option.dataset.price
    if (stock && option.dataset.stock) stock.textContent = option.dataset.stock
  }
  select.addEventListener('change', update)
}

autosubmit()
confirmations()
submitOnce()
variantPicker()
rangePresets()
