/**
 * Bench rows for the LDAP auth source: SSH password logins of a directory
 * user (Debian's slapd on a free loopback port, the same process layout as
 * the hook rows in hooks.ts) beside the built-in login of a local-only user,
 * interleaved, medians; once asking the directory on every login
 * (cache_time 0: search as the bind user + bind as the user) and once with
 * cache_time 60 (the repeat logins are answered from the memory).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_DN, SEARCH_DN, SEARCH_PW, startSlapd } from '../support/slapd';
import { compare } from './hooks';
import type { Row } from './rows';
import { PASSWORD, startOurs } from './servers';
import { onCleanup } from './util';

export async function ldapLoginRows(dir: string, pub: string, tls: { cert: string; key: string }, n: number): Promise<Row[]> {
  const slapd = await startSlapd();
  onCleanup(() => { void slapd.stop(); });
  await slapd.addUser({ uid: 'hooked', password: PASSWORD });
  const rows: Row[] = [];
  for (const cacheTime of [0, 60]) {
    const configDir = join(dir, `ldap-${cacheTime}`);
    mkdirSync(configDir);
    const ours = await startOurs(configDir, pub, tls, {
      env: {
        SFTPGO_LDAP__URLS: slapd.url, SFTPGO_LDAP__BASE_DN: BASE_DN, SFTPGO_LDAP__BIND_DN: SEARCH_DN,
        SFTPGO_LDAP__BIND_PASSWORD: SEARCH_PW, SFTPGO_LDAP__SEARCH_QUERY: '(&(objectClass=inetOrgPerson)(uid=%username%))',
        SFTPGO_LDAP__USERS_BASE_DIR: join(configDir, 'homes'), SFTPGO_LDAP__CACHE_TIME: String(cacheTime),
      },
      // the built-in user is local-only: the directory is not asked for it
      userFilters: { hooks: { external_auth_disabled: true } },
    });
    rows.push(await compare(ours, `LDAP (slapd, cache_time ${cacheTime})`, n));
    ours.proc.kill('SIGTERM');
  }
  await slapd.stop();
  return rows;
}
