/**
 * Shared by the 2FA tests: a server with two mfa.totp configs and a stepped
 * TOTP clock (codes are computed here from the secret, as an authenticator app
 * would; stepping 30 s gives a fresh code without waiting).
 */
import assert from 'node:assert/strict';
import { totpCode, type TotpAlgo } from '../../../src/mfa/totp';
import { startServer, type StartOptions, type TestServer } from './support';

export const TOTP_CONFIGS = [
  { name: 'Default', issuer: 'SFTPGo', algo: 'sha1' },
  { name: 'Strong', issuer: 'SFTPGo-256', algo: 'sha256' },
];

export interface MfaServer extends TestServer {
  /** the code an app would show now for this secret */
  code(secret: string, algo?: TotpAlgo): string;
  /** moves the TOTP clock to the next 30 s step */
  step(): void;
  /** enrols the account behind `token` (admin or user prefix) and returns the secret */
  enrol(prefix: '/api/v2/admin' | '/api/v2/user', token: string, extra?: Record<string, unknown>): Promise<string>;
  /** a token for an account with TOTP, with a fresh code */
  tokenWithOtp(path: '/api/v2/token' | '/api/v2/user/token', user: string, password: string, secret: string): Promise<string>;
}

export async function startMfaServer(opts: StartOptions = {}): Promise<MfaServer> {
  let nowMs = Date.now();
  const s = await startServer({
    ...opts,
    totpNow: () => nowMs,
    configure: (c) => {
      c.mfa.totp = TOTP_CONFIGS.map((t) => ({ ...t }));
      c.httpd.signing_passphrase = 'mfa-test-passphrase';
      opts.configure?.(c);
    },
  });
  const code = (secret: string, algo: TotpAlgo = 'sha1'): string => totpCode(secret, algo, nowMs);
  const step = (): void => { nowMs += 30_000; };
  const enrol: MfaServer['enrol'] = async (prefix, token, extra = {}) => {
    const g = await s.call('POST', `${prefix}/totp/generate`, { token, body: { config_name: 'Default' } });
    assert.equal(g.status, 200, g.text);
    const secret = (g.json as { secret: string }).secret;
    step();
    const v = await s.call('POST', `${prefix}/totp/validate`, { token, body: { config_name: 'Default', passcode: code(secret), secret } });
    assert.equal(v.status, 200, v.text);
    const saved = await s.call('POST', `${prefix}/totp/save`, {
      token, body: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret }, ...extra },
    });
    assert.equal(saved.status, 200, saved.text);
    return secret;
  };
  const tokenWithOtp: MfaServer['tokenWithOtp'] = async (path, user, password, secret) => {
    step();
    const r = await s.call('GET', path, { basic: [user, password], headers: { 'x-sftpgo-otp': code(secret) } });
    assert.equal(r.status, 200, r.text);
    return (r.json as { access_token: string }).access_token;
  };
  return Object.assign(s, { code, step, enrol, tokenWithOtp });
}
