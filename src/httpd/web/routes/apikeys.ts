/**
 * API keys (list, create, delete). The plain key is rendered once, in the
 * page answering the creation POST (no redirect: the key must never travel in
 * a flash cookie), as SFTPGo shows it only in the creation response.
 */
import type { FastifyReply } from 'fastify';
import { FsError } from '../../../common/errors';
import type { ApiKey } from '../../../dataprovider/models';
import { isValidationError } from '../../../dataprovider/validation';
import { loadAll } from '../listing';
import type { WebApp, WebRequest } from '../webapp';

const PERMS = ['manage_apikeys'] as const;

export function registerApiKeyPages(w: WebApp): void {
  const { ctx, views } = w;
  const provider = ctx.provider;

  const render = async (r: WebRequest, extra: { created?: { name: string; key: string }; error?: string; status?: number } = {}): Promise<FastifyReply> => {
    const keys: ApiKey[] = await loadAll((o) => provider.listApiKeys(o));
    const rows = keys.map(({ key: _hash, ...k }) => k).sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0));
    const page = extra.error ? { ...r.page, flash: { kind: 'error' as const, text: extra.error } } : r.page;
    return views.send(r.reply, 'apikeys', page, { title: 'API keys', nav: 'apikeys', keys: rows, created: extra.created, now: Date.now() }, extra.status ?? 200);
  };

  w.get('/apikeys', PERMS, async (r) => render(r));

  w.post('/apikeys', PERMS, async (r, _p, form) => {
    const scope = form.str('scope') === '2' ? 2 : 1;
    const owner = form.str('owner');
    try {
      const expires = form.date('expires_at', 'Expiration');
      const input: Record<string, unknown> = { name: form.str('name'), scope, description: form.str('description') };
      if (expires > 0) input['expires_at'] = expires;
      if (owner !== '') input[scope === 1 ? 'admin' : 'user'] = owner;
      const { apiKey, key } = await provider.addApiKey(input, r.executor);
      ctx.logger.info('httpd', `API key "${apiKey.name}" (${apiKey.key_id}) created from the web admin`, { executor: r.admin.username });
      return await render(r, { created: { name: apiKey.name, key } });
    } catch (e) {
      if (isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic')) return render(r, { error: e.message, status: 400 });
      throw e;
    }
  });

  w.post<{ id: string }>('/apikeys/:id/delete', PERMS, async (r, p) => {
    try {
      await provider.deleteApiKey(p.id, r.executor);
    } catch (e) {
      if (e instanceof FsError && e.kind === 'NotFound') return w.done(r, '/apikeys', 'The API key does not exist.', 'error');
      throw e;
    }
    return w.done(r, '/apikeys', 'API key deleted.');
  });
}
