/**
 * The `sftpgo` binary end to end: spawned as a child process, driven by its
 * flags/env, observed through stdout/stderr lines, exit codes and sockets.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client } from 'ssh2';
import { freePort } from '../../support/net';

const MAIN = path.resolve(__dirname, '../../../src/cmd/main.js');
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-cli-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

interface Result { code: number | null; stdout: string; stderr: string }

function run(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: { ...CLEAN_ENV, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running child; lines() waits for a line matching re on the given stream (fails on exit). */
function startChild(t: { after: (fn: () => Promise<void> | void) => void }, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  const child: ChildProcess = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: { ...CLEAN_ENV, ...opts.env } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const seen: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  const waiters: { stream: string; re: RegExp; resolve: (l: string) => void }[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const src = child[stream];
    if (!src) continue;
    createInterface({ input: src }).on('line', (line) => {
      seen.push({ stream, line });
      for (const w of [...waiters]) {
        if (w.stream === stream && w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }
  const waitLine = (stream: 'stdout' | 'stderr', re: RegExp): Promise<string> => {
    const found = seen.find((s) => s.stream === stream && re.test(s.line));
    if (found) return Promise.resolve(found.line);
    return Promise.race([
      new Promise<string>((resolve) => waiters.push({ stream, re, resolve })),
      exited.then((code) => {
        throw new Error(`process exited (${code}) before ${re}: ${seen.map((s) => s.line).join('\n')}`);
      }),
    ]);
  };
  return { child, exited, waitLine };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('--version and version print version, commit and build date', async (t) => {
  const dir = tmpDir(t);
  for (const args of [['--version'], ['version'], ['-v']]) {
    const r = await run(args, { cwd: dir, env: { SFTPGO_COMMIT: 'abc1234', SFTPGO_BUILD_DATE: '2026-01-02T03:04:05Z' } });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^SFTPGo-ts \d+\.\d+\.\d+-abc1234-2026-01-02T03:04:05Z /);
  }
});

test('unknown commands and flags are usage errors', async (t) => {
  const dir = tmpDir(t);
  const a = await run(['frobnicate'], { cwd: dir });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown command "frobnicate"/);
  const b = await run(['serve', '--bogus'], { cwd: dir });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /unknown flag: --bogus/);
  const c = await run(['serve', '--log-max-size', 'big'], { cwd: dir });
  assert.equal(c.code, 2);
  assert.match(c.stderr, /invalid value "big" for --log-max-size/);
});

test('a bad configuration is refused with one stderr line and exit 1', async (t) => {
  const dir = tmpDir(t);
  const a = await run(['serve', '--log-file-path', ''], { cwd: dir, env: { SFTPGO_DATA_PROVIDER__DRIVER: 'oracle' } });
  assert.equal(a.code, 1);
  const lines = a.stderr.trim().split('\n');
  assert.equal(lines.length, 1, a.stderr);
  assert.match(lines[0], /data_provider\.driver.*"oracle"/);

  fs.writeFileSync(path.join(dir, 'sftpgo.json'), '{"sftpd": {"bindings": [{"port": 99999}]}}');
  const b = await run(['serve', '-c', dir, '-l', ''], { cwd: os.tmpdir() });
  assert.equal(b.code, 1);
  assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
  assert.match(b.stderr, /sftpd\.bindings\[0\]\.port: must be between 0 and 65535: value was 99999/);

  fs.writeFileSync(path.join(dir, 'sftpgo.json'), '{ not json');
  const c = await run(['initprovider', '--config-dir', dir, '--log-file-path', ''], { cwd: dir });
  assert.equal(c.code, 1);
  assert.match(c.stderr, /sftpgo\.json: invalid JSON/);

  const d = await run(['serve', '-L', 'loud', '-l', ''], { cwd: tmpDir(t) });
  assert.equal(d.code, 1);
  assert.match(d.stderr, /invalid log level "loud"/);
});

test('initprovider creates the sqlite database; resetprovider needs --force', async (t) => {
  const dir = tmpDir(t);
  const r = await run(['initprovider', '-c', dir], { cwd: os.tmpdir() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /successfully initialized/);
  assert.ok(fs.existsSync(path.join(dir, 'sftpgo.db')));
  assert.ok(fs.existsSync(path.join(dir, 'sftpgo.log')), 'default log file in the config dir');
  const again = await run(['initprovider', '-c', dir], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);

  const noForce = await run(['resetprovider', '-c', dir], { cwd: dir });
  assert.equal(noForce.code, 1);
  assert.match(noForce.stderr, /--force/);
  assert.ok(fs.existsSync(path.join(dir, 'sftpgo.db')));
  const forced = await run(['resetprovider', '-c', dir, '--force'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(!fs.existsSync(path.join(dir, 'sftpgo.db')));
});

test('serve starts sftpd and httpd, answers /healthz and ping, stops cleanly on SIGTERM', async (t) => {
  const dir = tmpDir(t);
  const sftpPort = await freePort();
  const httpPort = await freePort();
  const env = {
    SFTPGO_CONFIG_DIR: dir,
    SFTPGO_LOG_FILE_PATH: '',
    SFTPGO_LOG_LEVEL: 'info',
    SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
    SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
    SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
  };
  const srv = startChild(t, ['serve'], { cwd: dir, env });
  await srv.waitLine('stderr', /"message":"sftpd listening"/);
  await srv.waitLine('stderr', /"message":"httpd listening"/);
  // the entry point loads the padding pool before anything loads ssh2 (src/sftpd/ssh2-padding.ts)
  await srv.waitLine('stderr', /ssh2 packet padding pool \\"applied\\"/);
  // started as `node main.js serve`, without the V8 flags the bin's shebang passes
  await srv.waitLine('stderr', /"level":"warn".*node started without --max-semi-space-size=4 --no-memory-reducer --initial-old-space-size=128/);
  const h = await get(`http://127.0.0.1:${httpPort}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(h.body.trim(), 'ok');
  const p = await run(['ping'], { cwd: dir, env: { SFTPGO_CONFIG_DIR: dir, SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort), SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1' } });
  assert.equal(p.code, 0, p.stderr);
  srv.child.kill('SIGTERM');
  assert.equal(await srv.exited, 0);
  await srv.waitLine('stderr', /"message":"stopped"/);
});

test('env.d files configure serve, including the default admin', async (t) => {
  const dir = tmpDir(t);
  const httpPort = await freePort();
  fs.mkdirSync(path.join(dir, 'env.d'));
  fs.writeFileSync(path.join(dir, 'env.d', 'sftpgo.env'), [
    'SFTPGO_SFTPD__BINDINGS__0__PORT=0',
    `SFTPGO_HTTPD__BINDINGS__0__PORT=${httpPort}`,
    'SFTPGO_HTTPD__BINDINGS__0__ADDRESS=127.0.0.1',
    'SFTPGO_DATA_PROVIDER__DRIVER=memory',
    'SFTPGO_DATA_PROVIDER__NAME=',
    'SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN=true',
    'SFTPGO_DEFAULT_ADMIN_USERNAME=root',
    'SFTPGO_DEFAULT_ADMIN_PASSWORD="Very-s3cret-pw"',
    '',
  ].join('\n'));
  const srv = startChild(t, ['serve', '-c', dir, '-l', '', '-L', 'info'], { cwd: dir });
  await srv.waitLine('stderr', /"message":"httpd listening"/);
  const token = await new Promise<number>((resolve, reject) => {
    http.get(`http://127.0.0.1:${httpPort}/api/v2/token`, { auth: 'root:Very-s3cret-pw' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  assert.equal(token, 200);
  srv.child.kill('SIGINT');
  assert.equal(await srv.exited, 0);
});

test('a start failure (port in use) stops what started and exits 1', async (t) => {
  const dir = tmpDir(t);
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const busy = (blocker.address() as { port: number }).port;
  const r = await run(['serve', '-c', dir, '-l', ''], {
    cwd: dir,
    env: {
      SFTPGO_SFTPD__BINDINGS__0__PORT: String(await freePort()),
      SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(busy),
      SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    },
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sftpgo: error: cannot start httpd: .*EADDRINUSE/);
});

test('portable prints credentials and serves the directory over SFTP', async (t) => {
  const dir = tmpDir(t);
  const served = path.join(dir, 'share');
  fs.mkdirSync(served);
  fs.writeFileSync(path.join(served, 'hello.txt'), 'hello portable\n');
  const port = await freePort();
  const p = startChild(t, ['portable', '-d', served, '-s', String(port), '-u', 'alice', '-L', 'info'], { cwd: dir });
  const ready = await p.waitLine('stdout', /^Portable mode ready, SFTP port: \d+$/);
  assert.equal(Number(/port: (\d+)/.exec(ready)?.[1]), port);
  assert.equal(await p.waitLine('stdout', /^Username: /), 'Username: alice');
  const password = (await p.waitLine('stdout', /^Password: /)).slice('Password: '.length);
  assert.ok(password.length >= 12);
  await p.waitLine('stdout', /^Permissions: list,download$/);

  const names = await new Promise<string[]>((resolve, reject) => {
    const c = new Client();
    c.on('error', reject);
    c.on('ready', () => {
      c.sftp((err, sftp) => {
        if (err) return reject(err);
        sftp.readdir('/', (e, list) => {
          c.end();
          if (e) reject(e);
          else resolve(list.map((x) => x.filename));
        });
      });
    });
    c.connect({ host: '127.0.0.1', port, username: 'alice', password, readyTimeout: 20000 });
  });
  assert.ok(names.includes('hello.txt'), names.join(','));
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
});
