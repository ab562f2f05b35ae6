// The few API calls the bench makes to prepare a shop: sign in, create tokens, read the catalog, set stock.

export class ShopApi {
  constructor(
    readonly apiBase: string,
    readonly bearer?: string,
  ) {}

  withToken(token: string): ShopApi {
    return new ShopApi(this.apiBase, token)
  }

  /** Sends a request and returns the parsed body; any status outside `ok` is an error naming the call. */
  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts: { ok?: number[]; headers?: Record<string, string> } = {},
  ): Promise<{ body: T; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers }
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.apiBase + path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!(opts.ok ?? [200]).includes(res.status))
      throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`)
    return { body: (text ? JSON.parse(text) : null) as T, headers: res.headers }
  }

  /**
   * Signs in (or registers) with a password and trades the session for a personal API token, so that the load
   * itself needs no cookie and no CSRF header.
   */
  async apiTokenFor(
    how: 'login' | 'register',
    credentials: { email: string; password: string; name?: string },
  ): Promise<string> {
    const path = how === 'login' ? '/auth/login' : '/auth/register'
    const signedIn = await this.call<{ csrfToken: string }>('POST', path, credentials, {
      ok: [how === 'login' ? 200 : 201],
    })
    const cookie = signedIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const created = await this.call<{ secret: string }>(
      'POST',
      '/me/tokens',
      { name: 'bench' },
      { ok: [201], headers: { cookie, 'x-csrf-token': signedIn.body.csrfToken } },
    )
    return created.body.secret
  }
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>) {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
