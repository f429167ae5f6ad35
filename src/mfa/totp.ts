/**
 * RFC 6238 time-based one-time passwords as SFTPGo uses them (mfa.totp configs):
 * 6 digits, 30 s period, one step of skew either way, HMAC-SHA1/256/512, secrets in
 * unpadded base32 (at least 20 bytes). A passcode that matched once is refused for the
 * next 2 minutes (per secret, per process), so a code seen over the shoulder or
 * replayed from a log cannot be used again.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TotpAlgo = 'sha1' | 'sha256' | 'sha512';
export interface TotpConfigEntry { name: string; issuer: string; algo: string }

const PERIOD_S = 30;
const DIGITS = 6;
const SKEW = 1;
const REPLAY_WINDOW_MS = 2 * 60_000;
/** SFTPGo's minTOTPSecretSize */
export const MIN_TOTP_SECRET_BYTES = 20;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case-insensitive, spaces and padding ignored); undefined when malformed. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const idx = B32.indexOf(ch);
    if (idx < 0) return undefined;
    value = ((value << 5) | idx) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function isTotpAlgo(a: string): a is TotpAlgo {
  return a === 'sha1' || a === 'sha256' || a === 'sha512';
}

/** The code for the 30 s step containing timeMs. */
export function totpCode(secret: string, algo: TotpAlgo, timeMs: number): string {
  const key = base32Decode(secret);
  if (!key || key.length === 0) throw new Error('totp: invalid secret encoding');
  return hotp(key, algo, Math.floor(timeMs / 1000 / PERIOD_S));
}

function hotp(key: Buffer, algo: TotpAlgo, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algo, key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 10 ** DIGITS;
  return bin.toString().padStart(DIGITS, '0');
}

/** A new random secret (20 bytes, base32 without padding, like SFTPGo's generator). */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(MIN_TOTP_SECRET_BYTES));
}

/** Throws unless the secret decodes to at least 20 bytes (SFTPGo's ValidateTOTPSecret). */
export function validateTotpSecret(secret: string): void {
  const key = base32Decode(secret.trim());
  if (!key) throw new Error('totp: invalid secret encoding');
  if (key.length < MIN_TOTP_SECRET_BYTES) throw new Error(`totp: secret must be at least ${MIN_TOTP_SECRET_BYTES} bytes long`);
}

/** The otpauth:// URL authenticator apps read from the QR code. */
export function otpauthUrl(cfg: TotpConfigEntry, account: string, secret: string): string {
  const label = `${encodeURIComponent(cfg.issuer)}:${encodeURIComponent(account)}`;
  const q = new URLSearchParams({ algorithm: cfg.algo.toUpperCase(), digits: String(DIGITS), issuer: cfg.issuer, period: String(PERIOD_S), secret });
  return `otpauth://totp/${label}?${q.toString()}`;
}

/** Throws a message naming the problem for a bad `mfa.totp` list (checked at start-up). */
export function checkTotpConfigs(configs: readonly TotpConfigEntry[]): void {
  const names = new Set<string>();
  for (const c of configs) {
    if (c.name === '') throw new Error('mfa.totp: name is mandatory');
    if (c.issuer === '') throw new Error(`mfa.totp "${c.name}": issuer is mandatory`);
    if (!isTotpAlgo(c.algo)) throw new Error(`mfa.totp "${c.name}": unsupported algo "${c.algo}"`);
    if (names.has(c.name)) throw new Error(`mfa.totp: duplicate configuration name "${c.name}"`);
    names.add(c.name);
  }
}

export type TotpCheck = 'ok' | 'invalid' | 'replayed';

/** Validates passcodes for the configured TOTP configs, refusing replays. One per process. */
export class TotpValidator {
  private readonly used = new Map<string, number>();

  constructor(private readonly configs: readonly TotpConfigEntry[], private readonly now: () => number = Date.now) {}

  config(name: string): TotpConfigEntry | undefined {
    return this.configs.find((c) => c.name === name);
  }

  get names(): string[] { return this.configs.map((c) => c.name); }

  /** Throws for an unknown config name; otherwise says whether the passcode is accepted. */
  check(configName: string, passcode: string, secret: string): TotpCheck {
    const cfg = this.config(configName);
    if (!cfg || !isTotpAlgo(cfg.algo)) throw new Error(`totp: no configuration "${configName}"`);
    const t = this.now();
    this.prune(t);
    const code = passcode.trim();
    if (!/^\d{6}$/.test(code)) return 'invalid';
    const key = base32Decode(secret);
    if (!key || key.length === 0) return 'invalid';
    const step = Math.floor(t / 1000 / PERIOD_S);
    let match = false;
    for (let d = -SKEW; d <= SKEW; d++) {
      // compare every candidate so timing does not tell which step matched
      if (timingSafeEqual(Buffer.from(hotp(key, cfg.algo, step + d)), Buffer.from(code))) match = true;
    }
    if (!match) return 'invalid';
    const usedKey = `${secret}_${code}`;
    if (this.used.has(usedKey)) return 'replayed';
    this.used.set(usedKey, t + REPLAY_WINDOW_MS);
    return 'ok';
  }

  private prune(t: number): void {
    for (const [k, exp] of this.used) if (exp < t) this.used.delete(k);
  }
}
