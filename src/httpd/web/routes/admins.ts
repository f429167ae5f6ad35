/** Admins ("managers"): list, add, edit, delete (manage_admins). An admin cannot delete or demote itself here. */
import type { Admin, AdminPermission } from '../../../dataprovider/models';
import { ADMIN_PERMISSIONS, isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import { loadAll, paginate } from '../listing';
import type { Form } from '../form';
import type { WebApp, WebRequest } from '../webapp';

const PERMS = ['manage_admins'] as const;

interface AdminInput extends Admin { password?: string }

function adminFromForm(form: Form, base: Admin | undefined): AdminInput {
  const a: AdminInput = {
    ...(base ?? {}),
    status: form.str('status') === '0' ? 0 : 1,
    username: form.str('username'),
    email: form.str('email'),
    description: form.str('description'),
    additional_info: form.str('additional_info'),
    permissions: form.all('permissions') as AdminPermission[],
    filters: { ...(base?.filters ?? {}), allow_list: form.csv('allow_list'), allow_api_key_auth: form.str('allow_api_key_auth') === '1' },
  };
  // a disabled select (own account) sends nothing: the stored role stays
  if (form.all('role').length > 0) a.role = form.str('role');
  delete a.password;
  const pw = form.str('password', false);
  if (pw !== '') a.password = pw;
  return a;
}

function editable(a: Admin): Admin {
  const { password: _p, id: _i, created_at: _c, updated_at: _u, last_login: _l, ...rest } = a;
  return rest;
}

export function registerAdminPages(w: WebApp): void {
  const { ctx, views } = w;
  const provider = ctx.provider;
  const isFormError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic');

  const renderForm = async (r: WebRequest, mode: 'add' | 'edit', admin: Admin, error?: string, status = 200) => {
    const roles = await loadAll((o) => provider.groups.listRoles(o));
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const action = mode === 'add' ? '/web/admin/manager' : `/web/admin/manager/${encodeURIComponent(admin.username)}`;
    return views.send(r.reply, 'manager', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add admin' : `Edit admin ${admin.username}`, nav: 'managers', mode, subject: admin, action,
      permissions: ADMIN_PERMISSIONS, roles: roles.map((x) => x.name),
    }, status);
  };

  w.get('/managers', PERMS, async (r, _p, query) => {
    const all = await loadAll((o) => provider.listAdmins(o));
    const list = paginate<Admin>(all, query, (a) => `${a.username} ${a.email ?? ''} ${a.description ?? ''}`, {
      username: (a) => a.username, status: (a) => a.status, last_login: (a) => a.last_login ?? 0,
    }, 'username');
    return views.send(r.reply, 'managers', r.page, { title: 'Admins', nav: 'managers', list });
  });

  w.get('/manager', PERMS, async (r) => renderForm(r, 'add', { status: 1, username: '', permissions: [] }));

  w.post('/manager', PERMS, async (r, _p, form) => {
    const input = adminFromForm(form, undefined);
    try {
      const a = await provider.addAdmin(input, r.executor);
      return w.done(r, '/managers', `Admin "${a.username}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'add', input, e.message, 400);
      throw e;
    }
  });

  w.get<{ username: string }>('/manager/:username', PERMS, async (r, p) => {
    const a = await provider.getAdmin(p.username);
    if (!a) return w.errorPage(r.reply, 404, 'Not found', `Admin "${p.username}" does not exist.`, r.admin, r.page.csrf);
    return renderForm(r, 'edit', editable(a));
  });

  w.post<{ username: string }>('/manager/:username', PERMS, async (r, p, form) => {
    const existing = await provider.getAdmin(p.username);
    if (!existing) return w.errorPage(r.reply, 404, 'Not found', `Admin "${p.username}" does not exist.`, r.admin, r.page.csrf);
    const input = { ...adminFromForm(form, editable(existing)), username: existing.username };
    try {
      if (existing.username === r.admin.username) {
        // locking yourself out from the form is always a mistake: keep status and permissions
        if (input.status !== 1) throw new FsError('PermissionDenied', 'you cannot disable yourself');
        if (input.permissions.join(',') !== existing.permissions.join(',')) throw new FsError('PermissionDenied', 'you cannot change your own permissions');
      }
      await provider.updateAdmin(existing.username, input, r.executor);
      return w.done(r, '/managers', `Admin "${existing.username}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'edit', input, e.message, 400);
      throw e;
    }
  });

  w.post<{ username: string }>('/manager/:username/delete', PERMS, async (r, p) => {
    if (p.username === r.admin.username) return w.done(r, '/managers', 'You cannot delete yourself.', 'error');
    try {
      await provider.deleteAdmin(p.username, r.executor);
    } catch (e) {
      if (e instanceof FsError || isValidationError(e)) return w.done(r, '/managers', e.message, 'error');
      throw e;
    }
    return w.done(r, '/managers', `Admin "${p.username}" deleted.`);
  });
}
