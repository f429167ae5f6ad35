/** The logged-in admin's own profile (email, description, API key access) and password change. */
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import type { WebApp } from '../webapp';

export function registerProfilePages(w: WebApp): void {
  const { ctx, views } = w;

  w.get('/profile', [], async (r) => views.send(r.reply, 'profile', r.page, { title: 'My profile', nav: 'profile', me: r.admin }));

  w.post('/profile', [], async (r, _p, form) => {
    const { password: _pw, ...current } = r.admin;
    const input = {
      ...current,
      email: form.str('email'),
      description: form.str('description'),
      filters: { ...(current.filters ?? {}), allow_api_key_auth: form.str('allow_api_key_auth') === '1' },
    };
    try {
      await ctx.provider.updateAdmin(r.admin.username, input, r.executor);
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) {
        return views.send(r.reply, 'profile', { ...r.page, flash: { kind: 'error', text: e.message } }, { title: 'My profile', nav: 'profile', me: input }, 400);
      }
      throw e;
    }
    return w.done(r, '/profile', 'Profile updated.');
  });

  w.get('/changepwd', [], async (r) => views.send(r.reply, 'changepwd', r.page, { title: 'Change password', nav: 'profile' }));

  w.post('/changepwd', [], async (r, _p, form) => {
    const next = form.str('new_password', false);
    const fail = (text: string) => views.send(r.reply, 'changepwd', { ...r.page, flash: { kind: 'error', text } }, { title: 'Change password', nav: 'profile' }, 400);
    if (next !== form.str('confirm_password', false)) return fail('The new passwords do not match.');
    try {
      await ctx.provider.changeAdminPassword(r.admin.username, form.str('current_password', false), next);
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) return fail(e.message);
      throw e;
    }
    ctx.logger.info('httpd', 'admin password changed from the web admin', { username: r.admin.username, ip: r.req.ip });
    return w.done(r, '/profile', 'Password changed.');
  });
}
