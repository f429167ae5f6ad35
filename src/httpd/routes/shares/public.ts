/**
 * The public share API (SFTPGo 2.7, no account needed): GET /api/v2/shares/{id}
 * (zip of everything shared, or the file itself with compress=false),
 * GET .../dirs and .../files to browse a shared folder, POST /api/v2/shares/{id}
 * (multipart) and POST .../{name} (raw body) for write shares. A password is
 * sent with HTTP Basic auth (any username). Tokens are spent per download or
 * uploaded file and given back when it fails.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Share } from '../../../dataprovider/shares';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import {
  browsablePath, checkBrowsable, giveBackTokens, insideShare, loadUsableShare, openShareSession, READ_SCOPES, spendTokens,
  uploadTarget, WRITE_SCOPES,
} from '../../shareaccess';
import { parseBasic } from '../api/token';
import { dirEntry, sendFile, streamZip } from '../user/files';
import { drainingOnError, limited, rawBody, receiveFile, receiveMultipart } from '../user/upload';

const tags = ['public shares'];
type IdParams = { id: string };

/** Checks the share's password (Basic auth) after scope and usability. */
async function authorizedShare(deps: HttpDeps, req: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply, scopes: readonly number[]): Promise<Share> {
  const share = await loadUsableShare(deps.ctx, req.params.id, scopes, req.clientIp);
  if (share.password) {
    const creds = parseBasic(req.headers.authorization);
    if (!creds || !(await deps.ctx.provider.shares.checkPassword(share, creds.password))) {
      if (creds) {
        deps.ctx.perimeter.loginFailed(req.clientIp, 'HTTP', 'valid_user');
        deps.ctx.logger.connectionFailed({ clientIp: req.clientIp, username: `share:${share.id}`, loginType: 'password', protocol: 'HTTPShare', error: 'invalid share password' });
      }
      void reply.header('www-authenticate', 'Basic realm="SFTPGo share"');
      throw new ApiError(401, 'Unauthorized');
    }
  }
  return share;
}

export function registerPublicShareRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { ctx } = deps;
  const cfg = { auth: 'none' as const, tags };
  const maxSize = ctx.config.httpd.max_upload_file_size;

  app.get<{ Params: IdParams; Querystring: { compress?: string } }>('/api/v2/shares/:id', {
    config: { ...cfg, summary: 'Download everything shared (zip), or the shared file with compress=false' },
  }, async (req, reply) => {
    const share = await authorizedShare(deps, req, reply, READ_SCOPES);
    const ops = await openShareSession(ctx, req, reply, share);
    const single = share.paths.length === 1 ? await ops.stat(share.paths[0]!) : undefined;
    await spendTokens(ctx, share, 1);
    if (single?.isFile && req.query.compress === 'false') {
      await sendFile(ops, req, reply, share.paths[0]!).catch(async (e: unknown) => { await giveBackTokens(ctx, share, 1); throw e; });
      return;
    }
    // a shared folder is zipped with names relative to it; several paths relative to "/"
    const baseDir = single?.isDirectory ? share.paths[0]! : '/';
    const files = single?.isDirectory ? await childrenOf(ops, share.paths[0]!) : share.paths;
    await streamZip(ops, reply, files, baseDir, `share-${share.name}`, (e) => {
      ctx.logger.warn('httpd', `share zip interrupted: ${e instanceof Error ? e.message : String(e)}`, { connection_id: ops.id });
    }, (p) => insideShare(share, p)).catch(async (e: unknown) => { await giveBackTokens(ctx, share, 1); throw e; });
  });

  app.get<{ Params: IdParams; Querystring: { path?: string } }>('/api/v2/shares/:id/dirs', {
    config: { ...cfg, summary: 'List a folder of a shared directory' },
  }, async (req, reply) => {
    const share = await authorizedShare(deps, req, reply, READ_SCOPES);
    const ops = await openShareSession(ctx, req, reply, share);
    await checkBrowsable(ops, share);
    const dir = browsablePath(share, req.query.path);
    const out: Record<string, unknown>[] = [];
    for await (const batch of ops.readDir(dir)) {
      for (const fi of batch) if (fi.isDirectory || fi.isFile) out.push(dirEntry(fi));
    }
    return out;
  });

  app.get<{ Params: IdParams; Querystring: { path?: string } }>('/api/v2/shares/:id/files', {
    config: { ...cfg, summary: 'Download a file of a shared directory' },
  }, async (req, reply) => {
    const share = await authorizedShare(deps, req, reply, READ_SCOPES);
    const ops = await openShareSession(ctx, req, reply, share);
    await checkBrowsable(ops, share);
    const file = browsablePath(share, req.query.path);
    const st = await ops.stat(file);
    if (!st.isFile) throw new ApiError(400, `Please set the path to a valid file, "${req.query.path ?? ''}" is a directory`);
    await spendTokens(ctx, share, 1);
    await sendFile(ops, req, reply, file).catch(async (e: unknown) => { await giveBackTokens(ctx, share, 1); throw e; });
  });

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => { done(null, undefined); });

    scope.post<{ Params: IdParams }>('/api/v2/shares/:id', {
      config: { ...cfg, body: 'multipart', summary: 'Upload files to a write share (multipart, field "filenames")' },
    }, async (req, reply) => drainingOnError(req, async () => {
      const share = await authorizedShare(deps, req, reply, WRITE_SCOPES);
      const ops = await openShareSession(ctx, req, reply, share);
      // a token per file, given back for the file that failed
      let pending = 0;
      try {
        const n = await receiveMultipart(ops, req, share.paths[0]!, maxSize, (name) => uploadTarget(share, name), {
          before: async () => { await spendTokens(ctx, share, 1); pending = 1; },
          stored: () => { pending = 0; },
        });
        if (n === 0) throw new ApiError(400, 'No files uploaded!');
      } finally {
        if (pending > 0) await giveBackTokens(ctx, share, pending);
      }
      return reply.code(201).send(message('Upload completed'));
    }));

    scope.post<{ Params: IdParams & { name: string } }>('/api/v2/shares/:id/:name', {
      config: { ...cfg, body: 'binary', summary: 'Upload one file to a write share, the body is its content' },
    }, async (req, reply) => drainingOnError(req, async () => {
      const share = await authorizedShare(deps, req, reply, WRITE_SCOPES);
      const file = uploadTarget(share, req.params.name);
      const ops = await openShareSession(ctx, req, reply, share);
      await spendTokens(ctx, share, 1);
      await receiveFile(ops, file, limited(rawBody(req), maxSize)).catch(async (e: unknown) => { await giveBackTokens(ctx, share, 1); throw e; });
      return reply.code(201).send(message('Upload completed'));
    }));
  });
}

async function childrenOf(ops: Awaited<ReturnType<typeof openShareSession>>, dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of ops.readDir(dir)) for (const fi of batch) out.push(dir === '/' ? `/${fi.name}` : `${dir}/${fi.name}`);
  return out;
}
