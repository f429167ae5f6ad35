import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createLogger, createNullLogger, type LoggerOptions } from '../../../src/logger/logger';

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-log-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function opts(filePath: string, over: Partial<LoggerOptions> = {}): LoggerOptions {
  return { filePath, level: 'debug', maxSizeMB: 10, maxBackups: 5, maxAgeDays: 28, compress: false, utc: true, ...over };
}

function readLines(file: string): Record<string, unknown>[] {
  const raw = file.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(file)).toString() : fs.readFileSync(file, 'utf8');
  return raw.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('writes SFTPGo JSON fields for app, transfer, command, login, connection_failed and http logs', async (t) => {
  const file = path.join(tmpDir(t), 'sftpgo.log');
  const log = createLogger(opts(file));
  log.info('sftpd', 'server listening', { connection_id: 'SSH_1' });
  log.transfer({
    sender: 'Upload', localAddr: '127.0.0.1:2022', remoteAddr: '127.0.0.1:5000', elapsedMs: 12, sizeBytes: 34,
    username: 'u1', filePath: '/srv/u1/a', virtualPath: '/a', connectionId: 'SFTP_1', protocol: 'SFTP',
  });
  log.transfer({
    sender: 'Download', localAddr: 'l', remoteAddr: 'r', elapsedMs: 1, sizeBytes: 0, username: 'u1',
    filePath: '/f', virtualPath: '/f', connectionId: 'FTP_1', protocol: 'FTP', ftpMode: 'passive', error: 'boom',
  });
  log.command({
    sender: 'Rename', localAddr: 'l', remoteAddr: 'r', username: 'u1', filePath: '/a', targetPath: '/b',
    virtualPath: '/a', virtualTargetPath: '/b', elapsedMs: 3, connectionId: 'SFTP_1', protocol: 'SFTP',
  });
  log.login({ ip: '1.2.3.4', username: 'u1', method: 'password', protocol: 'SSH', connectionId: 'SSH_1', client: 'OpenSSH', encrypted: true });
  log.connectionFailed({ clientIp: '1.2.3.4', username: 'bad', loginType: 'password', protocol: 'SSH', error: 'invalid credentials' });
  log.http({ resp_status: 500, method: 'GET', uri: 'http://x/' });
  await log.close();
  const lines = readLines(file);
  assert.equal(lines.length, 7);
  for (const l of lines) assert.match(String(l.time), TIME_RE);
  assert.deepEqual(Object.keys(lines[0]).slice(0, 3), ['level', 'time', 'sender']);
  assert.equal(lines[0].level, 'info');
  assert.equal(lines[0].message, 'server listening');
  assert.equal(lines[1].sender, 'Upload');
  assert.equal(lines[1].size_bytes, 34);
  assert.equal(lines[1].elapsed_ms, 12);
  assert.equal(lines[1].virtual_path, '/a');
  assert.equal(lines[2].level, 'error');
  assert.equal(lines[2].ftp_mode, 'passive');
  assert.equal(lines[2].error, 'boom');
  assert.equal(lines[3].sender, 'Rename');
  assert.equal(lines[3].target_path, '/b');
  assert.equal(lines[3].uid, -1);
  assert.equal(lines[3].size, -1);
  assert.equal(lines[3].elapsed, 3);
  assert.equal(lines[4].sender, 'login');
  assert.equal(lines[4].encrypted, true);
  assert.equal(lines[5].sender, 'connection_failed');
  assert.equal(lines[5].level, 'debug');
  assert.equal(lines[5].client_ip, '1.2.3.4');
  assert.equal(lines[5].login_type, 'password');
  assert.equal(lines[6].sender, 'httpd');
  assert.equal(lines[6].level, 'error');
});

test('flush waits for lines queued behind a write in flight', async (t) => {
  const file = path.join(tmpDir(t), 'sftpgo.log');
  const log = createLogger(opts(file));
  t.after(() => log.close());
  // The first line starts an async write at once; the next ones queue behind it.
  for (let i = 0; i < 50; i++) log.warn('sftpd', `line ${i}`);
  await log.flush();
  // read synchronously: nothing may still be on its way to the file
  const lines = readLines(file);
  assert.equal(lines.length, 50);
  assert.equal(lines[49].message, 'line 49');
});

test('level filtering and invalid level', async (t) => {
  const file = path.join(tmpDir(t), 'x.log');
  const log = createLogger(opts(file, { level: 'warn' }));
  assert.equal(log.isDebugEnabled(), false);
  log.debug('s', 'no');
  log.info('s', 'no');
  log.warn('s', 'yes');
  log.error('s', 'yes too');
  log.http({ resp_status: 200 }); // debug level: filtered
  await log.close();
  assert.deepEqual(readLines(file).map((l) => l.level), ['warn', 'error']);
  assert.throws(() => createLogger(opts(file, { level: 'verbose' })), /invalid log level "verbose"/);
});

test('secret fields are redacted', async (t) => {
  const file = path.join(tmpDir(t), 'x.log');
  const log = createLogger(opts(file));
  log.info('httpd', 'login', { password: 'hunter2', token: 'tok-123', private_key: 'PRIVATE', username: 'u' });
  await log.close();
  const raw = fs.readFileSync(file, 'utf8');
  assert.ok(!raw.includes('hunter2'));
  assert.ok(!raw.includes('tok-123'));
  assert.ok(!raw.includes('PRIVATE'));
  assert.ok(raw.includes('"username":"u"'));
});

