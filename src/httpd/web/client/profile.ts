/**
 * The user's own account in the web client: profile (email, description,
 * SSH keys, as filters.web_client allows, with the REST API's rules from
 * routes/user/profile.ts), password change, and TOTP enrolment (QR code as a
 * PNG data URL rendered here, passcode proof, recovery codes shown once).
 */
import { lazy } from '../../../util/lazy';
import { mustChangePassword } from '../../../dataprovider/auth';
import { generateRecoveryCodes } from '../../../dataprovider/secrets';
import { generateTotpSecret, otpauthUrl, validateTotpSecret } from '../../../mfa/totp';
import { ApiError } from '../../errors';
import { changeUserPassword, profileOf, profileRights, selfExecutor, updateProfile } from '../../routes/user/profile';
import { userRestricted } from '../../routes/user/session';
import { userMustSetSecondFactor } from '../../tokens';
import type { ClientApp, ClientRequest } from './app';

// qrcode loads with the first two-factor setup page, not with the server
const qrCodes = lazy(() => require('qrcode') as typeof import('qrcode'));

const PROTOCOLS = ['SSH', 'FTP', 'HTTP'] as const;
interface Enrolment { configName: string; secret: string; qr: string }

export function registerClientProfile(c: ClientApp): void {
  const { ctx } = c;
  const provider = ctx.provider;

  c.get('/profile', async (r) => c.page(r, 'profile', {
    title: 'Profile', nav: 'profile', profile: profileOf(r.user), rights: profileRights(r.user),
    canChangePassword: !userRestricted(r.user, 'password-change-disabled'),
  }));

  c.post('/profile', async (r, form) => {
    const keys = form.str('public_keys', false).split(/\r?\n/).map((k) => k.trim()).filter((k) => k !== '');
    await updateProfile(c.deps, r.user, { email: form.str('email'), description: form.str('description'), public_keys: keys }, selfExecutor(r.req, r.user));
    return c.done(r, '/profile', 'Profile updated.');
  });

  c.get('/changepwd', async (r) => c.page(r, 'changepwd', { title: 'Change password', nav: 'profile', required: mustChangePassword(r.user, Date.now()) }),
    { deny: 'password-change-disabled' });

  c.post('/changepwd', async (r, form) => {
    try {
      await changeUserPassword(c.deps, r.user, form.str('current_password', false), form.str('new_password1', false), form.str('new_password2', false), selfExecutor(r.req, r.user));
    } catch (e) {
      if (e instanceof ApiError) return c.done(r, '/changepwd', e.message, 'error');
      throw e;
    }
    // as SFTPGo: a new password ends the session
    await c.sessions.end(r.reply, r.session);
    c.sessions.setFlash(r.reply, 'success', 'Password changed, please log in again.');
    return r.reply.redirect('/web/client/login', 303);
  }, { deny: 'password-change-disabled' });

  const mfaPage = (r: ClientRequest, data: { enrol?: Enrolment; codes?: string[]; error?: string }, status = 200) => {
    const totp = r.user.filters?.totp_config;
    return c.page(r, 'mfa', {
      title: 'Two-factor authentication', nav: 'profile', enabled: totp?.enabled === true, configName: totp?.config_name ?? '',
      protocols: totp?.protocols ?? [], allProtocols: PROTOCOLS, required: r.user.filters?.two_factor_protocols ?? [],
      mustSet: userMustSetSecondFactor(r.user), configs: ctx.config.mfa.totp.map((x) => x.name), enrol: data.enrol, codes: data.codes,
      flash: data.error ? { kind: 'error', text: data.error } : undefined,
    }, status);
  };
  const enrolment = async (r: ClientRequest, configName: string, secret: string): Promise<Enrolment | undefined> => {
    const cfg = provider.secrets.totp.config(configName);
    if (!cfg) return undefined;
    const qr = await qrCodes().toDataURL(otpauthUrl(cfg, `User "${r.user.username}"`, secret), { width: 200, margin: 1 });
    return { configName: cfg.name, secret, qr };
  };
  const mfa = { deny: 'mfa-disabled' as const };

  c.get('/mfa', async (r) => mfaPage(r, {}), mfa);

  c.post('/mfa/generate', async (r, form) => {
    const enrol = await enrolment(r, form.str('config_name'), generateTotpSecret());
    if (!enrol) return mfaPage(r, { error: `Unknown TOTP configuration "${form.str('config_name')}".` }, 400);
    return mfaPage(r, { enrol });
  }, mfa);

  c.post('/mfa/save', async (r, form) => {
    const secret = form.str('secret');
    try {
      validateTotpSecret(secret);
    } catch (e) {
      return mfaPage(r, { error: (e as Error).message }, 400);
    }
    const enrol = await enrolment(r, form.str('config_name'), secret);
    if (!enrol) return mfaPage(r, { error: `Unknown TOTP configuration "${form.str('config_name')}".` }, 400);
    const protocols = form.all('protocols').filter((p) => (PROTOCOLS as readonly string[]).includes(p));
    const missing = (r.user.filters?.two_factor_protocols ?? []).filter((p) => !protocols.includes(p));
    if (missing.length > 0) return mfaPage(r, { enrol, error: `These protocols require two-factor authentication: ${missing.join(', ')}.` }, 400);
    if (protocols.length === 0) return mfaPage(r, { enrol, error: 'Choose at least one protocol.' }, 400);
    // the code proves the app holds the secret before 2FA is switched on
    if (provider.secrets.totp.check(enrol.configName, form.str('passcode'), secret) !== 'ok') {
      return mfaPage(r, { enrol, error: 'The passcode does not match: check the time on your device and enter the current code.' }, 400);
    }
    const codes = generateRecoveryCodes();
    await provider.saveSecondFactor('user', r.user.username, {
      totp_config: { enabled: true, config_name: enrol.configName, secret: { status: 'Plain', payload: secret }, protocols }, recovery_codes: codes.stored,
    }, selfExecutor(r.req, r.user));
    const fresh = await provider.getUser(r.user.username);
    if (fresh) r.user = fresh;
    return mfaPage(r, { codes: codes.plain });
  }, mfa);

  c.post('/mfa/disable', async (r) => {
    if ((r.user.filters?.two_factor_protocols ?? []).length > 0) return mfaPage(r, { error: 'Two-factor authentication is required for your account.' }, 400);
    await provider.saveSecondFactor('user', r.user.username, {}, selfExecutor(r.req, r.user));
    return c.done(r, '/mfa', 'Two-factor authentication disabled.');
  }, mfa);
}
