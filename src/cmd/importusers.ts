/**
 * `sftpgo importusers`: imports Linux accounts into a running server through
 * the REST API (POST /api/v2/users), or writes them as a dump for
 * `loaddata` with --output. Authenticates with an API key
 * (X-SFTPGO-API-KEY) or an admin whose password is prompted (or piped).
 * Existing users are left alone unless --update is given.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { FlagValues } from './args';
import type { SecretReader } from './prompt';
import { convertAccount, parsePasswd, parseShadow, type ImportedUser } from './passwd-import';

export { importUsersFlags } from './importusers-flags';

interface Reply { status: number; body: string }

function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  const mod = url.protocol === 'https:' ? https : http;
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers: { ...headers, ...(data ? { 'Content-Type': 'application/json' } : {}) }, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url.origin}: timeout`)));
    req.on('error', (e) => reject(new Error(`${url.origin}: ${e.message}`)));
    req.end(data);
  });
}

function apiError(r: Reply): string {
  try {
    const o = JSON.parse(r.body) as { error?: string; message?: string };
    return `HTTP ${r.status}: ${[o.message, o.error].filter((s) => s).join(': ')}`;
  } catch {
    return `HTTP ${r.status}`;
  }
}

async function authHeaders(f: FlagValues, reader: SecretReader): Promise<Record<string, string>> {
  const apiKey = String(f['api-key']);
  if (apiKey !== '') return { 'X-SFTPGO-API-KEY': apiKey };
  const admin = String(f.admin);
  if (admin === '') throw new Error('set --admin (the password is prompted) or --api-key');
  const password = await reader.read(`Password for admin "${admin}": `);
  const r = await call(String(f.url), 'GET', 'api/v2/token', { Authorization: `Basic ${Buffer.from(`${admin}:${password}`).toString('base64')}` });
  if (r.status !== 200) throw new Error(`cannot get an API token for admin "${admin}": ${apiError(r)}`);
  return { Authorization: `Bearer ${(JSON.parse(r.body) as { access_token: string }).access_token}` };
}

function readFile(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function importUsers(f: FlagValues, reader: SecretReader, out: (s: string) => void, now = Date.now()): Promise<number> {
  try {
    const accounts = parsePasswd(readFile(String(f.passwd)));
    // shadow is needed only when some selected account keeps its hash there
    const shadowPath = String(f.shadow);
    const shadow = accounts.some((a) => a.passwd === 'x' || a.passwd === '*') && shadowPath !== '' ? parseShadow(readFile(shadowPath)) : new Map();
    const filters = {
      minUid: Number(f['min-uid']), maxUid: Number(f['max-uid']), usernames: (f.usernames as string[]).flatMap((u) => u.split(',')).filter((u) => u !== ''),
      forceUid: Number(f['force-uid']), forceGid: Number(f['force-gid']),
    };
    const users: ImportedUser[] = [];
    for (const a of accounts) {
      const c = convertAccount(a, shadow, filters, now);
      if (!c) continue;
      if ('user' in c) users.push(c.user);
      else out(`skipped "${c.skipped}": ${c.reason}`);
    }
    const output = String(f.output);
    if (output !== '') {
      fs.writeFileSync(output, `${JSON.stringify({ users, version: 17 }, null, 2)}\n`, { mode: 0o600 });
      out(`${users.length} users written to ${output} (load it with "sftpgo serve --loaddata-from" or POST /api/v2/loaddata)`);
      return 0;
    }
    const headers = await authHeaders(f, reader);
    let failed = 0;
    for (const u of users) {
      const res = await call(String(f.url), 'POST', 'api/v2/users', headers, u);
      if (res.status === 201) {
        out(`imported "${u.username}" (uid ${u.uid}, gid ${u.gid}, home ${u.home_dir})`);
        continue;
      }
      const exists = (await call(String(f.url), 'GET', `api/v2/users/${encodeURIComponent(u.username)}`, headers)).status === 200;
      if (exists && f.update !== true) {
        out(`skipped "${u.username}": already exists (use --update to overwrite)`);
      } else if (exists) {
        const upd = await call(String(f.url), 'PUT', `api/v2/users/${encodeURIComponent(u.username)}`, headers, u);
        if (upd.status === 200) out(`updated "${u.username}"`);
        else {
          failed++;
          out(`failed "${u.username}": ${apiError(upd)}`);
        }
      } else {
        failed++;
        out(`failed "${u.username}": ${apiError(res)}`);
      }
    }
    out(`${users.length - failed} of ${users.length} users imported or already present`);
    return failed > 0 ? 1 : 0;
  } finally {
    reader.close();
  }
}
