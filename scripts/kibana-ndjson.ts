// Writes deploy/kibana/emporium.ndjson from src/dashboards/kibana-objects.ts (a test fails while the two differ).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { kibanaSavedObjects, toNdjson } from '../src/dashboards/kibana-objects.ts'

const target = fileURLToPath(new URL('../deploy/kibana/emporium.ndjson', import.meta.url))
writeFileSync(target, toNdjson(kibanaSavedObjects()))
console.log(`wrote ${target}`)
