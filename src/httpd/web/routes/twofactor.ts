/**
 * The second step of the web admin login (SFTPGo's /web/admin/twofactor and
 * /web/admin/twofactor-recovery): reachable only with the half-login cookie
 * the password step sets for an admin with TOTP. A passcode (replays refused)
 * or an unused recovery code (spent on use) turns it into a full session.
 * Failures count towards the per-IP login limit and are logged as
 * connection_failed, like password failures.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Admin } from '../../../dataprovider/models';
import { ipAllowed } from '../../ipfilter';
import { Form } from '../form';
import { CSRF_FIELD, type SessionClaims } from '../session';
import { BASE, type WebApp } from '../webapp';
import { landingPage } from './auth';

type Step = 'twofactor' | 'twofactor-recovery';

export function registerTwoFactorPages(w: WebApp): void {
  const { app, ctx, sessions, views } = w;
  const csrfOf = (s: SessionClaims): string => sessions.csrfFor(`partial:${s.sid}`);

  const render = (reply: FastifyReply, step: Step, s: SessionClaims, error?: string, status = 200): FastifyReply =>
    views.send(reply, step === 'twofactor' ? 'twofactor' : 'twofactor_recovery', { csrf: csrfOf(s), flash: error ? { kind: 'error', text: error } : undefined },
      { title: 'Two-factor authentication', username: s.username }, status);

  /** The admin behind the half login, still allowed to log in from here with TOTP on. */
  const pending = async (req: FastifyRequest): Promise<{ s: SessionClaims; admin: Admin } | undefined> => {
    const s = await sessions.readPartial(req);
    if (!s) return undefined;
    const admin = await ctx.provider.getAdmin(s.username);
    if (!admin || admin.status !== 1 || !ipAllowed(req.ip, admin.filters?.allow_list) || !admin.filters?.totp_config?.enabled) return undefined;
    return { s, admin };
  };

  for (const step of ['twofactor', 'twofactor-recovery'] as const) {
    app.get(`/${step}`, { config: { auth: 'none' } }, async (req, reply) => {
      const p = await pending(req);
      if (!p) return reply.redirect(`${BASE}/login`, 303);
      return render(reply, step, p.s);
    });

    app.post(`/${step}`, { config: { auth: 'none' } }, async (req, reply) => {
      const ip = req.ip;
      const p = await pending(req);
      if (!p) return reply.redirect(`${BASE}/login`, 303);
      const form = Form.of(req.body);
      if (w.limiter.isBlocked(ip)) return render(reply, step, p.s, 'Too many failed login attempts from your address: please wait a few minutes and try again.', 429);
      if (!sessions.checkCsrf(`partial:${p.s.sid}`, form.str(CSRF_FIELD))) return render(reply, step, p.s, 'The form token is missing or expired: please try again.', 403);
      let accepted: boolean;
      let why: string;
      if (step === 'twofactor') {
        const code = form.str('passcode');
        let check: string;
        try {
          check = code === '' ? 'missing' : await ctx.provider.secrets.checkPasscode(p.admin.filters?.totp_config, code);
        } catch (e) {
          ctx.logger.error('httpd', `admin "${p.admin.username}": unable to decrypt the TOTP secret: ${(e as Error).message}`);
          return w.errorPage(reply, 500, 'Internal error', 'The two-factor secret cannot be read; the details are in the log.');
        }
        accepted = check === 'ok';
        why = check === 'replayed' ? 'TOTP passcode already used' : 'invalid TOTP passcode';
      } else {
        accepted = await ctx.provider.useRecoveryCode('admin', p.admin.username, form.str('recovery_code'));
        why = 'invalid or already used recovery code';
      }
      if (!accepted) {
        w.limiter.recordFailure(ip);
        ctx.logger.connectionFailed({ clientIp: ip, username: p.admin.username, loginType: 'password', protocol: 'HTTP', error: why });
        return render(reply, step, p.s, step === 'twofactor' ? 'Invalid passcode.' : 'Invalid recovery code.', 401);
      }
      w.limiter.recordSuccess(ip);
      await sessions.revoke(p.s);
      ctx.logger.info('httpd', 'web admin login', { username: p.admin.username, ip, second_factor: step === 'twofactor' ? 'totp' : 'recovery code' });
      await sessions.start(reply, req, p.admin.username);
      return reply.redirect(landingPage(p.admin), 303);
    });
  }
}
