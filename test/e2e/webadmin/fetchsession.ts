/**
 * A minimal cookie-keeping web admin client over fetch (no browser): logs in
 * through the real login form (pre-session CSRF cookie), reads pages, and
 * posts forms with the page's CSRF token, as the browser would.
 */
export interface WebPage { status: number; text: string; location: string | null }

export class WebSession {
  private readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  private header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<WebPage> {
    const res = await fetch(this.base + path, { headers: { cookie: this.header() }, redirect: 'manual' });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  }

  async post(path: string, fields: Record<string, string>): Promise<WebPage> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { cookie: this.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  }

  /** The CSRF token embedded in a page's forms. */
  static csrf(html: string): string {
    const m = /name="_form_token" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('no form token in the page');
    return m[1];
  }

  /** GETs the page, then posts `fields` plus its CSRF token to `action`. */
  async submit(page: string, action: string, fields: Record<string, string> = {}): Promise<WebPage> {
    const p = await this.get(page);
    if (p.status !== 200) throw new Error(`GET ${page}: ${p.status}`);
    return this.post(action, { ...fields, _form_token: WebSession.csrf(p.text) });
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.submit('/web/admin/login', '/web/admin/login', { username, password });
    if (r.status !== 303) throw new Error(`login failed: ${r.status} ${r.text.slice(0, 200)}`);
  }
}
