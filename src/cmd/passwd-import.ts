/**
 * Turning Linux accounts (/etc/passwd + /etc/shadow) into SFTPGo users, with
 * the rules of SFTPGo's old `convertusers` script: uid range and name
 * filters, forced uid/gid, home from passwd, the shadow hash kept as is (it
 * verifies here: yescrypt, sha512/256-crypt, md5crypt, bcrypt), status 0 once
 * the shadow inactivity period is over, expiration from the shadow expire day.
 * Locked (`!`/`*` prefixed), empty and unsupported hashes are skipped with a
 * reason, never imported as something that cannot log in.
 */
import { isHashedPassword } from '../dataprovider/passwords';

export interface PasswdEntry { name: string; passwd: string; uid: number; gid: number; home: string; shell: string }
export interface ShadowEntry { name: string; hash: string; lastChange?: number; inactive?: number; expire?: number }

export interface ImportFilters {
  minUid: number;
  maxUid: number;
  usernames: string[];
  forceUid: number;
  forceGid: number;
}

export interface ImportedUser {
  username: string;
  password: string;
  home_dir: string;
  uid: number;
  gid: number;
  status: number;
  expiration_date: number;
  permissions: Record<string, string[]>;
}

export type Conversion = { user: ImportedUser } | { skipped: string; reason: string };

function optionalNumber(field: string | undefined): number | undefined {
  if (field === undefined || field.trim() === '') return undefined;
  return /^-?\d+$/.test(field.trim()) ? Number(field.trim()) : undefined;
}

/** `name:passwd:uid:gid:gecos:home:shell` lines; comments, blanks and NIS `+`/`-` lines are ignored. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) return;
    const f = line.split(':');
    if (f.length !== 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3]) || f[0] === '') {
      throw new Error(`passwd line ${i + 1}: expected name:password:uid:gid:gecos:home:shell`);
    }
    out.push({ name: f[0], passwd: f[1], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] });
  });
  return out;
}

/** `name:hash:lastchg:min:max:warn:inactive:expire:reserved` lines (days since the epoch). */
export function parseShadow(text: string): Map<string, ShadowEntry> {
  const out = new Map<string, ShadowEntry>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) return;
    const f = line.split(':');
    if (f.length !== 9 || f[0] === '') throw new Error(`shadow line ${i + 1}: expected 9 colon-separated fields`);
    out.set(f[0], { name: f[0], hash: f[1], lastChange: optionalNumber(f[2]), inactive: optionalNumber(f[6]), expire: optionalNumber(f[7]) });
  });
  return out;
}

const DAY_MS = 86_400_000;

/** One account → an SFTPGo user, or the reason it is skipped. `now` is injected for tests. */
export function convertAccount(p: PasswdEntry, shadow: Map<string, ShadowEntry>, f: ImportFilters, now: number): Conversion | undefined {
  if (f.usernames.length > 0 && !f.usernames.includes(p.name)) return undefined;
  if (f.minUid >= 0 && p.uid < f.minUid) return undefined;
  if (f.maxUid >= 0 && p.uid > f.maxUid) return undefined;
  let hash = p.passwd;
  let status = 1;
  let expiration = 0;
  if (hash === 'x' || hash === '*') {
    const s = shadow.get(p.name);
    if (!s) return { skipped: p.name, reason: 'no /etc/shadow entry' };
    hash = s.hash;
    const today = Math.floor(now / DAY_MS);
    if (s.inactive !== undefined && s.inactive > 0 && s.lastChange !== undefined && today - s.lastChange > s.inactive) status = 0;
    if (s.expire !== undefined && s.expire > 0) expiration = s.expire * DAY_MS;
  }
  if (hash === '' || hash.startsWith('!') || hash.startsWith('*')) return { skipped: p.name, reason: 'locked or without a password' };
  if (!isHashedPassword(hash)) {
    // name the scheme only: a hash is still a secret
    const scheme = /^\$[A-Za-z0-9-]+\$/.exec(hash)?.[0] ?? 'DES or unknown';
    return { skipped: p.name, reason: `unsupported password hash scheme (${scheme})` };
  }
  return {
    user: {
      username: p.name,
      password: hash,
      home_dir: p.home,
      uid: f.forceUid >= 0 ? f.forceUid : p.uid,
      gid: f.forceGid >= 0 ? f.forceGid : p.gid,
      status,
      expiration_date: expiration,
      permissions: { '/': ['*'] },
    },
  };
}
