/**
 * The "forgot password" pages of both web UIs (SFTPGo's paths):
 * GET/POST <base>/forgot-password asks for the username and mails a code,
 * GET/POST <base>/reset-password takes the code and the new password. They
 * exist only when the smtp section can send mail; forms carry the pre-login
 * CSRF token and go through the UI's login throttle. The rules are httpd/pwreset.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../common/context';
import { ApiError } from '../errors';
import { type AccountKind, passwordResetAvailable, requestPasswordReset, resetPasswordWithCode, type ResetCodes } from '../pwreset';
import type { LoginLimiter } from '../ratelimit';
import { Form } from './form';
import { CSRF_FIELD } from './session';

type Flash = { kind: string; text: string } | undefined;

export interface ResetPagesUi {
  app: FastifyInstance;
  ctx: ServerContext;
  kind: AccountKind;
  /** where the UI lives (/web/admin, /web/client) */
  base: string;
  codes: ResetCodes;
  limiter: LoginLimiter;
  sessions: {
    preLoginToken(req: FastifyRequest, reply: FastifyReply): string;
    checkPreLogin(req: FastifyRequest, submitted: unknown): boolean;
    setFlash(reply: FastifyReply, kind: 'success' | 'error', text: string): void;
    takeFlash(req: FastifyRequest, reply: FastifyReply): Flash;
  };
  /** renders one of the UI's templates with its CSRF token and flash */
  render(reply: FastifyReply, name: string, page: { csrf: string; flash: Flash }, data: Record<string, unknown>, status: number): FastifyReply;
}

export function registerResetPages(ui: ResetPagesUi): void {
  if (!passwordResetAvailable(ui.ctx)) return;
  const { app, sessions } = ui;
  const cfg = { config: { auth: 'none' as const } };
  const page = (req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, error?: string, status = 200): FastifyReply =>
    ui.render(reply, name, { csrf: sessions.preLoginToken(req, reply), flash: error ? { kind: 'error', text: error } : sessions.takeFlash(req, reply) }, data, status);
  const refusal = (e: unknown): { text: string; status: number } => {
    if (e instanceof ApiError) return { text: e.message, status: e.statusCode };
    throw e;
  };

  app.get('/forgot-password', cfg, async (req, reply) => page(req, reply, 'forgot_password', { title: 'Forgot password', username: '' }));

  app.post('/forgot-password', cfg, async (req, reply) => {
    const form = Form.of(req.body);
    const username = form.str('username');
    const again = (text: string, status: number): FastifyReply => page(req, reply, 'forgot_password', { title: 'Forgot password', username }, text, status);
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) return again('The form expired, please try again.', 403);
    if (ui.limiter.isBlocked(req.clientIp)) return again('Too many failed attempts, retry later.', 429);
    try {
      await requestPasswordReset(ui.ctx, ui.codes, ui.kind, username, req.clientIp);
    } catch (e) {
      const r = refusal(e);
      return again(r.text, r.status);
    }
    sessions.setFlash(reply, 'success', 'If the account exists and has an email address, a confirmation code was sent to it.');
    return reply.redirect(`${ui.base}/reset-password`, 303);
  });

  app.get('/reset-password', cfg, async (req, reply) => page(req, reply, 'reset_password', { title: 'Reset password' }));

  app.post('/reset-password', cfg, async (req, reply) => {
    const form = Form.of(req.body);
    const again = (text: string, status: number): FastifyReply => page(req, reply, 'reset_password', { title: 'Reset password' }, text, status);
    if (!sessions.checkPreLogin(req, form.str(CSRF_FIELD))) return again('The form expired, please try again.', 403);
    if (ui.limiter.isBlocked(req.clientIp)) return again('Too many failed attempts, retry later.', 429);
    try {
      await resetPasswordWithCode(ui.ctx, ui.codes, ui.kind, {
        code: form.str('code'), password: form.str('password', false), confirm: form.str('confirm_password', false),
      }, req.clientIp);
    } catch (e) {
      const r = refusal(e);
      // a wrong or expired code counts against the address like a wrong password
      if (r.status === 401 || r.status === 403) ui.limiter.recordFailure(req.clientIp);
      return again(r.text, r.status);
    }
    sessions.setFlash(reply, 'success', 'Password reset, you can now log in with the new password.');
    return reply.redirect(`${ui.base}/login`, 303);
  });
}