test('local time format when utc is false', async (t) => {
  const file = path.join(tmpDir(t), 'x.log');
  const log = createLogger(opts(file, { utc: false }));
  log.info('s', 'm');
  await log.close();
  assert.match(String(readLines(file)[0].time), TIME_RE);
});

test('size rotation keeps every line, prunes to maxBackups and compresses', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'sftpgo.log');
  // maxSizeMB is fractional here only to keep the test small: ~1 KiB per file
  const log = createLogger(opts(file, { maxSizeMB: 1 / 1024, maxBackups: 3, compress: true }));
  const total = 200;
  for (let i = 0; i < total; i++) log.info('test', `line ${i}`, { n: i });
  await log.flush();
  await log.close();
  const names = fs.readdirSync(dir);
  const backups = names.filter((n) => /^sftpgo-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log\.gz$/.test(n));
  assert.equal(backups.length, 3, names.join(','));
  assert.ok(names.every((n) => n === 'sftpgo.log' || backups.includes(n)), names.join(','));
  // The newest backups plus the live file hold a contiguous tail of the sequence, ending at the last line.
  const all = [...backups.sort(), 'sftpgo.log'].flatMap((n) => readLines(path.join(dir, n)));
  const seq = all.map((l) => Number(l.n));
  assert.equal(seq[seq.length - 1], total - 1);
  for (let i = 1; i < seq.length; i++) assert.equal(seq[i], seq[i - 1] + 1);
  assert.ok(fs.statSync(file).size <= 1024);
});

test('forced rotate (SIGUSR1) loses nothing', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'app.log');
  const log = createLogger(opts(file, { maxBackups: 0, maxAgeDays: 0 }));
  for (let i = 0; i < 50; i++) {
    log.info('t', 'm', { n: i });
    if (i % 10 === 9) log.rotate();
  }
  await log.close();
  const files = fs.readdirSync(dir).sort();
  assert.equal(files.length, 6);
  const seq = files.filter((f) => f !== 'app.log').concat('app.log').flatMap((f) => readLines(path.join(dir, f))).map((l) => Number(l.n));
  assert.deepEqual(seq, Array.from({ length: 50 }, (_, i) => i));
});

test('worker mode: a forced rotate asks the owner; after the owner renamed the file, reopen writes to a new one', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'shared.log');
  const owner = createLogger(opts(file));
  let asked = 0;
  const worker = createLogger(opts(file, { requestRotation: () => { asked++; } }));
  worker.info('w', 'before');
  worker.rotate();
  assert.equal(asked, 1);
  await worker.flush();
  assert.deepEqual(fs.readdirSync(dir), ['shared.log'], 'the worker renamed nothing');
  owner.rotate();
  worker.info('w', 'into the backup until reopened');
  worker.reopen();
  worker.info('w', 'after');
  owner.info('o', 'owner after');
  await worker.close();
  await owner.close();
  const backups = fs.readdirSync(dir).filter((n) => n !== 'shared.log');
  assert.equal(backups.length, 1);
  assert.deepEqual(readLines(path.join(dir, backups[0]!)).map((l) => l.message), ['before', 'into the backup until reopened']);
  assert.deepEqual(readLines(file).map((l) => l.message).sort(), ['after', 'owner after']);
});

test('worker mode: the shared file is rotated by size once, by the owner, whichever process fills it', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'shared.log');
  const max = { maxSizeMB: 4 / 1024, maxBackups: 0, maxAgeDays: 0 };
  const owner = createLogger(opts(file, max));
  const requests: string[] = [];
  // two workers, each writing well under the limit by itself: only the file's real size can tell it is full
  const workers = [0, 1].map((w) => createLogger(opts(file, { ...max, requestRotation: (reason) => { requests.push(`${w}:${reason}`); } })));
  let ownerRotations = 0;
  owner.onSizeRotation(() => { ownerRotations++; });
  const total = 300;
  for (let i = 0; i < total; i++) {
    const log = i % 3 === 2 ? owner : workers[i % 3]!;
    log.info('t', 'm', { n: i });
    await log.flush();
    // the primary answers each request; every process then reopens (SIGUSR1), as runPrimary does
    if (requests.length > 0) {
      requests.length = 0;
      if (owner.rotateIfFull()) for (const w of workers) w.reopen();
    }
    if (ownerRotations > 0) { ownerRotations = 0; for (const w of workers) w.reopen(); }
  }
  for (const w of workers) await w.close();
  await owner.close();
  const backups = fs.readdirSync(dir).filter((n) => n !== 'shared.log').sort();
  assert.ok(backups.length >= 5, `rotated ${backups.length} times`);
  const limit = 4 * 1024;
  for (const b of backups) {
    const size = fs.statSync(path.join(dir, b)).size;
    // never rotated twice in a row (a tiny backup) nor left to grow far past the limit
    assert.ok(size > limit / 2 && size < limit * 1.5, `${b}: ${size} bytes`);
  }
  const seq = [...backups, 'shared.log'].flatMap((f) => readLines(path.join(dir, f))).map((l) => Number(l.n)).sort((a, b) => a - b);
  assert.deepEqual(seq, Array.from({ length: total }, (_, i) => i), 'every line once');
});

test('null logger is silent and complete', async () => {
  const log = createNullLogger();
  log.info('a', 'b');
  log.rotate();
  await log.flush();
  assert.equal(log.isDebugEnabled(), false);
});
