/**
 * Second-factor settings of users and admins (`filters.totp_config`,
 * `filters.recovery_codes`) as SFTPGo stores them. Two stages:
 *  - parse (sync, from validation): the JSON shape, a 400 naming the field;
 *  - seal (async, in the service before anything is written): the config name
 *    must be one of `mfa.totp`, a `Plain` secret is encrypted with the kms
 *    (additional data = the username, as SFTPGo), an encrypted one must decrypt
 *    with this server's kms (otherwise the account could never log in: refused
 *    now with a clear message rather than stored and unusable).
 * Passcode checks and recovery codes go through AccountSecrets too, so the
 * decrypting lives in one place.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createKms, SECRET_STATUS } from '../kms';
import type { SecretsKms } from '../kms/types';
import { type TotpCheck, TotpValidator, validateTotpSecret } from '../mfa/totp';
import type { RecoveryCode, Secret, TotpConfig } from './models';
import { isObj, type Obj, ValidationError } from './validation-core';

/** SFTPGo's MFAProtocols */
export const MFA_PROTOCOLS: readonly string[] = ['HTTP', 'SSH', 'FTP'];
export const RECOVERY_CODES_COUNT = 12;

export type AccountKind = 'user' | 'admin';
export interface SecondFactor { totp_config?: TotpConfig; recovery_codes?: RecoveryCode[] }

