/**
 * The web client's file browser pages: folder listing (breadcrumbs, sort,
 * search, paging), download, inline preview of images, video, audio and text
 * (forced safe content types), and the small text editor. Every file access
 * goes through a `common` session of the user (protocol HTTP).
 */
import { FsError } from '../../../common/errors';
import { vdir, vjoin } from '../../../common/vpath';
import { sendFile } from '../../routes/user/files';
import { receiveFile } from '../../routes/user/upload';
import { userPath } from '../../routes/user/session';
import type { ClientApp } from './app';
import { breadcrumbs, listingPage, previewKind, TooManyEntriesError, type ListingQuery } from './listing';

/** files the editor opens */
export const MAX_EDIT_SIZE = 512 * 1024;

const INLINE_TYPES: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.bmp': 'image/bmp', '.ico': 'image/x-icon', '.mp4': 'video/mp4', '.webm': 'video/webm', '.ogv': 'video/ogg',
  '.mov': 'video/quicktime', '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg', '.wav': 'audio/wav', '.m4a': 'audio/mp4', '.flac': 'audio/flac',
};

function inlineTypeOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot).toLowerCase() : '';
  if (INLINE_TYPES[ext]) return INLINE_TYPES[ext];
  // text of any kind (html included) is shown as plain text, never rendered
  return previewKind(name) === 'text' ? 'text/plain; charset=utf-8' : undefined;
}

async function readSmall(ops: Awaited<ReturnType<ClientApp['fileSession']>>, vpath: string): Promise<string> {
  const st = await ops.stat(vpath);
  if (!st.isFile) throw new FsError('IsDirectory', `"${vpath}" is not a file`);
  if (st.size > MAX_EDIT_SIZE) throw new FsError('Unsupported', `files larger than ${MAX_EDIT_SIZE / 1024} KiB cannot be edited here`);
  const dl = await ops.openRead(vpath);
  const chunks: Buffer[] = [];
  try {
    for await (const c of dl.createReadStream(0)) chunks.push(c as Buffer);
  } catch (e) {
    await dl.close(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
  await dl.close();
  return Buffer.concat(chunks).toString('utf8');
}

export function registerClientFiles(c: ClientApp): void {
  c.app.get('/', { config: { auth: 'none' } }, async (_req, reply) => reply.redirect('/web/client/files', 302));

  c.get<ListingQuery & { path?: string }>('/files', async (r, q) => {
    const ops = await c.fileSession(r);
    const dir = userPath(ops, q.path);
    try {
      const st = await ops.stat(dir);
      if (!st.isDirectory) return r.reply.redirect(`/web/client/download?path=${encodeURIComponent(dir)}`, 303);
      const listing = await listingPage(ops, dir, q);
      return c.page(r, 'files', {
        title: 'Files', nav: 'files', dir, crumbs: breadcrumbs(dir), listing, vjoin, previewKind,
        canWrite: !r.user.filters?.web_client?.includes('write-disabled'),
        canShare: !r.user.filters?.web_client?.includes('shares-disabled'),
      });
    } catch (e) {
      if (e instanceof TooManyEntriesError) return c.errorPage(r.reply, 400, 'Folder too large', e.message, r);
      if (e instanceof FsError && dir !== '/') return c.errorPage(r.reply, e.kind === 'NotFound' ? 404 : 403, 'Cannot open this folder', e.message, r);
      throw e;
    }
  });

  c.get<{ path?: string }>('/download', async (r, q) => {
    const ops = await c.fileSession(r);
    await sendFile(ops, r.req, r.reply, userPath(ops, q.path));
  });

  c.get<{ path?: string }>('/inline', async (r, q) => {
    const ops = await c.fileSession(r);
    const file = userPath(ops, q.path);
    const type = inlineTypeOf(file);
    if (!type) return c.errorPage(r.reply, 400, 'No preview', 'This kind of file cannot be shown in the browser.', r);
    await sendFile(ops, r.req, r.reply, file, type);
  });

  c.get<{ path?: string }>('/preview', async (r, q) => {
    const ops = await c.fileSession(r);
    const file = userPath(ops, q.path);
    const kind = previewKind(file);
    if (!kind) return c.errorPage(r.reply, 400, 'No preview', 'This kind of file cannot be shown in the browser.', r);
    const st = await ops.stat(file);
    const text = kind === 'text' ? await readSmall(ops, file) : undefined;
    return c.page(r, 'preview', { title: st.name, nav: 'files', file, dir: vdir(file), crumbs: breadcrumbs(vdir(file)), kind, text });
  });

  c.get<{ path?: string }>('/edit', async (r, q) => {
    const ops = await c.fileSession(r);
    const file = userPath(ops, q.path);
    const text = await readSmall(ops, file);
    return c.page(r, 'edit', { title: `Edit ${file.split('/').pop() ?? ''}`, nav: 'files', file, dir: vdir(file), crumbs: breadcrumbs(vdir(file)), text });
  }, { deny: 'write-disabled' });

  c.post('/edit', async (r, form) => {
    const ops = await c.fileSession(r);
    const file = userPath(ops, form.str('path'));
    const content = Buffer.from(form.str('content', false).replace(/\r\n/g, '\n'), 'utf8');
    if (content.length > MAX_EDIT_SIZE) return c.errorPage(r.reply, 413, 'Too large', 'The text is too large for the editor.', r);
    await receiveFile(ops, file, [content]);
    return c.done(r, `/files?path=${encodeURIComponent(vdir(file))}`, `"${file}" saved.`);
  }, { deny: 'write-disabled', bodyLimit: MAX_EDIT_SIZE * 4 });
}
