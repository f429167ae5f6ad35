/**
 * The web client's changes to files: new folder, delete (files and folders,
 * confirmed in the page), rename/move/copy, zip of a selection (streamed) and
 * uploads (multipart read from the socket, one XHR per file from the page
 * script so each file has its own progress bar). Names chosen in a folder
 * are single path segments; full targets are cleaned inside the home.
 */
import type { FastifyInstance } from 'fastify';
import { vdir, vjoin } from '../../../common/vpath';
import { streamZip } from '../../routes/user/files';
import { drainingOnError, receiveMultipart } from '../../routes/user/upload';
import { userPath } from '../../routes/user/session';
import type { ClientApp, ClientRequest } from './app';
import { breadcrumbs } from './listing';

const back = (dir: string): string => `/files?path=${encodeURIComponent(dir)}`;

/** A name typed in a folder: one segment, nothing that climbs or hides. */
export function segment(name: string): string | undefined {
  const n = name.trim();
  if (n === '' || n === '.' || n === '..' || n.length > 255 || /[/\\\0]/.test(n)) return undefined;
  return n;
}

function selected(dir: string, names: string[]): string[] | undefined {
  const out: string[] = [];
  for (const n of names) {
    const s = segment(n);
    if (!s) return undefined;
    out.push(vjoin(dir, s));
  }
  return out;
}

export function registerClientActions(c: ClientApp): void {
  const write = { deny: 'write-disabled' as const };

  c.post('/mkdir', async (r, form) => {
    const ops = await c.fileSession(r);
    const dir = userPath(ops, form.str('path'));
    const name = segment(form.str('name'));
    if (!name) return c.done(r, back(dir), 'Invalid folder name.', 'error');
    await ops.mkdir(vjoin(dir, name));
    return c.done(r, back(dir), `Folder "${name}" created.`);
  }, write);

  c.post('/delete', async (r, form) => {
    const ops = await c.fileSession(r);
    const dir = userPath(ops, form.str('path'));
    const items = selected(dir, form.all('files'));
    if (!items || items.length === 0) return c.done(r, back(dir), 'Select what to delete.', 'error');
    for (const item of items) {
      const st = await ops.lstat(item);
      if (st.isDirectory) await ops.removeAll(item); else await ops.removeFile(item);
    }
    return c.done(r, back(dir), items.length === 1 ? `"${items[0]}" deleted.` : `${items.length} items deleted.`);
  }, write);

  c.get<{ path?: string }>('/rename', async (r, q) => {
    const ops = await c.fileSession(r, false);
    const item = userPath(ops, q.path);
    await ops.lstat(item);
    return c.page(r, 'rename', { title: 'Rename, move or copy', nav: 'files', item, dir: vdir(item), crumbs: breadcrumbs(vdir(item)) });
  }, write);

  c.post('/rename', async (r, form) => {
    const ops = await c.fileSession(r);
    const item = userPath(ops, form.str('path'));
    const typed = form.str('target');
    // a bare name stays in the item's folder; a path starting with "/" moves it
    const target = typed.startsWith('/') ? userPath(ops, typed) : ops.cleanPath(typed, vdir(item));
    if (target === '/' || target === item) return c.done(r, back(vdir(item)), 'Choose another name or folder.', 'error');
    if (form.str('op') === 'copy') {
      await ops.copy(item, target);
      return c.done(r, back(vdir(target)), `"${item}" copied to "${target}".`);
    }
    await ops.rename(item, target);
    return c.done(r, back(vdir(target)), `"${item}" renamed to "${target}".`);
  }, write);

  c.post('/zip', async (r, form) => {
    const ops = await c.fileSession(r);
    const dir = userPath(ops, form.str('path'));
    const items = selected(dir, form.all('files'));
    if (!items || items.length === 0) return c.done(r, back(dir), 'Select what to download.', 'error');
    await streamZip(ops, r.reply, items, dir, r.user.username, (e) => {
      c.ctx.logger.warn('httpd', `web client zip interrupted: ${e instanceof Error ? e.message : String(e)}`, { connection_id: ops.id });
    });
  });
}

/** Uploads need the raw body: registered in a scope without body parsers. */
export function registerClientUploads(c: ClientApp, scope: FastifyInstance): void {
  const maxSize = c.ctx.config.httpd.max_upload_file_size;
  c.rawPost(scope, '/upload', async (r: ClientRequest) => drainingOnError(r.req, async () => {
    const ops = await c.fileSession(r);
    const dir = userPath(ops, (r.req.query as { path?: string }).path);
    const n = await receiveMultipart(ops, r.req, dir, maxSize);
    const wantsJson = String(r.req.headers.accept ?? '').includes('application/json');
    if (wantsJson) return r.reply.code(n > 0 ? 201 : 400).send({ message: n > 0 ? 'Upload completed' : 'No files uploaded!' });
    return c.done(r, back(dir), n > 0 ? `${n} file(s) uploaded.` : 'No files uploaded!', n > 0 ? 'success' : 'error');
  }), { deny: 'write-disabled' });
}
