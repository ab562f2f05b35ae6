// The package ships types (lib/index.d.ts) but its package.json "exports" does not point to them for ESM imports.
declare module 'mongodb-connection-string-url' {
  export class ConnectionString {
    constructor(uri: string)
    hosts: string[]
  }
}
