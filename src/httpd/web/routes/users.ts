/** Users: list (search/sort/paging), add, edit, clone, delete. */
import { GROUP_TYPE, type User } from '../../../dataprovider/models';
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import { loadAll, paginate } from '../listing';
import {
  editableCopy, LOGIN_METHOD_CHOICES, PERMISSION_CHOICES, PROTOCOL_CHOICES, userFromForm, type UserInput,
} from '../user-form';
import type { WebApp, WebRequest } from '../webapp';
import { STORAGE_CHOICES } from '../storage-form';

type Mode = 'add' | 'edit';

export function registerUserPages(w: WebApp): void {
  const { ctx, views } = w;
  const provider = ctx.provider;
  // an admin with a role sees and manages its role's users only: others look like missing users (as the REST API)
  const scoped = async (r: WebRequest, username: string): Promise<User | undefined> => {
    const user = await provider.getUser(username);
    return user && (!r.admin.role || user.role === r.admin.role) ? user : undefined;
  };
  const withRole = (r: WebRequest, input: UserInput): UserInput => (r.admin.role ? { ...input, role: r.admin.role } : input);

  const renderForm = async (r: WebRequest, mode: Mode, user: UserInput, error?: string, status = 200) => {
    const folders = await loadAll((o) => provider.listFolders(o));
    const groups = await loadAll((o) => provider.groups.listGroups(o));
    // an admin with a role cannot pick one: its users get its role
    const roles = r.admin.role ? [] : await loadAll((o) => provider.groups.listRoles(o));
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const action = mode === 'add' ? '/web/admin/user' : `/web/admin/user/${encodeURIComponent(user.username)}`;
    return views.send(r.reply, 'user', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add user' : `Edit user ${user.username}`, nav: 'users', mode, user, action,
      folders: folders.map((f) => f.name), groups: groups.map((g) => g.name), roles: roles.map((x) => x.name), adminRole: r.admin.role ?? '',
      storageChoices: STORAGE_CHOICES, permissions: PERMISSION_CHOICES, loginMethods: LOGIN_METHOD_CHOICES, protocols: PROTOCOL_CHOICES,
    }, status);
  };
  const isUserError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic');

  w.get('/users', ['view_users'], async (r, _p, query) => {
    const role = r.admin.role;
    const all = await loadAll((o) => provider.listUsers(role ? { ...o, role } : o));
    const list = paginate<User>(all, query, (u) => `${u.username} ${u.email ?? ''} ${u.description ?? ''}`, {
      username: (u) => u.username,
      status: (u) => u.status,
      last_login: (u) => u.last_login ?? 0,
      quota: (u) => u.used_quota_size ?? 0,
      expiration: (u) => u.expiration_date ?? 0,
    }, 'username');
    return views.send(r.reply, 'users', r.page, { title: 'Users', nav: 'users', list, now: Date.now() });
  });

  // GET /user?clone-from=<name> pre-fills the form from another user (SFTPGo's URL)
  w.get('/user', ['add_users'], async (r, _p, query) => {
    const from = query['clone-from'];
    if (from === undefined || from === '') {
      // SFTPGo's admin groups: preselected in the form of a new user (0 membership, 1 primary, 2 secondary)
      const fresh = editableCopy(undefined);
      const types = [GROUP_TYPE.membership, GROUP_TYPE.primary, GROUP_TYPE.secondary];
      fresh.groups = (r.admin.groups ?? []).map((g) => ({ name: g.name, type: types[g.options.add_to_users_as ?? 0] ?? GROUP_TYPE.membership }));
      return renderForm(r, 'add', fresh);
    }
    const src = await scoped(r, from);
    if (!src) return w.errorPage(r.reply, 404, 'Not found', `User "${from}" does not exist.`, r.admin, r.page.csrf);
    const copy = editableCopy(src);
    copy.username = '';
    return renderForm(r, 'add', copy);
  });

  w.post('/user', ['add_users'], async (r, _p, form) => {
    let input: UserInput = editableCopy(undefined);
    try {
      input = userFromForm(form, {} as UserInput);
      const user = await provider.addUser(withRole(r, input), r.executor);
      return w.done(r, '/users', `User "${user.username}" added.`);
    } catch (e) {
      if (isUserError(e)) return renderForm(r, 'add', input, e.message, 400);
      throw e;
    }
  });

  w.get<{ username: string }>('/user/:username', ['view_users'], async (r, p) => {
    const user = await scoped(r, p.username);
    if (!user) return w.errorPage(r.reply, 404, 'Not found', `User "${p.username}" does not exist.`, r.admin, r.page.csrf);
    return renderForm(r, 'edit', editableCopy(user));
  });

  w.post<{ username: string }>('/user/:username', ['edit_users'], async (r, p, form) => {
    const existing = await scoped(r, p.username);
    if (!existing) return w.errorPage(r.reply, 404, 'Not found', `User "${p.username}" does not exist.`, r.admin, r.page.csrf);
    let input = editableCopy(existing);
    try {
      input = { ...userFromForm(form, input), username: existing.username };
      const updated = await provider.updateUser(existing.username, withRole(r, input), r.executor);
      // a disabled account must not keep its open sessions (same rule as the REST API)
      if (updated.status !== 1 || form.str('disconnect') === '1') ctx.connections.closeUser(updated.username);
      return w.done(r, '/users', `User "${updated.username}" updated.`);
    } catch (e) {
      if (isUserError(e)) return renderForm(r, 'edit', input, e.message, 400);
      throw e;
    }
  });

  // one-click enable/disable from the list (SFTPGo has no dedicated endpoint either: it is a user update)
  w.post<{ username: string }>('/user/:username/status', ['edit_users'], async (r, p, form) => {
    const wanted = form.str('status');
    if (wanted !== '0' && wanted !== '1') return w.done(r, '/users', 'Invalid status.', 'error');
    const existing = await scoped(r, p.username);
    if (!existing) return w.done(r, '/users', `User "${p.username}" does not exist.`, 'error');
    const updated = await provider.updateUser(existing.username, { ...editableCopy(existing), status: Number(wanted) }, r.executor);
    const closed = updated.status !== 1 ? ctx.connections.closeUser(updated.username) : 0;
    const what = updated.status === 1 ? 'enabled' : 'disabled';
    return w.done(r, '/users', `User "${updated.username}" ${what}${closed > 0 ? ` and ${closed} session(s) closed` : ''}.`);
  });

  w.post<{ username: string }>('/user/:username/delete', ['del_users'], async (r, p) => {
    try {
      if (!(await scoped(r, p.username))) throw new FsError('NotFound', `user "${p.username}" does not exist`);
      await provider.deleteUser(p.username, r.executor);
    } catch (e) {
      if (e instanceof FsError && e.kind === 'NotFound') return w.done(r, '/users', `User "${p.username}" does not exist.`, 'error');
      throw e;
    }
    const closed = ctx.connections.closeUser(p.username);
    return w.done(r, '/users', `User "${p.username}" deleted${closed > 0 ? ` and ${closed} session(s) closed` : ''}.`);
  });
}
