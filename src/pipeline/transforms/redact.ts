// Transform `redact`: removes personal data (secrets by key, tokens, session ids, card numbers; e-mails hashed)
// once more in the pipeline, so records that reached a channel some other way are clean before indexing too.
import { createRedactor } from '../../logging/redact.ts'
import type { ComponentFactory, Transform } from '../component.ts'
import { intField, onlyKeys } from '../config-fields.ts'

export interface RedactConfig {
  emailHashLength: number
}

export const redact: ComponentFactory<RedactConfig, Transform> = {
  type: 'redact',
  defaults: () => ({ emailHashLength: 16 }),
  example: { emailHashLength: 16 },
  validate(raw, path) {
    onlyKeys(raw, path, ['type', 'emailHashLength'])
    return { emailHashLength: intField(raw, 'emailHashLength', path, this.defaults().emailHashLength, 8, 64) }
  },
  create(config): Transform {
    const redactor = createRedactor({ emailHashLength: config.emailHashLength })
    return { type: 'redact', apply: (records) => records.map(redactor) }
  },
}
