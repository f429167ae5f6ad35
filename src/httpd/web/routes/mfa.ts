/**
 * Two-factor authentication of the logged-in admin (/web/admin/mfa): choose a
 * mfa.totp configuration, scan the QR code (rendered here as a PNG data URL,
 * nothing loaded from elsewhere), confirm with a passcode, then keep the 12
 * recovery codes. Works without JavaScript: each step is a form post. Also the
 * "disable 2FA" buttons of the user and admin edit pages.
 */
import { lazy } from '../../../util/lazy';
import { type AccountKind, generateRecoveryCodes } from '../../../dataprovider/secrets';
import { generateTotpSecret, otpauthUrl, validateTotpSecret } from '../../../mfa/totp';
import { adminMustSetSecondFactor } from '../../tokens';
import type { WebApp, WebRequest } from '../webapp';

// qrcode loads with the first two-factor setup page, not with the server
const qrCodes = lazy(() => require('qrcode') as typeof import('qrcode'));

interface Enrolment { configName: string; issuer: string; secret: string; qr: string }

export function registerMfaPages(w: WebApp): void {
  const { ctx, views } = w;
  const provider = ctx.provider;
  const secrets = provider.secrets;

  const render = (r: WebRequest, data: { enrol?: Enrolment; codes?: { code: string; used: boolean }[]; newCodes?: boolean; error?: string }, status = 200) => {
    const flash = data.error ? { kind: 'error', text: data.error } : r.page.flash;
    const totp = r.admin.filters?.totp_config;
    return views.send(r.reply, 'mfa', { ...r.page, flash }, {
      title: 'Two-factor authentication', nav: 'profile',
      enabled: totp?.enabled === true, configName: totp?.config_name ?? '', required: r.admin.filters?.require_two_factor === true,
      mustSet: adminMustSetSecondFactor(r.admin), configs: ctx.config.mfa.totp.map((c) => c.name),
      enrol: data.enrol, codes: data.codes, newCodes: data.newCodes === true,
    }, status);
  };

  const enrolment = async (r: WebRequest, configName: string, secret: string): Promise<Enrolment | undefined> => {
    const cfg = secrets.totp.config(configName);
    if (!cfg) return undefined;
    const url = otpauthUrl(cfg, `Admin "${r.admin.username}"`, secret);
    return { configName: cfg.name, issuer: cfg.issuer, secret, qr: await qrCodes().toDataURL(url, { width: 200, margin: 1 }) };
  };

  w.get('/mfa', [], async (r, _p, query) => {
    if (query.codes === '1' && r.admin.filters?.totp_config?.enabled) {
      return render(r, { codes: await secrets.revealRecoveryCodes(r.admin.filters.recovery_codes) });
    }
    return render(r, {});
  });

  w.post('/mfa/generate', [], async (r, _p, form) => {
    const enrol = await enrolment(r, form.str('config_name'), generateTotpSecret());
    if (!enrol) return render(r, { error: `Unknown TOTP configuration "${form.str('config_name')}".` }, 400);
    return render(r, { enrol });
  });

  w.post('/mfa/save', [], async (r, _p, form) => {
    const secret = form.str('secret');
    try {
      validateTotpSecret(secret);
    } catch (e) {
      return render(r, { error: (e as Error).message }, 400);
    }
    const enrol = await enrolment(r, form.str('config_name'), secret);
    if (!enrol) return render(r, { error: `Unknown TOTP configuration "${form.str('config_name')}".` }, 400);
    // the code proves the app holds the secret before 2FA is switched on
    if (secrets.totp.check(enrol.configName, form.str('passcode'), secret) !== 'ok') {
      return render(r, { enrol, error: 'The passcode does not match: check the time on your device and enter the current code.' }, 400);
    }
    const codes = generateRecoveryCodes();
    await provider.saveSecondFactor('admin', r.admin.username, {
      totp_config: { enabled: true, config_name: enrol.configName, secret: { status: 'Plain', payload: secret } }, recovery_codes: codes.stored,
    }, r.executor);
    const admin = await provider.getAdmin(r.admin.username);
    if (admin) r.admin = admin;
    return render(r, { codes: codes.plain.map((code) => ({ code, used: false })), newCodes: true });
  });

  w.post('/mfa/recoverycodes', [], async (r) => {
    const totp = r.admin.filters?.totp_config;
    if (!totp?.enabled) return render(r, { error: 'Recovery codes are not available with two-factor authentication disabled.' }, 400);
    const codes = generateRecoveryCodes();
    await provider.saveSecondFactor('admin', r.admin.username, { totp_config: totp, recovery_codes: codes.stored }, r.executor);
    return render(r, { codes: codes.plain.map((code) => ({ code, used: false })), newCodes: true });
  });

  w.post('/mfa/disable', [], async (r) => {
    if (r.admin.filters?.require_two_factor) return render(r, { error: 'Two-factor authentication is required for your account.' }, 400);
    if (!r.admin.filters?.totp_config?.enabled) return w.done(r, '/mfa', 'Two-factor authentication is not enabled.', 'error');
    await provider.saveSecondFactor('admin', r.admin.username, {}, r.executor);
    return w.done(r, '/mfa', 'Two-factor authentication disabled.');
  });

  // the edit pages of users and admins: reset a lost second factor
  const reset = (kind: AccountKind, page: string) => async (r: WebRequest, p: { username: string }) => {
    const found = kind === 'user' ? await provider.getUser(p.username) : await provider.getAdmin(p.username);
    // an admin with a role resets only its role's users
    const target = kind === 'user' && r.admin.role && found?.role !== r.admin.role ? undefined : found;
    const to = `/${page}/${encodeURIComponent(p.username)}`;
    if (!target) return w.errorPage(r.reply, 404, 'Not found', `"${p.username}" does not exist.`, r.admin, r.page.csrf);
    if (!target.filters?.totp_config?.enabled) return w.done(r, to, 'Two-factor authentication is not enabled.', 'error');
    await provider.saveSecondFactor(kind, target.username, {}, r.executor);
    return w.done(r, to, `Two-factor authentication disabled for "${target.username}".`);
  };
  w.post<{ username: string }>('/user/:username/2fa/disable', ['disable_mfa'], reset('user', 'user'));
  w.post<{ username: string }>('/manager/:username/2fa/disable', ['manage_admins'], reset('admin', 'manager'));
}
