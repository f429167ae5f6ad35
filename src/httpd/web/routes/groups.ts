/**
 * Groups (manage_groups) and roles (manage_roles): list, add, edit, delete.
 * The group form edits what most groups set (home template, quota,
 * sessions, expiry, permissions, folders, denied protocols); every other
 * stored setting is kept from the stored group.
 */
import type { Group, GroupUserSettings, ProtocolName, Role } from '../../../dataprovider/models';
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import type { Form } from '../form';
import { loadAll, paginate } from '../listing';
import { foldersFrom, PERMISSION_CHOICES, permissionsFrom, PROTOCOL_CHOICES } from '../user-form';
import type { WebApp, WebRequest } from '../webapp';

const GROUP_PERMS = ['manage_groups'] as const;
const ROLE_PERMS = ['manage_roles'] as const;

export function groupFromForm(form: Form, base: Group | undefined): Group {
  const settings: GroupUserSettings = {
    ...(base?.user_settings ?? {}),
    home_dir: form.str('home_dir'),
    max_sessions: form.int('max_sessions', 'Max sessions'),
    quota_size: form.size('quota_size', 'Quota size'),
    quota_files: form.int('quota_files', 'Quota files'),
    expires_in: form.int('expires_in', 'Expires in'),
    permissions: permissionsFrom(form),
    filters: { ...(base?.user_settings.filters ?? {}), denied_protocols: form.all('denied_protocols') as ProtocolName[] },
  };
  return { ...(base ?? {}), name: form.str('name'), description: form.str('description'), user_settings: settings,
    // the stored mounts: the form has no subpath field, an unchanged mount keeps its subpath
    virtual_folders: foldersFrom(form, base?.virtual_folders) };
}

const isFormError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic');

export function registerGroupPages(w: WebApp): void {
  const { ctx, views } = w;
  const groups = ctx.provider.groups;

  const renderForm = async (r: WebRequest, mode: 'add' | 'edit', group: Group, error?: string, status = 200) => {
    const folders = await loadAll((o) => ctx.provider.listFolders(o));
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const action = mode === 'add' ? '/web/admin/group' : `/web/admin/group/${encodeURIComponent(group.name)}`;
    return views.send(r.reply, 'group', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add group' : `Edit group ${group.name}`, nav: 'groups', mode, group, action,
      folders: folders.map((f) => f.name), permissions: PERMISSION_CHOICES, protocols: PROTOCOL_CHOICES,
    }, status);
  };
  const missing = (r: WebRequest, name: string) =>
    w.errorPage(r.reply, 404, 'Not found', `Group "${name}" does not exist.`, r.admin, r.page.csrf);

  w.get('/groups', GROUP_PERMS, async (r, _p, query) => {
    const all = await loadAll((o) => groups.listGroups(o));
    const list = paginate<Group>(all, query, (g) => `${g.name} ${g.description ?? ''}`, {
      name: (g) => g.name,
      members: (g) => (g.users ?? []).length,
    }, 'name');
    return views.send(r.reply, 'groups', r.page, { title: 'Groups', nav: 'groups', list });
  });

  w.get('/group', GROUP_PERMS, async (r) => renderForm(r, 'add', { name: '', user_settings: {} }));

  w.post('/group', GROUP_PERMS, async (r, _p, form) => {
    let input: Group = { name: form.str('name'), user_settings: {} };
    try {
      input = groupFromForm(form, undefined);
      const g = await groups.addGroup(input, r.executor);
      return w.done(r, '/groups', `Group "${g.name}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'add', input, e.message, 400);
      throw e;
    }
  });

  w.get<{ name: string }>('/group/:name', GROUP_PERMS, async (r, p) => {
    const g = await groups.getGroup(p.name);
    return g ? renderForm(r, 'edit', g) : missing(r, p.name);
  });

  w.post<{ name: string }>('/group/:name', GROUP_PERMS, async (r, p, form) => {
    const existing = await groups.getGroup(p.name);
    if (!existing) return missing(r, p.name);
    let input: Group = existing;
    try {
      input = { ...groupFromForm(form, existing), name: existing.name };
      await groups.updateGroup(existing.name, input, r.executor);
      return w.done(r, '/groups', `Group "${existing.name}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'edit', input, e.message, 400);
      throw e;
    }
  });

  w.post<{ name: string }>('/group/:name/delete', GROUP_PERMS, async (r, p) => {
    try {
      await groups.deleteGroup(p.name, r.executor);
    } catch (e) {
      if (isFormError(e)) return w.done(r, '/groups', e.message, 'error');
      throw e;
    }
    return w.done(r, '/groups', `Group "${p.name}" deleted.`);
  });
}

export function registerRolePages(w: WebApp): void {
  const { ctx, views } = w;
  const groups = ctx.provider.groups;

  const renderForm = (r: WebRequest, mode: 'add' | 'edit', role: Role, error?: string, status = 200) => {
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const action = mode === 'add' ? '/web/admin/role' : `/web/admin/role/${encodeURIComponent(role.name)}`;
    return views.send(r.reply, 'role', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add role' : `Edit role ${role.name}`, nav: 'roles', mode, role, action,
    }, status);
  };

  w.get('/roles', ROLE_PERMS, async (r, _p, query) => {
    const all = await loadAll((o) => groups.listRoles(o));
    const list = paginate<Role>(all, query, (x) => `${x.name} ${x.description ?? ''}`, { name: (x) => x.name }, 'name');
    return views.send(r.reply, 'roles', r.page, { title: 'Roles', nav: 'roles', list });
  });

  w.get('/role', ROLE_PERMS, async (r) => renderForm(r, 'add', { name: '' }));

  w.post('/role', ROLE_PERMS, async (r, _p, form) => {
    const input: Role = { name: form.str('name'), description: form.str('description') };
    try {
      const role = await groups.addRole(input, r.executor);
      return w.done(r, '/roles', `Role "${role.name}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'add', input, e.message, 400);
      throw e;
    }
  });

  w.get<{ name: string }>('/role/:name', ROLE_PERMS, async (r, p) => {
    const role = await groups.getRole(p.name);
    if (!role) return w.errorPage(r.reply, 404, 'Not found', `Role "${p.name}" does not exist.`, r.admin, r.page.csrf);
    return renderForm(r, 'edit', role);
  });

  w.post<{ name: string }>('/role/:name', ROLE_PERMS, async (r, p, form) => {
    const existing = await groups.getRole(p.name);
    if (!existing) return w.errorPage(r.reply, 404, 'Not found', `Role "${p.name}" does not exist.`, r.admin, r.page.csrf);
    const input: Role = { ...existing, description: form.str('description') };
    try {
      await groups.updateRole(existing.name, input, r.executor);
      return w.done(r, '/roles', `Role "${existing.name}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderForm(r, 'edit', input, e.message, 400);
      throw e;
    }
  });

  w.post<{ name: string }>('/role/:name/delete', ROLE_PERMS, async (r, p) => {
    try {
      await groups.deleteRole(p.name, r.executor);
    } catch (e) {
      if (isFormError(e)) return w.done(r, '/roles', e.message, 'error');
      throw e;
    }
    return w.done(r, '/roles', `Role "${p.name}" deleted.`);
  });
}
