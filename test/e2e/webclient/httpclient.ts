/** A tiny cookie-keeping HTTP client for the web client's forms (fetch, no redirects followed). */
export class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly base: string) {}
  async req(method: string, p: string, body?: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<{ status: number; text: string; location: string; type: string; csp: string }> {
    const h: Record<string, string> = { ...headers, cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let payload: string | undefined;
    if (body) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
      payload = form.toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.base + p, { method, headers: h, body: payload, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const v = pair!.slice(i + 1);
      if (v === '') this.cookies.delete(pair!.slice(0, i)); else this.cookies.set(pair!.slice(0, i), v);
    }
    return { status: res.status, text: await res.text(), location: res.headers.get('location') ?? '', type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '' };
  }
  csrf(html: string): string {
    return /name="_form_token" value="([^"]+)"/.exec(html)?.[1] ?? '';
  }
  async login(username: string, password: string): Promise<number> {
    const page = await this.req('GET', '/web/client/login');
    const r = await this.req('POST', '/web/client/login', { _form_token: this.csrf(page.text), username, password });
    return r.status;
  }
}

