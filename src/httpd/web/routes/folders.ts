/** Virtual folders: list, add, edit, delete (manage_folders). */
import type { Folder } from '../../../dataprovider/models';
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import { loadAll, paginate } from '../listing';
import type { Form } from '../form';
import { filesystemFromForm, STORAGE_CHOICES } from '../storage-form';
import type { WebApp, WebRequest } from '../webapp';

const PERMS = ['manage_folders'] as const;

function folderFromForm(form: Form, base: Folder | undefined): Folder {
  return {
    ...(base ?? {}),
    name: form.str('name'),
    mapped_path: form.str('mapped_path'),
    description: form.str('description'),
    filesystem: filesystemFromForm(form, base?.filesystem),
  };
}

export function registerFolderPages(w: WebApp): void {
  const { ctx, views } = w;
  const provider = ctx.provider;
  const isFormError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic');

  const renderForm = (r: WebRequest, mode: 'add' | 'edit', folder: Folder, error?: string, status = 200) => {
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const action = mode === 'add' ? '/web/admin/folder' : `/web/admin/folder/${encodeURIComponent(folder.name)}`;
    return views.send(r.reply, 'folder', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add virtual folder' : `Edit folder ${folder.name}`, nav: 'folders', mode, folder, action,
      storageChoices: STORAGE_CHOICES,
    }, status);
  };

  w.get('/folders', PERMS, async (r, _p, query) => {
    const all = await loadAll((o) => provider.listFolders(o));
    const list = paginate<Folder>(all, query, (f) => `${f.name} ${f.mapped_path} ${f.description ?? ''}`, {
      name: (f) => f.name,
      path: (f) => f.mapped_path,
      quota: (f) => f.used_quota_size ?? 0,
    }, 'name');
    return views.send(r.reply, 'folders', r.page, { title: 'Virtual folders', nav: 'folders', list });
  });

  w.get('/folder', PERMS, async (r) => renderForm(r, 'add', { name: '', mapped_path: '' }));

  w.post('/folder', PERMS, async (r, _p, form) => {
    const input = folderFromForm(form, undefined);
    try {
      const f = await provider.addFolder(input, r.executor);
      return w.done(r, '/folders', `Folder "${f.name}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'add', input, e.message, 400);
      throw e;
    }
  });

  w.get<{ name: string }>('/folder/:name', PERMS, async (r, p) => {
    const f = await provider.getFolder(p.name);
    if (!f) return w.errorPage(r.reply, 404, 'Not found', `Folder "${p.name}" does not exist.`, r.admin, r.page.csrf);
    return renderForm(r, 'edit', f);
  });

  w.post<{ name: string }>('/folder/:name', PERMS, async (r, p, form) => {
    const existing = await provider.getFolder(p.name);
    if (!existing) return w.errorPage(r.reply, 404, 'Not found', `Folder "${p.name}" does not exist.`, r.admin, r.page.csrf);
    const input = { ...folderFromForm(form, existing), name: existing.name };
    try {
      await provider.updateFolder(existing.name, input, r.executor);
      return w.done(r, '/folders', `Folder "${existing.name}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'edit', input, e.message, 400);
      throw e;
    }
  });

  w.post<{ name: string }>('/folder/:name/delete', PERMS, async (r, p) => {
    try {
      await provider.deleteFolder(p.name, r.executor);
    } catch (e) {
      if (e instanceof FsError || isValidationError(e)) return w.done(r, '/folders', e.message, 'error');
      throw e;
    }
    return w.done(r, '/folders', `Folder "${p.name}" deleted.`);
  });
}
