/**
 * Heavy optional dependencies load on first use (src/util/lazy.ts), seen from
 * outside: the real `sftpgo` entry point runs under a `--require` preload
 * (test/support/module-recorder.ts) that writes every package the process
 * loads to a file, read while the process keeps running. A plain sqlite +
 * local-storage server loads none of them; the S3 SDK arrives with the
 * first login of a user on S3, mysql2 and webdav-server when the config
 * selects them.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'ssh2';
import { freePort } from '../../support/net';
import { createDatabase } from '../../support/databases';
import { s3config, startS3rver } from '../../support/s3rver';
import { writeKeyPair } from '../../support/sshkeys';
import { request, run, startChild, tmpDir } from './child';

const RECORDER = path.resolve(__dirname, '../../support/module-recorder.js');

/** Every package loaded on first use; none belongs in a process whose config does not ask for it. */
const OPTIONAL = ['@aws-sdk/client-s3', '@google-cloud/storage', '@azure/storage-blob', 'mysql2', 'pg', '@grpc/grpc-js',
  '@grpc/proto-loader', 'nodemailer', 'ldapts', 'qrcode', 'webdav-server'];

const ADMIN = { user: 'root', password: 'Lazy-adm1n-pw' };

function recordingEnv(dir: string): { env: Record<string, string>; loaded: () => Set<string> } {
  const file = path.join(dir, 'modules.txt');
  fs.writeFileSync(file, '');
  return {
    env: { NODE_OPTIONS: `--require ${JSON.stringify(RECORDER)}`, MODULE_RECORD_FILE: file },
    loaded: () => new Set(fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')),
  };
}

function assertNotLoaded(loaded: Set<string>, packages: string[], when: string): void {
  assert.deepEqual(packages.filter((p) => loaded.has(p)), [], `loaded ${when}`);
}

async function serveEnv(dir: string, extra: Record<string, string>): Promise<Record<string, string>> {
  // one ready host key: the server would otherwise spend seconds generating its default RSA/ECDSA/Ed25519 keys
  await writeKeyPair(dir, 'host_ed25519');
  return {
    SFTPGO_SFTPD__HOST_KEYS: 'host_ed25519',
    SFTPGO_CONFIG_DIR: dir,
    SFTPGO_LOG_FILE_PATH: '',
    SFTPGO_LOG_LEVEL: 'info',
    SFTPGO_SFTPD__BINDINGS__0__PORT: String(await freePort()),
    SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_HTTPD__BINDINGS__0__PORT: String(await freePort()),
    SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true',
    SFTPGO_DEFAULT_ADMIN_USERNAME: ADMIN.user,
    SFTPGO_DEFAULT_ADMIN_PASSWORD: ADMIN.password,
    ...extra,
  };
}

function sftpReaddir(port: number, username: string, password: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('error', reject);
    c.on('ready', () => {
      c.sftp((err, sftp) => {
        if (err) { c.end(); reject(err); return; }
        sftp.readdir('/', (e, list) => {
          c.end();
          if (e) reject(e);
          else resolve(list.map((l) => l.filename));
        });
      });
    });
    c.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 20_000 });
  });
}

test('--version and gen load no server, storage, database or protocol package', async (t) => {
  const dir = tmpDir(t);
  const rec = recordingEnv(dir);
  const v = await run(['--version'], { cwd: dir, env: rec.env });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^SFTPGo-ts /);
  const g = await run(['gen', 'completion', 'bash'], { cwd: dir, env: rec.env });
  assert.equal(g.code, 0, g.stderr);
  const loaded = rec.loaded();
  // the recorder sees what loads: the config parser does
  assert.ok(loaded.has('convict'), [...loaded].join(' '));
  assertNotLoaded(loaded, [...OPTIONAL, 'ssh2', 'fastify', 'better-sqlite3', 'argon2'], 'by --version/gen');
});

