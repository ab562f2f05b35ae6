// A cookie-keeping HTTP client for tests: sends the session cookie and the CSRF token like a browser app would.

export interface ApiResponse<T = any> {
  status: number
  headers: Headers
  body: T
}

export class ApiClient {
  private cookies = new Map<string, string>()
  csrfToken: string | null = null
  bearer: string | null = null

  constructor(
    readonly baseUrl: string,
    /** Sent with every request (a per-request header of the same name wins). */
    readonly defaultHeaders: Record<string, string> = {},
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts: { headers?: Record<string, string>; raw?: string; csrf?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...opts.headers }
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`
    if (this.csrfToken && opts.csrf !== false && method !== 'GET') headers['x-csrf-token'] ??= this.csrfToken
    let payload: string | undefined
    if (opts.raw !== undefined) {
      payload = opts.raw
      headers['content-type'] ??= 'application/json'
    } else if (body !== undefined) {
      payload = JSON.stringify(body)
      headers['content-type'] = 'application/json'
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body: payload, redirect: 'manual' })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const [name, ...rest] = (pair ?? '').split('=')
      if (!name) continue
      const value = rest.join('=')
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name.trim())
      else this.cookies.set(name.trim(), value)
    }
    const text = await res.text()
    let parsed: unknown = text
    if (res.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text)
    const result = { status: res.status, headers: res.headers, body: parsed as T }
    const maybe = parsed as { csrfToken?: string } | null
    if (maybe && typeof maybe === 'object' && typeof maybe.csrfToken === 'string') this.csrfToken = maybe.csrfToken
    return result
  }

  get<T = any>(path: string, opts?: { headers?: Record<string, string> }) {
    return this.request<T>('GET', path, undefined, opts)
  }
  post<T = any>(path: string, body?: unknown, opts?: { headers?: Record<string, string>; csrf?: boolean }) {
    return this.request<T>('POST', path, body, opts)
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body)
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body)
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path)
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name)
  }
}
