/**
 * Debian's slapd as a real LDAP server for tests: a temp slapd.conf (core,
 * cosine, inetorgperson, nis schemas from /etc/ldap/schema, a small
 * openssh-lpk schema shipped here for sshPublicKey, the memberof overlay),
 * an mdb database in a temp dir, run in the foreground (`-d 0`) on a free
 * 127.0.0.1 port, populated with ldapadd. Anonymous users may only bind
 * (authenticate); the search user reads; entries read themselves.
 * stop() kills the process it started and removes the temp dir.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net';

export const SLAPD = '/usr/sbin/slapd';
export const BASE_DN = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PW = 'root-secret-pw';
export const SEARCH_DN = `cn=search,${BASE_DN}`;
export const SEARCH_PW = 'search-secret-pw';

export const slapdAvailable = (): boolean => existsSync(SLAPD) && existsSync('/usr/bin/ldapadd');

// openssh-lpk (the schema OpenSSH LDAP setups use), reduced to what the tests need
const OPENSSH_LPK = `
attributetype ( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey'
  DESC 'MANDATORY: OpenSSH Public key'
  EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY
  DESC 'MANDATORY: OpenSSH LPK objectclass'
  MAY ( sshPublicKey $ uid ) )
`;

export interface TestUser { uid: string; password: string; groups?: string[]; sshKeys?: string[] }

export interface Slapd {
  url: string;
  port: number;
  /** with `tls`: ldaps:// on its own port, the CA that signed the server certificate (StartTLS works on `url`) */
  ldapsUrl?: string;
  caFile?: string;
  /** LDIF through ldapadd / ldapmodify as the root DN */
  add(ldif: string): Promise<void>;
  modify(ldif: string): Promise<void>;
  addUser(u: TestUser): Promise<void>;
  setPassword(uid: string, password: string): Promise<void>;
  /** stops the server (clients then get connection refused); start() brings it back on the same port */
  halt(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const userDn = (uid: string): string => `uid=${uid},ou=people,${BASE_DN}`;
export const groupDn = (cn: string): string => `cn=${cn},ou=groups,${BASE_DN}`;

function ldapTool(tool: string, url: string, ldif: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(tool, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PW], { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`${tool} failed: ${stderr || err.message}`));
      else resolve();
    });
    child.stdin?.end(ldif);
  });
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve()));
  });
}

/** A test CA and a server certificate for 127.0.0.1 signed by it (openssl). */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string): string => join(dir, n);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sftpgo-ts test CA',
    '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

export async function startSlapd(opts: { tls?: boolean } = {}): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'slapd-test-'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const tlsPort = opts.tls ? await freePort() : 0;
  const ldapsUrl = opts.tls ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
  const certs = opts.tls ? await makeCertificates(dir) : undefined;
  await mkdir(join(dir, 'db'));
  await writeFile(join(dir, 'openssh-lpk.schema'), OPENSSH_LPK);
  await writeFile(join(dir, 'slapd.conf'), [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    `include ${join(dir, 'openssh-lpk.schema')}`,
    'modulepath /usr/lib/ldap', 'moduleload back_mdb', 'moduleload memberof',
    `pidfile ${join(dir, 'slapd.pid')}`,
    ...(certs ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`] : []),
    'database mdb', 'maxsize 10485760', `suffix "${BASE_DN}"`, `rootdn "${ROOT_DN}"`, `rootpw ${ROOT_PW}`,
    `directory ${join(dir, 'db')}`, 'overlay memberof',
    'access to attrs=userPassword by self read by anonymous auth by * none',
    `access to * by dn.exact="${SEARCH_DN}" read by self read by * none`,
    '',
  ].join('\n'));
  let proc: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const listeners = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ');
    const child = spawn(SLAPD, ['-d', '0', '-h', listeners, '-f', join(dir, 'slapd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = child;
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`slapd exited (${code}): ${stderr}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
    if (tlsPort) await Promise.race([waitForPort(tlsPort), exited]);
  };
  const halt = async (): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await start();
    await ldapTool('ldapadd', url, [
      `dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'o: example', 'dc: example', '',
      `dn: ou=people,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: people', '',
      `dn: ou=groups,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: groups', '',
      `dn: ${SEARCH_DN}`, 'objectClass: person', 'cn: search', 'sn: search', `userPassword: ${SEARCH_PW}`, '',
    ].join('\n'));
  } catch (e) {
    await halt();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const add = (ldif: string): Promise<void> => ldapTool('ldapadd', url, ldif);
  const modify = (ldif: string): Promise<void> => ldapTool('ldapmodify', url, ldif);
  return {
    url, port, add, modify, halt, start, ...(ldapsUrl && certs ? { ldapsUrl, caFile: certs.ca } : {}),
    async addUser(u) {
      await add([
        `dn: ${userDn(u.uid)}`, 'objectClass: inetOrgPerson', 'objectClass: ldapPublicKey',
        `uid: ${u.uid}`, `cn: ${u.uid}`, `sn: ${u.uid}`, `userPassword: ${u.password}`,
        ...(u.sshKeys ?? []).map((k) => `sshPublicKey: ${k}`), '',
      ].join('\n'));
      // groupOfNames: the memberof overlay adds memberOf to the member entries
      for (const g of u.groups ?? []) {
        await add([`dn: ${groupDn(g)}`, 'objectClass: groupOfNames', `cn: ${g}`, `member: ${userDn(u.uid)}`, ''].join('\n'))
          .catch(async (e: unknown) => {
            if (!String(e).includes('Already exists')) throw e;
            await modify([`dn: ${groupDn(g)}`, 'changetype: modify', 'add: member', `member: ${userDn(u.uid)}`, ''].join('\n'));
          });
      }
    },
    setPassword: (uid, password) => modify([`dn: ${userDn(uid)}`, 'changetype: modify', 'replace: userPassword', `userPassword: ${password}`, ''].join('\n')),
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
