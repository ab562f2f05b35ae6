// Generated SVG placeholder images for products, derived from the slug alone: local, deterministic, cacheable.
import { createHash } from 'node:crypto'

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string)

const PALETTES: readonly [string, string, string][] = [
  ['#0f766e', '#99f6e4', '#042f2e'],
  ['#1d4ed8', '#bfdbfe', '#172554'],
  ['#9333ea', '#e9d5ff', '#3b0764'],
  ['#c2410c', '#fed7aa', '#431407'],
  ['#be123c', '#fecdd3', '#4c0519'],
  ['#4d7c0f', '#d9f99d', '#1a2e05'],
  ['#0369a1', '#bae6fd', '#082f49'],
  ['#a16207', '#fef08a', '#422006'],
]

export function productPlaceholderSvg(slug: string, variant: number): string {
  const digest = createHash('sha1').update(`${slug}:${variant}`).digest()
  const [accent, light, dark] = PALETTES[(digest[0] ?? 0) % PALETTES.length] as [string, string, string]
  const words = slug.split('-').filter(Boolean)
  const title = words
    .slice(0, 3)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ')
  const initials = words
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join('')
  const cx = 120 + ((digest[1] ?? 0) % 160)
  const cy = 90 + ((digest[2] ?? 0) % 120)
  const r = 60 + ((digest[3] ?? 0) % 70)
  const angle = (digest[4] ?? 0) % 90
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" height="400" role="img" aria-label="${escapeXml(title)}">
<defs><linearGradient id="g" gradientTransform="rotate(${angle})"><stop offset="0" stop-color="${light}"/><stop offset="1" stop-color="#ffffff"/></linearGradient></defs>
<rect width="400" height="400" fill="url(#g)"/>
<circle cx="${cx}" cy="${cy}" r="${r}" fill="${accent}" opacity="0.18"/>
<rect x="${400 - cx - 40}" y="${400 - cy - 30}" width="${r + 40}" height="${r + 40}" rx="24" fill="${accent}" opacity="0.12" transform="rotate(${angle} 200 200)"/>
<text x="200" y="215" text-anchor="middle" font-family="system-ui, sans-serif" font-size="96" font-weight="700" fill="${accent}">${escapeXml(initials)}</text>
<text x="200" y="340" text-anchor="middle" font-family="system-ui, sans-serif" font-size="22" fill="${dark}">${escapeXml(title)}</text>
</svg>`
}
