/**
 * The user's shares in the web client: list (with the public link), create
 * from the file browser's selection (scope, password, expiry date, token
 * limit, allowed networks) with the REST API's rules (routes/user/shares.ts),
 * delete. Closed by filters.web_client "shares-disabled".
 */
import { vjoin } from '../../../common/vpath';
import { ValidationError } from '../../../dataprovider/validation';
import { ApiError } from '../../errors';
import { createShare } from '../../routes/user/shares';
import type { ClientApp } from './app';
import { segment } from './actions';
import { sharePath } from './session';
import { normalizeWebRoot } from '../../webroot';

export function registerClientShares(c: ClientApp): void {
  const shares = c.ctx.provider.shares;
  const opts = { deny: 'shares-disabled' as const };
  const webRoot = normalizeWebRoot(c.ctx.config.httpd.web_root);
  const linkOf = (id: string, host: string, proto: string): string => `${proto}://${host}${webRoot}${sharePath(id)}`;

  c.get('/shares', async (r) => {
    const list = await shares.list(r.user.username, { limit: 1000, order: 'ASC' });
    const host = String(r.req.headers.host ?? '');
    return c.page(r, 'shares', { title: 'Shares', nav: 'shares', shares: list.map((s) => ({ ...s, link: linkOf(s.id, host, r.req.protocol) })) });
  }, opts);

  c.get<{ path?: string; files?: string | string[] }>('/shares/add', async (r, q) => {
    const dir = typeof q.path === 'string' && q.path.startsWith('/') ? q.path : '/';
    const names = (Array.isArray(q.files) ? q.files : q.files ? [q.files] : []).map(segment).filter((n): n is string => n !== undefined);
    const paths = names.length > 0 ? names.map((n) => vjoin(dir, n)) : [dir];
    return c.page(r, 'share_add', { title: 'New share', nav: 'shares', paths: paths.join('\n'), name: '' });
  }, opts);

  c.post('/shares/add', async (r, form) => {
    const expiresDay = form.str('expires');
    const expires = expiresDay === '' ? 0 : Date.parse(`${expiresDay}T23:59:59Z`);
    if (Number.isNaN(expires)) return c.done(r, '/shares', 'Invalid expiration date.', 'error');
    const body = {
      name: form.str('name'), description: form.str('description'), scope: Number(form.str('scope') || '1'),
      paths: form.str('paths', false).split(/\r?\n/).map((p) => p.trim()).filter((p) => p !== ''),
      password: form.str('password', false), expires_at: expires,
      max_tokens: Number(form.str('max_tokens') || '0'), allow_from: form.str('allow_from').split(/[\s,]+/).filter((x) => x !== ''),
    };
    try {
      const s = await createShare(c.deps, r.user, body);
      return c.done(r, `/shares#share-${s.id}`, `Share "${s.name}" created: ${linkOf(s.id, String(r.req.headers.host ?? ''), r.req.protocol)}`);
    } catch (e) {
      if (e instanceof ValidationError || e instanceof ApiError) {
        return c.page(r, 'share_add', { title: 'New share', nav: 'shares', paths: body.paths.join('\n'), name: body.name, flash: { kind: 'error', text: e.message } }, 400);
      }
      throw e;
    }
  }, opts);

  c.post('/shares/delete', async (r, form) => {
    await shares.delete(form.str('id'), r.user.username);
    return c.done(r, '/shares', 'Share deleted.');
  }, opts);
}