function optStr(o: Obj, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${field}.${key} must be a string`);
  return v;
}

/** A Secret's JSON shape; undefined for SFTPGo's "empty" secret (no status, no payload). */
export function parseSecret(v: unknown, field: string): Secret | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ValidationError(`${field} must be an object`);
  const status = optStr(v, 'status', field) ?? '';
  const payload = optStr(v, 'payload', field) ?? '';
  if (status === '' && payload === '') return undefined;
  const s: Secret = { status };
  if (payload !== '') s.payload = payload;
  const key = optStr(v, 'key', field);
  if (key) s.key = key;
  const ad = optStr(v, 'additional_data', field);
  if (ad) s.additional_data = ad;
  if (v.mode !== undefined && v.mode !== null) {
    if (v.mode !== 0 && v.mode !== 1) throw new ValidationError(`${field}.mode must be 0 or 1`);
    s.mode = v.mode;
  }
  return s;
}

export function parseTotpConfig(v: unknown, kind: AccountKind): TotpConfig | undefined {
  const field = 'filters.totp_config';
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ValidationError(`${field} must be an object`);
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') throw new ValidationError(`${field}.enabled must be a boolean`);
  // SFTPGo clears a disabled configuration
  if (v.enabled !== true) return undefined;
  const cfg: TotpConfig = { enabled: true, config_name: (optStr(v, 'config_name', field) ?? '').trim() };
  const secret = parseSecret(v.secret, `${field}.secret`);
  if (secret) cfg.secret = secret;
  if (kind === 'user') {
    const p = v.protocols;
    if (p !== undefined && p !== null && (!Array.isArray(p) || p.some((x) => typeof x !== 'string'))) {
      throw new ValidationError(`${field}.protocols must be an array of strings`);
    }
    cfg.protocols = [...new Set((p ?? []) as string[])];
  }
  return cfg;
}

export function parseRecoveryCodes(v: unknown): RecoveryCode[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ValidationError('filters.recovery_codes must be an array');
  return v.map((raw, i) => {
    const field = `filters.recovery_codes[${i}]`;
    if (!isObj(raw)) throw new ValidationError(`${field} must be an object`);
    if (raw.used !== undefined && raw.used !== null && typeof raw.used !== 'boolean') throw new ValidationError(`${field}.used must be a boolean`);
    const secret = parseSecret(raw.secret, `${field}.secret`);
    if (!secret) throw new ValidationError(`${field}.secret: a recovery code cannot be empty`);
    return raw.used === true ? { secret, used: true } : { secret };
  });
}

/** Reads both fields from a filters object (validation-user.ts / validation.ts). */
export function parseSecondFactor(filters: Obj, kind: AccountKind): SecondFactor {
  const out: SecondFactor = {};
  const totp = parseTotpConfig(filters.totp_config, kind);
  if (totp) out.totp_config = totp;
  const codes = parseRecoveryCodes(filters.recovery_codes);
  if (codes?.length) out.recovery_codes = codes;
  return out;
}

/** SFTPGo's format: "RC-" and an upper-case unique id. */
export function newRecoveryCode(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
  return `RC-${[...randomBytes(20)].map((b) => alphabet[b & 31]).join('')}`;
}

/** 12 new codes: the plain ones to show once, and the Plain secrets to seal and store. */
export function generateRecoveryCodes(): { plain: string[]; stored: RecoveryCode[] } {
  const plain = Array.from({ length: RECOVERY_CODES_COUNT }, newRecoveryCode);
  return { plain, stored: plain.map((code) => ({ secret: { status: SECRET_STATUS.plain, payload: code } })) };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AccountSecrets {
  constructor(readonly kms: SecretsKms, readonly totp: TotpValidator) {}

  /** Encrypts a Plain secret, proves an encrypted one opens; throws ValidationError naming the field. */
  async sealSecret(s: Secret, username: string, field: string, isTotpSecret: boolean): Promise<Secret> {
    if (s.status === SECRET_STATUS.redacted) throw new ValidationError(`${field}: cannot save a redacted secret`);
    let plain: string;
    try {
      plain = await this.kms.decrypt(s);
    } catch (e) {
      throw new ValidationError(`${field}: ${(e as Error).message}`);
    }
    if (plain === '') throw new ValidationError(`${field}: the secret is empty`);
    if (isTotpSecret) {
      try {
        validateTotpSecret(plain);
      } catch (e) {
        throw new ValidationError(`${field}: ${(e as Error).message}`);
      }
    }
    if (this.kms.isEncrypted(s)) return s;
    try {
      return await this.kms.encrypt(isTotpSecret ? plain.trim() : plain, username);
    } catch (e) {
      throw new ValidationError(`${field}: unable to encrypt the secret: ${(e as Error).message}`);
    }
  }

  /** Validates and encrypts what parseSecondFactor read; the result is what gets stored. */
  async seal(sf: SecondFactor, username: string, kind: AccountKind): Promise<SecondFactor> {
    const out: SecondFactor = {};
    const cfg = sf.totp_config;
    if (cfg?.enabled) {
      const field = 'filters.totp_config';
      const name = cfg.config_name ?? '';
      if (name === '') throw new ValidationError(`${field}.config_name: totp: config name is mandatory`);
      if (!this.totp.config(name)) {
        throw new ValidationError(`${field}.config_name: totp: config name "${name}" not found in mfa.totp (configured: ${this.totp.names.join(', ') || 'none'})`);
      }
      if (!cfg.secret) throw new ValidationError(`${field}.secret: totp: secret is mandatory`);
      const sealed: TotpConfig = { enabled: true, config_name: name, secret: await this.sealSecret(cfg.secret, username, `${field}.secret`, true) };
      if (kind === 'user') {
        const protocols = cfg.protocols ?? [];
        if (protocols.length === 0) throw new ValidationError(`${field}.protocols: totp: specify at least one protocol`);
        const bad = protocols.find((p) => !MFA_PROTOCOLS.includes(p));
        if (bad !== undefined) throw new ValidationError(`${field}.protocols: totp: invalid protocol "${bad}"`);
        sealed.protocols = protocols;
      }
      out.totp_config = sealed;
    }
    if (sf.recovery_codes?.length) {
      out.recovery_codes = [];
      for (const [i, c] of sf.recovery_codes.entries()) {
        const secret = await this.sealSecret(c.secret, username, `filters.recovery_codes[${i}].secret`, false);
        out.recovery_codes.push(c.used ? { secret, used: true } : { secret });
      }
    }
    return out;
  }

  /** 'ok' only for an enabled config whose secret decrypts and whose passcode matches now (and was not used). */
  async checkPasscode(cfg: TotpConfig | undefined, passcode: string): Promise<TotpCheck> {
    if (!cfg?.enabled || !cfg.secret || !cfg.config_name || !this.totp.config(cfg.config_name)) return 'invalid';
    const secret = await this.kms.decrypt(cfg.secret);
    return this.totp.check(cfg.config_name, passcode, secret);
  }

  /** The index of the unused code equal to `code`, or -1 (used codes never match). */
  async findRecoveryCode(codes: readonly RecoveryCode[] | undefined, code: string): Promise<number> {
    const wanted = code.trim();
    if (wanted === '') return -1;
    let found = -1;
    for (const [i, c] of (codes ?? []).entries()) {
      const plain = await this.kms.decrypt(c.secret);
      if (sameText(plain, wanted) && !c.used && found < 0) found = i;
    }
    return found;
  }

  async revealRecoveryCodes(codes: readonly RecoveryCode[] | undefined): Promise<{ code: string; used: boolean }[]> {
    const out: { code: string; used: boolean }[] = [];
    for (const c of codes ?? []) out.push({ code: await this.kms.decrypt(c.secret), used: c.used ?? false });
    return out;
  }
}

/** For providers opened without a configuration (tools, tests): local kms, no master key, no TOTP configs. */
export function defaultAccountSecrets(): AccountSecrets {
  return new AccountSecrets(createKms({ secrets: { url: '', master_key: '', master_key_path: '' } }), new TotpValidator([]));
}

export function unusedRecoveryCodes(codes: readonly RecoveryCode[] | undefined): number {
  return (codes ?? []).filter((c) => !c.used).length;
}

/** `filters` with its second-factor fields replaced by `sf` (absent fields removed). */
export function withSecondFactor<F extends SecondFactor>(filters: F | undefined, sf: SecondFactor): F {
  const { totp_config: _t, recovery_codes: _r, ...rest } = filters ?? ({} as F);
  const out = rest as F;
  if (sf.totp_config) out.totp_config = sf.totp_config;
  if (sf.recovery_codes?.length) out.recovery_codes = sf.recovery_codes;
  return out;
}
