// The analytics page's time range: choosing a preset fills in its dates, and editing a date switches to custom dates.
// Without JavaScript the form says the same in words (dates apply when the range is Custom dates).

const DAY_MS = 86_400_000

export function rangePresets(): void {
  const select = document.querySelector<HTMLSelectElement>('select[data-range-preset]')
  const from = document.querySelector<HTMLInputElement>('input[data-range-from]')
  const to = document.querySelector<HTMLInputElement>('input[data-range-to]')
  if (!select || !from || !to) return
  select.addEventListener('change', () => {
    const days = Number(select.selectedOptions[0]?.dataset.days)
    if (!days) return
    const now = new Date()
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
    to.value = new Date(today).toISOString().slice(0, 10)
    from.value = new Date(today - (days - 1) * DAY_MS).toISOString().slice(0, 10)
  })
  for (const input of [from, to])
    input.addEventListener('input', () => {
      select.value = 'custom'
    })
}
