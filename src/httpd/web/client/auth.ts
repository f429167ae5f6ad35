/**
 * Web client login: password (through the one user credential check,
 * userauth.ts, with the passcode deferred to a second page), then the TOTP
 * passcode or a recovery code when the user's TOTP covers HTTP; logout.
 * httpd.bindings[].disabled_login_methods bit 8 turns the login form off.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { passwordResetAvailable } from '../../pwreset';
import { authenticateHttpUser, verifyHttpUserPasscode } from '../../userauth';
import { Form } from '../form';
import type { ClientApp } from './app';
import { CSRF_FIELD } from './app';
import { CLIENT_BASE } from './session';

const DISABLED_CLIENT_LOGIN_FORM = 8;

export function registerClientAuth(c: ClientApp): void {
  const { app, sessions, ctx } = c;
  const formDisabled = (c.binding.disabled_login_methods & DISABLED_CLIENT_LOGIN_FORM) !== 0;
  const adminLink = c.binding.enable_web_admin !== false && (c.binding.hide_login_url & 2) === 0;

  const loginPage = (req: FastifyRequest, reply: FastifyReply, data: { username?: string; error?: string }, status = 200): FastifyReply =>
    c.render(reply, 'login', {
      title: 'Sign in', csrf: sessions.preLoginToken(req, reply), username: data.username ?? '', formDisabled, adminLink, oidcLogin: c.oidc !== undefined,
      forgotLink: passwordResetAvailable(ctx),
      flash: data.error ? { kind: 'error', text: data.error } : sessions.takeFlash(req, reply),
    }, status);

  app.get('/login', { config: { auth: 'none' } }, async (req, reply) => {
    if (await c.authenticate(req)) return reply.redirect(`${CLIENT_BASE}/files`, 303);
    return loginPage(req, reply, {});
  });

  app.post('/login', { config: { auth: 'none' } }, async (req, reply) => {
    const form = Form.of(req.body);
    const username = form.str('username');
    if (formDisabled) return loginPage(req, reply, { error: 'The login form is disabled on this server.' }, 403);
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) return loginPage(req, reply, { username, error: 'The form expired, please try again.' }, 403);
    if (c.limiter.isBlocked(req.clientIp)) return loginPage(req, reply, { username, error: 'Too many failed attempts, retry later.' }, 429);
    const res = await authenticateHttpUser(ctx, { username, password: form.str('password', false), ip: req.clientIp, deferTotp: true });
    if (!res.ok) {
      c.limiter.recordFailure(req.clientIp);
      return loginPage(req, reply, { username, error: res.status === 500 ? 'Internal error, the details are in the log.' : 'Invalid credentials.' }, res.status);
    }
    if (res.pendingTotp) {
      await sessions.startPartial(reply, req, res.user.username);
      return reply.redirect(`${CLIENT_BASE}/twofactor`, 303);
    }
    c.limiter.recordSuccess(req.clientIp);
    await sessions.start(reply, req, res.user.username);
    return reply.redirect(`${CLIENT_BASE}/files`, 303);
  });

  const twofactorPage = async (req: FastifyRequest, reply: FastifyReply, recovery: boolean, error?: string, status = 200): Promise<FastifyReply> => {
    const partial = await sessions.readPartial(req);
    if (!partial) return reply.redirect(`${CLIENT_BASE}/login`, 303);
    return c.render(reply, 'twofactor', {
      title: 'Two-factor authentication', csrf: sessions.csrfFor(partial.sid), recovery, username: partial.username,
      flash: error ? { kind: 'error', text: error } : undefined,
    }, status);
  };

  app.get('/twofactor', { config: { auth: 'none' } }, async (req, reply) => twofactorPage(req, reply, false));
  app.get('/twofactor-recovery', { config: { auth: 'none' } }, async (req, reply) => twofactorPage(req, reply, true));

  for (const recovery of [false, true]) {
    app.post(recovery ? '/twofactor-recovery' : '/twofactor', { config: { auth: 'none' } }, async (req, reply) => {
      const partial = await sessions.readPartial(req);
      if (!partial) return reply.redirect(`${CLIENT_BASE}/login`, 303);
      const form = Form.of(req.body);
      if (!sessions.checkCsrf(partial.sid, form.str(CSRF_FIELD))) return twofactorPage(req, reply, recovery, 'The form expired, please try again.', 403);
      if (c.limiter.isBlocked(req.clientIp)) return twofactorPage(req, reply, recovery, 'Too many failed attempts, retry later.', 429);
      const res = await verifyHttpUserPasscode(ctx, partial.username, form.str(recovery ? 'recovery_code' : 'passcode'), req.clientIp, recovery);
      if (!res.ok) {
        c.limiter.recordFailure(req.clientIp);
        if (res.status !== 401) {
          await sessions.revoke(partial);
          return c.render(reply, 'error', { title: 'Login refused', status: res.status, text: 'The login cannot be completed.' }, res.status);
        }
        return twofactorPage(req, reply, recovery, recovery ? 'Invalid recovery code.' : 'Invalid passcode.', 401);
      }
      c.limiter.recordSuccess(req.clientIp);
      await sessions.revoke(partial);
      await sessions.start(reply, req, res.user.username);
      return reply.redirect(`${CLIENT_BASE}/files`, 303);
    });
  }

  c.post('/logout', async (r) => {
    await sessions.end(r.reply, r.session);
    c.oidc?.loggedOut(r.session.sid);
    return r.reply.redirect(`${CLIENT_BASE}/login`, 303);
  });
}
