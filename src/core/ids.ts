// Store-independent identifiers: UUIDv7 (time-ordered) with a short type prefix, e.g. ord_01936b2e….
import { randomBytes } from 'node:crypto'
import { uuidv7 } from 'uuidv7'

export type IdPrefix = 'usr' | 'prd' | 'cat' | 'crt' | 'ord' | 'ref' | 'tok' | 'ch' | 're' | 'qry'

export const newId = (prefix: IdPrefix): string => `${prefix}_${uuidv7().replaceAll('-', '')}`

export const newEventId = (): string => uuidv7()

/** An unguessable secret for session ids, CSRF tokens and API tokens (base64url, 256 bits by default). */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url')
