/**
 * Login (throttled per IP, failures logged as connection_failed for
 * fail2ban), first-start setup (only while no admin exists), logout.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import type { Admin, AdminPermission } from '../../../dataprovider/models';
import { ipAllowed } from '../../ipfilter';
import { passwordResetAvailable } from '../../pwreset';
import { hasPermission } from '../../types';
import { Form } from '../form';
import { CSRF_FIELD } from '../session';
import { BASE, type WebApp } from '../webapp';

/** The first page this admin may see (a limited admin must not land on a 403). */
const LANDING: readonly [AdminPermission, string][] = [
  ['view_users', '/users'], ['manage_folders', '/folders'], ['view_conns', '/connections'], ['view_status', '/status'],
  ['manage_system', '/maintenance'], ['manage_admins', '/managers'],
];
export function landingPage(admin: Admin): string {
  return `${BASE}${LANDING.find(([perm]) => hasPermission(admin, [perm]))?.[1] ?? '/profile'}`;
}

interface AuthView { error?: string; username?: string; status?: number }

export function registerAuthPages(w: WebApp): void {
  const { app, ctx, sessions, views } = w;
  const hasAdmins = async (): Promise<boolean> => (await ctx.provider.listAdmins({ limit: 1 })).length > 0;
  const installCode = (): string => ctx.config.httpd.setup.installation_code;

  const loginPage = (req: FastifyRequest, reply: FastifyReply, v: AuthView = {}): FastifyReply => {
    const csrf = sessions.preLoginToken(req, reply);
    const flash = v.error ? { kind: 'error', text: v.error } : sessions.takeFlash(req, reply);
    return views.send(reply, 'login', { csrf, flash }, { title: 'Login', username: v.username ?? '', oidcLogin: w.opts.oidc !== undefined,
      forgotLink: w.opts.resetCodes !== undefined && passwordResetAvailable(ctx) }, v.status ?? 200);
  };
  const setupPage = (req: FastifyRequest, reply: FastifyReply, v: AuthView & { email?: string } = {}): FastifyReply => {
    const csrf = sessions.preLoginToken(req, reply);
    const flash = v.error ? { kind: 'error', text: v.error } : undefined;
    return views.send(reply, 'setup', { csrf, flash }, {
      title: 'Setup', username: v.username ?? '', email: v.email ?? '',
      needsCode: installCode() !== '', codeHint: ctx.config.httpd.setup.installation_code_hint || 'Installation code',
    }, v.status ?? 200);
  };

  app.get('/', { config: { auth: 'none' } }, async (req, reply) => {
    const auth = await w.authenticate(req);
    if (auth) return reply.redirect(landingPage(auth.admin), 302);
    return reply.redirect(`${BASE}/${(await hasAdmins()) ? 'login' : 'setup'}`, 302);
  });

  app.get('/login', { config: { auth: 'none' } }, async (req, reply) => {
    if (!(await hasAdmins())) return reply.redirect(`${BASE}/setup`, 302);
    const auth = await w.authenticate(req);
    if (auth) return reply.redirect(landingPage(auth.admin), 302);
    return loginPage(req, reply);
  });

  app.post('/login', { config: { auth: 'none' } }, async (req, reply) => {
    const ip = req.ip;
    const form = Form.of(req.body);
    const username = form.str('username');
    if (w.limiter.isBlocked(ip)) {
      return loginPage(req, reply, { username, status: 429, error: 'Too many failed login attempts from your address: please wait a few minutes and try again.' });
    }
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) {
      return loginPage(req, reply, { username, status: 403, error: 'The form token is missing or expired: please try again.' });
    }
    const failed = (reason: string, kind: 'valid_user' | 'invalid_user' = 'valid_user'): FastifyReply => {
      w.limiter.recordFailure(ip);
      // the defender counts web admin logins as it counts REST token requests
      ctx.perimeter.loginFailed(ip, 'HTTP', kind);
      ctx.logger.connectionFailed({ clientIp: ip, username, loginType: 'password', protocol: 'HTTP', error: reason });
      return loginPage(req, reply, { username, status: 401, error: 'Invalid credentials: check the username and password.' });
    };
    let admin;
    try {
      admin = await ctx.provider.checkAdminAndPass(username, form.str('password', false), ip);
    } catch (e) {
      if (e instanceof FsError || isValidationError(e)) {
        // an unknown admin scores higher (score_invalid) than a wrong password (score_valid)
        const known = await ctx.provider.getAdmin(username).catch(() => undefined);
        return failed(e.message, known ? 'valid_user' : 'invalid_user');
      }
      throw e;
    }
    if (admin.status !== 1) return failed('admin is disabled');
    if (!ipAllowed(ip, admin.filters?.allow_list)) return failed('source IP not allowed');
    if (admin.filters?.totp_config?.enabled) {
      // SFTPGo: the password opens only the passcode page (routes/twofactor.ts)
      await sessions.startPartial(reply, req, admin.username);
      return reply.redirect(`${BASE}/twofactor`, 303);
    }
    w.limiter.recordSuccess(ip);
    ctx.perimeter.loginSucceeded(ip, 'HTTP');
    ctx.logger.info('httpd', 'web admin login', { username: admin.username, ip });
    await sessions.start(reply, req, admin.username);
    return reply.redirect(landingPage(admin), 303);
  });

  app.get('/setup', { config: { auth: 'none' } }, async (req, reply) => {
    if (await hasAdmins()) return reply.redirect(`${BASE}/login`, 302);
    return setupPage(req, reply);
  });

  // one setup at a time, so two racing requests cannot both create a first admin
  let setupRunning = false;
  app.post('/setup', { config: { auth: 'none' } }, async (req, reply) => {
    const form = Form.of(req.body);
    const username = form.str('username');
    const email = form.str('email');
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) {
      return setupPage(req, reply, { username, email, status: 403, error: 'The form token is missing or expired: please try again.' });
    }
    if (setupRunning || (await hasAdmins())) return reply.redirect(`${BASE}/login`, 303);
    if (installCode() !== '' && form.str('install_code') !== installCode()) {
      return setupPage(req, reply, { username, email, status: 400, error: 'The installation code is not valid.' });
    }
    const password = form.str('password', false);
    if (password !== form.str('confirm_password', false)) {
      return setupPage(req, reply, { username, email, status: 400, error: 'The two passwords do not match.' });
    }
    setupRunning = true;
    try {
      await ctx.provider.addAdmin({ username, password, email, status: 1, permissions: ['*'] }, { username, ip: req.ip });
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) return setupPage(req, reply, { username, email, status: 400, error: e.message });
      throw e;
    } finally {
      setupRunning = false;
    }
    ctx.logger.info('httpd', 'first admin created from the web setup page', { username, ip: req.ip });
    await sessions.start(reply, req, username);
    sessions.setFlash(reply, 'success', `Welcome! The admin "${username}" has been created.`);
    return reply.redirect(`${BASE}/users`, 303);
  });

  w.post('/logout', [], async (r) => {
    await sessions.end(r.reply, r.session);
    w.opts.oidc?.loggedOut(r.session.sid);
    sessions.setFlash(r.reply, 'success', 'You have been logged out.');
    return r.reply.redirect(`${BASE}/login`, 303);
  });
}