test('a sqlite + local server loads no optional package; the first login on S3 loads the S3 SDK only', async (t) => {
  const dir = tmpDir(t);
  const rec = recordingEnv(dir);
  const env = await serveEnv(dir, {});
  const srv = startChild(t, ['serve'], { cwd: dir, env: { ...env, ...rec.env } });
  await srv.waitLine(/"message":"sftpd listening"/);
  await srv.waitLine(/"message":"httpd listening"/);
  const atStart = rec.loaded();
  assert.ok(atStart.has('ssh2') && atStart.has('fastify') && atStart.has('better-sqlite3'), [...atStart].join(' '));
  assertNotLoaded(atStart, OPTIONAL, 'at start');
  // route schemas compile on first use (src/httpd/lazy-schemas.ts), JWTs and YAML load with their first use
  assertNotLoaded(atStart, ['ajv', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'jose', 'js-yaml'], 'at start');

  const s3 = await startS3rver('lazy-bucket');
  t.after(() => s3.stop());
  const http = `http://127.0.0.1:${env.SFTPGO_HTTPD__BINDINGS__0__PORT}`;
  const tok = await request(`${http}/api/v2/token`, { auth: `${ADMIN.user}:${ADMIN.password}` });
  assert.equal(tok.status, 200, tok.body);
  const token = (JSON.parse(tok.body) as { access_token: string }).access_token;
  const created = await request(`${http}/api/v2/users`, {
    method: 'POST', token,
    body: { username: 'ona3', password: 'S3-user-pw', status: 1, home_dir: path.join(dir, 'ona3'), permissions: { '/': ['*'] },
      filesystem: { provider: 1, s3config: s3config(s3) } },
  });
  assert.equal(created.status, 201, created.body);
  assert.ok(rec.loaded().has('jose') && rec.loaded().has('ajv'), 'a token and a validated POST load jose and ajv');
  // saving the user through the API is not a use of its storage
  assertNotLoaded(rec.loaded(), ['@aws-sdk/client-s3'], 'by creating an S3 user');

  fs.mkdirSync(path.join(s3.dir, 'lazy-bucket'), { recursive: true });
  assert.deepEqual(await sftpReaddir(Number(env.SFTPGO_SFTPD__BINDINGS__0__PORT), 'ona3', 'S3-user-pw'), []);
  const afterLogin = rec.loaded();
  assert.ok(afterLogin.has('@aws-sdk/client-s3'), [...afterLogin].join(' '));
  assertNotLoaded(afterLogin, OPTIONAL.filter((p) => p !== '@aws-sdk/client-s3'), 'by an S3 login');
  assert.equal(await srv.stop(), 0, srv.seen.slice(-5).join('\n'));
});

test('a MySQL data provider loads mysql2 (not pg), a WebDAV binding loads webdav-server', async (t) => {
  const dir = tmpDir(t);
  const db = await createDatabase('mysql');
  t.after(() => db.drop());
  const rec = recordingEnv(dir);
  const env = await serveEnv(dir, {
    SFTPGO_DATA_PROVIDER__DRIVER: 'mysql',
    SFTPGO_DATA_PROVIDER__NAME: db.name,
    SFTPGO_DATA_PROVIDER__HOST: String(db.config.host),
    SFTPGO_DATA_PROVIDER__PORT: String(db.config.port),
    SFTPGO_DATA_PROVIDER__USERNAME: String(db.config.username),
    SFTPGO_DATA_PROVIDER__PASSWORD: '',
    SFTPGO_WEBDAVD__BINDINGS__0__PORT: String(await freePort()),
    SFTPGO_WEBDAVD__BINDINGS__0__ADDRESS: '127.0.0.1',
  });
  const srv = startChild(t, ['serve'], { cwd: dir, env: { ...env, ...rec.env } });
  await srv.waitLine(/"message":"webdavd listening"/);
  await srv.waitLine(/"message":"httpd listening"/);
  const loaded = rec.loaded();
  assert.ok(loaded.has('mysql2') && loaded.has('webdav-server'), [...loaded].join(' '));
  assertNotLoaded(loaded, OPTIONAL.filter((p) => p !== 'mysql2' && p !== 'webdav-server'), 'by a MySQL + WebDAV server');
  assert.equal(await srv.stop(), 0, srv.seen.slice(-5).join('\n'));
});
