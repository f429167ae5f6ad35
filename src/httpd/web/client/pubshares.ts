/**
 * Public share pages (/web/client/pubshares/{id}), for visitors without an
 * account: the share password once (a cookie scoped to that share follows),
 * then browse and download (read), an upload drop box (write), or both. The
 * rules are shareaccess.ts's, the same as the public REST API's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Share } from '../../../dataprovider/shares';
import { SHARE_SCOPE_READ, SHARE_SCOPE_READ_WRITE, SHARE_SCOPE_WRITE } from '../../../dataprovider/shares';
import { ApiError } from '../../errors';
import { dirEntry, sendFile, streamZip } from '../../routes/user/files';
import { drainingOnError, receiveMultipart } from '../../routes/user/upload';
import {
  browsablePath, checkBrowsable, giveBackTokens, insideShare, loadUsableShare, openShareSession, READ_SCOPES, spendTokens,
  uploadTarget, WRITE_SCOPES,
} from '../../shareaccess';
import { Form } from '../form';
import type { ClientApp } from './app';
import { CSRF_FIELD } from './app';
import { breadcrumbs } from './listing';
import { sharePath } from './session';

type IdParams = { id: string };
const ALL_SCOPES = [SHARE_SCOPE_READ, SHARE_SCOPE_WRITE, SHARE_SCOPE_READ_WRITE];

export function registerPublicSharePages(c: ClientApp, raw: FastifyInstance): void {
  const { app, ctx, sessions } = c;

  /** The share and this visitor's form token, or undefined after answering (login redirect). */
  const open = async (req: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply, scopes: readonly number[]): Promise<{ share: Share; csrf: string } | undefined> => {
    const share = await loadUsableShare(ctx, req.params.id, scopes, req.clientIp);
    if (!share.password) return { share, csrf: sessions.preLoginToken(req, reply) };
    const s = await sessions.readShare(req, share.id);
    if (!s) {
      void reply.redirect(`${sharePath(share.id)}/login`, 303);
      return undefined;
    }
    return { share, csrf: sessions.csrfFor(`share:${s.sid}`) };
  };
  const csrfOk = async (req: FastifyRequest, share: Share, submitted: string): Promise<boolean> => {
    if (!share.password) return sessions.checkPreLogin(req, submitted);
    const s = await sessions.readShare(req, share.id);
    return s !== undefined && sessions.checkCsrf(`share:${s.sid}`, submitted);
  };
  const cfg = { config: { auth: 'none' as const } };

  app.get<{ Params: IdParams }>('/pubshares/:id/login', cfg, async (req, reply) => {
    const share = await loadUsableShare(ctx, req.params.id, ALL_SCOPES, req.clientIp);
    return c.render(reply, 'share_login', { title: 'Shared files', share, csrf: sessions.preLoginToken(req, reply), action: `${sharePath(share.id)}/login` });
  });

  app.post<{ Params: IdParams }>('/pubshares/:id/login', cfg, async (req, reply) => {
    const share = await loadUsableShare(ctx, req.params.id, ALL_SCOPES, req.clientIp);
    const form = Form.of(req.body);
    const page = (text: string, status: number): FastifyReply => c.render(reply, 'share_login', {
      title: 'Shared files', share, csrf: sessions.preLoginToken(req, reply), action: `${sharePath(share.id)}/login`, flash: { kind: 'error', text },
    }, status);
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) return page('The form expired, please try again.', 403);
    if (c.limiter.isBlocked(req.clientIp)) return page('Too many failed attempts, retry later.', 429);
    if (!(await ctx.provider.shares.checkPassword(share, form.str('password', false)))) {
      c.limiter.recordFailure(req.clientIp);
      ctx.perimeter.loginFailed(req.clientIp, 'HTTP', 'valid_user');
      ctx.logger.connectionFailed({ clientIp: req.clientIp, username: `share:${share.id}`, loginType: 'password', protocol: 'HTTPShare', error: 'invalid share password' });
      return page('Invalid password.', 401);
    }
    await sessions.startShare(reply, req, share.id);
    return reply.redirect(sharePath(share.id), 303);
  });

  app.get<{ Params: IdParams; Querystring: { path?: string } }>('/pubshares/:id', cfg, async (req, reply) => {
    const o = await open(req, reply, ALL_SCOPES);
    if (!o) return reply;
    const { share, csrf } = o;
    const canRead = share.scope !== SHARE_SCOPE_WRITE;
    const canWrite = share.scope !== SHARE_SCOPE_READ;
    const ops = await openShareSession(ctx, req, reply, share);
    let entries: Record<string, unknown>[] = [];
    let dir = share.paths[0] ?? '/';
    let browsable = false;
    if (canRead && share.paths.length === 1 && (await ops.stat(dir)).isDirectory) {
      await checkBrowsable(ops, share);
      browsable = true;
      dir = browsablePath(share, req.query.path);
      for await (const batch of ops.readDir(dir)) for (const fi of batch) if (fi.isDirectory || fi.isFile) entries.push(dirEntry(fi));
      entries = entries.sort((a, b) => Number((b.mode as number) >= 2 ** 31) - Number((a.mode as number) >= 2 ** 31) || String(a.name).localeCompare(String(b.name)));
    }
    const base = share.paths[0] ?? '/';
    const rel = (p: string): string => (p === base ? '' : p.slice(base === '/' ? 1 : base.length + 1));
    return c.render(reply, 'pubshare', {
      title: share.name, share, csrf, canRead, canWrite, browsable, entries, rel: rel(dir), link: sharePath(share.id),
      flash: sessions.takeFlash(req, reply),
      crumbs: browsable ? breadcrumbs(rel(dir) === '' ? '/' : `/${rel(dir)}`) : [],
    });
  });

  app.get<{ Params: IdParams; Querystring: { path?: string } }>('/pubshares/:id/download', cfg, async (req, reply) => {
    const o = await open(req, reply, READ_SCOPES);
    if (!o) return reply;
    const ops = await openShareSession(ctx, req, reply, o.share);
    const single = o.share.paths.length === 1 ? await ops.stat(o.share.paths[0]!) : undefined;
    const file = single?.isFile ? o.share.paths[0]! : browsablePath(o.share, req.query.path);
    if (!single?.isFile) await checkBrowsable(ops, o.share);
    if (!(await ops.stat(file)).isFile) throw new ApiError(400, 'not a file');
    await spendTokens(ctx, o.share, 1);
    await sendFile(ops, req, reply, file).catch(async (e: unknown) => { await giveBackTokens(ctx, o.share, 1); throw e; });
  });

  app.get<{ Params: IdParams }>('/pubshares/:id/zip', cfg, async (req, reply) => {
    const o = await open(req, reply, READ_SCOPES);
    if (!o) return reply;
    const { share } = o;
    const ops = await openShareSession(ctx, req, reply, share);
    const single = share.paths.length === 1 ? await ops.stat(share.paths[0]!) : undefined;
    const files: string[] = [];
    if (single?.isDirectory) {
      for await (const batch of ops.readDir(share.paths[0]!)) for (const fi of batch) files.push(`${share.paths[0] === '/' ? '' : share.paths[0]}/${fi.name}`);
    } else files.push(...share.paths);
    await spendTokens(ctx, share, 1);
    await streamZip(ops, reply, files, single?.isDirectory ? share.paths[0]! : '/', `share-${share.name}`, (e) => {
      ctx.logger.warn('httpd', `share zip interrupted: ${e instanceof Error ? e.message : String(e)}`, { connection_id: ops.id });
    }, (p) => insideShare(share, p)).catch(async (e: unknown) => { await giveBackTokens(ctx, share, 1); throw e; });
  });

  raw.post<{ Params: IdParams; Querystring: Record<string, string> }>('/pubshares/:id/upload', cfg, async (req, reply) => drainingOnError(req, async () => {
    const o = await open(req, reply, WRITE_SCOPES);
    if (!o) return reply;
    const { share } = o;
    if (!(await csrfOk(req, share, String(req.headers['x-csrf-token'] ?? req.query[CSRF_FIELD] ?? '')))) throw new ApiError(403, 'invalid form token');
    const ops = await openShareSession(ctx, req, reply, share);
    let pending = 0;
    let n = 0;
    try {
      n = await receiveMultipart(ops, req, share.paths[0]!, ctx.config.httpd.max_upload_file_size, (name) => uploadTarget(share, name), {
        before: async () => { await spendTokens(ctx, share, 1); pending = 1; },
        stored: () => { pending = 0; },
      });
    } finally {
      if (pending > 0) await giveBackTokens(ctx, share, pending);
    }
    if (String(req.headers.accept ?? '').includes('application/json')) return reply.code(n > 0 ? 201 : 400).send({ message: n > 0 ? 'Upload completed' : 'No files uploaded!' });
    sessions.setFlash(reply, n > 0 ? 'success' : 'error', n > 0 ? `${n} file(s) uploaded, thank you.` : 'No files uploaded!');
    return reply.redirect(sharePath(share.id), 303);
  }));
}
