/**
 * Operations commands through the real entry point: gen completion (run in
 * real bash, zsh and fish), gen man (rendered by groff), serve --loaddata-scan,
 * resetpwd and smtptest (against a real SMTP server from the smtp-server package).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../support/net';
import { CLEAN_ENV, request, run, startChild, tmpDir } from './child';

function shell(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `${cmd}: ${String(r.error)} (the CI installs it: .ci/run)`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('gen completion: bash, zsh and fish scripts complete commands, flags and paths', async (t) => {
  const dir = tmpDir(t);
  for (const sh of ['bash', 'zsh', 'fish']) {
    const r = await run(['gen', 'completion', sh], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(dir, `sftpgo.${sh}`), r.stdout);
  }
  fs.mkdirSync(path.join(dir, 'confdir'));
  const bashOut = shell('bash', ['-c', [
    'source ./sftpgo.bash',
    'show() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _sftpgo; echo "${COMPREPLY[*]}"; }',
    'show sftpgo re', 'show sftpgo resetpwd --ad', 'show sftpgo serve -c conf', 'show sftpgo gen completion ""', 'show sftpgo serve --grace-time ""',
  ].join('\n')], dir).split('\n');
  assert.deepEqual(bashOut.slice(0, 5), ['resetprovider revertprovider resetpwd', '--admin', 'confdir', 'bash zsh fish', '']);

  const fishOut = shell('fish', ['-c', 'source ./sftpgo.fish; complete -C "sftpgo smtp"; echo ---; complete -C "sftpgo smtptest --rec"'], dir);
  assert.match(fishOut, /^smtptest\tTest the SMTP configuration\n---\n--recipient\t/);

  shell('zsh', ['-n', 'sftpgo.zsh'], dir);
  // drive the real zsh completion system in a pseudo-terminal (zsh/zpty): TAB after an ambiguous
  // command lists the candidates with their summaries, TAB after a unique flag prefix completes it
  fs.writeFileSync(path.join(dir, 'drive.zsh'), [
    'zmodload zsh/zpty',
    // one fresh interactive zsh per case; `zpty -r -m` blocks until the pattern shows (timeout(1) bounds it)
    'complete_in_pty() {',
    '  zpty z zsh -f -i',
    '  zpty -w z "PS1=; autoload -U compinit && compinit -u -D; source ./sftpgo.zsh; print MARK-START"',
    '  zpty -r -m z out "*MARK-START*"',
    '  zpty -n -w z "$1"',
    '  zpty -r -m z out "$2"',
    '  print -r -- "$out"',
    '  zpty -d z',
    '}',
    "complete_in_pty $'sftpgo resetp\\t' '*resetpwd*administrator*'",
    "complete_in_pty $'sftpgo smtptest --reci\\t' '*--recipient*'",
  ].join('\n'));
  const zshOut = shell('timeout', ['30', 'zsh', '-f', 'drive.zsh'], dir);
  assert.match(zshOut, /resetprovider\s+-- Reset the configured data provider/);
  assert.match(zshOut, /resetpwd\s+-- Reset the password for the specified administrator/);
  assert.match(zshOut, /sftpgo smtptest --recipient/);
});

test('gen man writes one page per command that groff renders without warnings', async (t) => {
  const dir = tmpDir(t);
  const r = await run(['gen', 'man', '-d', 'pages'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const pages = fs.readdirSync(path.join(dir, 'pages')).sort();
  for (const p of ['sftpgo.1', 'sftpgo-serve.1', 'sftpgo-resetpwd.1', 'sftpgo-smtptest.1', 'sftpgo-gen-man.1', 'sftpgo-gen-completion.1']) assert.ok(pages.includes(p), p);
  for (const p of pages) {
    const g = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', path.join(dir, 'pages', p)], { encoding: 'utf8' });
    assert.equal(g.status, 0, `groff ${p}`);
    assert.equal(g.stderr, '', `groff warnings for ${p}`);
  }
  const text = execFileSync('man', ['-l', path.join(dir, 'pages', 'sftpgo-serve.1')], { env: { ...process.env, MANWIDTH: '120', MANPAGER: 'cat', PAGER: 'cat' }, encoding: 'utf8' });
  assert.match(text, /sftpgo-serve - Start the SFTPGo service/);
  assert.match(text, /--loaddata-scan=int\s+quota scan after loading: 0 none, 1 all, 2 users with quota \(default 0, env\s+SFTPGO_LOADDATA_QUOTA_SCAN\)/);
  const bad = await run(['gen', 'completion', 'tcsh'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unsupported shell "tcsh"/);
});

/** Drives a command in a real pseudo-terminal (python3's pty): answers the two password prompts after they show. */
const PTY_DRIVER = `import os, pty, sys, select, time
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b''
def read_until(pat, limit=60.0):
    global buf
    end = time.time() + limit
    while pat not in buf:
        left = end - time.time()
        if left <= 0:
            raise SystemExit('timeout waiting for %r: %r' % (pat, buf))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b''
            if not chunk:
                raise SystemExit('eof waiting for %r: %r' % (pat, buf))
            buf += chunk
read_until(b'Enter Password: ')
os.write(fd, b'Tty-Passw0rd\\r')
read_until(b'Confirm Password: ')
os.write(fd, b'Tty-Passw0rd\\r')
read_until(b'Password updated')
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

async function serveOnce(t: Parameters<typeof startChild>[0], dir: string, extra: string[]) {
  const port = await freePort();
  const srv = startChild(t, ['serve', '-c', dir, '-l', '', '-L', 'info', ...extra], {
    cwd: dir,
    env: { SFTPGO_SFTPD__BINDINGS__0__PORT: '0', SFTPGO_HTTPD__BINDINGS__0__PORT: String(port), SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1' },
  });
  await srv.waitLine(/"message":"httpd listening"/);
  const token = async (user: string, pw: string): Promise<{ status: number; token: string }> => {
    const r = await request(`http://127.0.0.1:${port}/api/v2/token`, { auth: `${user}:${pw}` });
    return { status: r.status, token: r.status === 200 ? (JSON.parse(r.body) as { access_token: string }).access_token : '' };
  };
  return { srv, port, token };
}

test('serve --loaddata-scan recomputes quota of restored users and folders; resetpwd resets an admin password and its 2FA', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, { 'alice/a.txt': 'aaaa', 'alice/sub/b.txt': 'bbbbbb', 'bob/c.txt': 'c', 'shared/1': '1', 'shared/2': '22', 'shared/3': '333' });
  const dump = {
    version: 17,
    admins: [
      { username: 'root', password: 'Root-Passw0rd', status: 1, permissions: ['*'] },
      { username: 'boss', password: 'Old-Passw0rd', status: 1, permissions: ['*'], filters: { totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } } } },
    ],
    users: [
      { username: 'alice', password: 'Alice-Passw0rd', status: 1, home_dir: path.join(dir, 'alice'), permissions: { '/': ['*'] }, quota_files: 100 },
      { username: 'bob', password: 'Bob-Passw0rd', status: 1, home_dir: path.join(dir, 'bob'), permissions: { '/': ['*'] } },
    ],
    folders: [{ name: 'shared', mapped_path: path.join(dir, 'shared') }],
  };
  fs.writeFileSync(path.join(dir, 'dump.json'), JSON.stringify(dump));
  const first = await serveOnce(t, dir, ['--loaddata-from', path.join(dir, 'dump.json'), '--loaddata-scan', '2']);
  const root = await first.token('root', 'Root-Passw0rd');
  assert.equal(root.status, 200);
  const get = async (p: string): Promise<Record<string, number>> => JSON.parse((await request(`http://127.0.0.1:${first.port}/api/v2/${p}`, { token: root.token })).body) as Record<string, number>;
  const alice = await get('users/alice');
  assert.deepEqual([alice.used_quota_files, alice.used_quota_size], [2, 10]);
  const bob = await get('users/bob');
  assert.equal(bob.used_quota_files, 0, 'mode 2 scans only users with a quota limit');
  const shared = await get('folders/shared');
  assert.deepEqual([shared.used_quota_files, shared.used_quota_size], [3, 6]);
  assert.equal(await first.srv.stop(), 0);

  // on a terminal: prompts, no echo of what is typed
  fs.writeFileSync(path.join(dir, 'drive_tty.py'), PTY_DRIVER);
  const tty = spawnSync('python3', [path.join(dir, 'drive_tty.py'), process.execPath, path.resolve(__dirname, '../../../src/cmd/main.js'), 'resetpwd', '-c', dir, '--admin', 'boss'], { cwd: dir, env: CLEAN_ENV, encoding: 'utf8', timeout: 120_000 });
  assert.equal(tty.status, 0, tty.stdout + tty.stderr);
  assert.match(tty.stdout, /Enter Password: [\s\S]*Confirm Password: [\s\S]*Password updated for admin "boss"/);
  assert.ok(!tty.stdout.includes('Tty-Passw0rd'), `typed password echoed: ${tty.stdout}`);
  // from a pipe: two lines
  const ok = await run(['resetpwd', '-c', dir, '--admin', 'boss'], { cwd: dir, stdin: 'New-Passw0rd\nNew-Passw0rd\n' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Enter Password: \nConfirm Password: \nPassword updated for admin "boss"/);
  assert.ok(!ok.stdout.includes('New-Passw0rd') && !ok.stderr.includes('New-Passw0rd'), 'the password is never echoed or logged');
  const mismatch = await run(['resetpwd', '-c', dir, '--admin', 'boss'], { cwd: dir, stdin: 'One-Passw0rd\nTwo-Passw0rd\n' });
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /Passwords do not match/);
  const unknown = await run(['resetpwd', '-c', dir, '--admin', 'nobody'], { cwd: dir, stdin: 'x\nx\n' });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unable to get admin "nobody"/);
  const noFlag = await run(['resetpwd', '-c', dir], { cwd: dir });
  assert.match(noFlag.stderr, /required flag "admin" not set/);
  const memory = await run(['resetpwd', '-c', dir, '--admin', 'boss'], { cwd: dir, env: { SFTPGO_DATA_PROVIDER__DRIVER: 'memory', SFTPGO_DATA_PROVIDER__NAME: '' } });
  assert.match(memory.stderr, /memory provider is not supported/);

  const second = await serveOnce(t, dir, []);
  assert.equal((await second.token('boss', 'Old-Passw0rd')).status, 401);
  const boss = await second.token('boss', 'New-Passw0rd');
  assert.equal(boss.status, 200);
  const dumped = JSON.parse((await request(`http://127.0.0.1:${second.port}/api/v2/dumpdata?output-data=1`, { token: boss.token })).body) as { admins: { username: string; filters?: { totp_config?: { enabled?: boolean } } }[] };
  const stored = dumped.admins.find((a) => a.username === 'boss');
  assert.notEqual(stored?.filters?.totp_config?.enabled, true, 'two-factor authentication disabled');
  assert.equal(await second.srv.stop(), 0);
});

interface Received { from: string; to: string[]; data: string; user: string; method: string; tls: boolean }

async function smtpServer(t: Parameters<typeof tmpDir>[0], opts: { key?: Buffer; cert?: Buffer }) {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: false,
    key: opts.key,
    cert: opts.cert,
    hideSTARTTLS: !opts.key,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, cb) {
      const ok = auth.method === 'CRAM-MD5' ? auth.validatePassword?.('Mail-Passw0rd') === true : auth.password === 'Mail-Passw0rd';
      if (auth.username === 'mailer' && ok) cb(null, { user: `${auth.username}/${auth.method}` });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: String(session.user ?? ''),
          method: String(session.user ?? '').split('/')[1] ?? '',
          tls: session.secure,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const addr = server.server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, received };
}

test('smtptest sends SFTPGo\'s test email with each auth type, over STARTTLS too, and fails clearly', async (t) => {
  const dir = tmpDir(t);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  const srv = await smtpServer(t, { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) });
  const base = {
    SFTPGO_SMTP__HOST: '127.0.0.1', SFTPGO_SMTP__PORT: String(srv.port), SFTPGO_SMTP__FROM: 'SFTPGo <sftpgo@example.com>',
    SFTPGO_SMTP__USER: 'mailer', SFTPGO_SMTP__PASSWORD: 'Mail-Passw0rd', SFTPGO_SMTP__DOMAIN: 'sftpgo.example.com',
  };
  for (const [authType, method] of [['0', 'PLAIN'], ['1', 'LOGIN'], ['2', 'CRAM-MD5']]) {
    const r = await run(['smtptest', '-c', dir, '--recipient', 'admin@example.com'], { cwd: dir, env: { ...base, SFTPGO_SMTP__AUTH_TYPE: authType } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No errors were reported while sending the test email/);
    const secrets = ['Mail-Passw0rd', Buffer.from('Mail-Passw0rd').toString('base64'), Buffer.from('\0mailer\0Mail-Passw0rd').toString('base64')];
    for (const s of secrets) assert.ok(!r.stderr.includes(s), `SMTP debug output must not show the password (${s})`);
    assert.match(r.stderr, /smtp: .*EHLO sftpgo\.example\.com/, 'debug shows the SMTP conversation');
    const m = srv.received.at(-1);
    assert.ok(m);
    assert.deepEqual([m.from, m.to, m.method, m.tls], ['sftpgo@example.com', ['admin@example.com'], method, false]);
    assert.match(m.data, /^Subject: SFTPGo - Testing Email Settings\r?$/m);
    assert.match(m.data, /It appears your SFTPGo email is setup correctly!/);
  }
  // mandatory STARTTLS: the private CA is trusted through NODE_EXTRA_CA_CERTS, as an admin would
  const tls = await run(['smtptest', '-c', dir, '--recipient', 'admin@example.com'], { cwd: dir, env: { ...base, SFTPGO_SMTP__ENCRYPTION: '2', NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') } });
  assert.equal(tls.code, 0, tls.stderr);
  assert.equal(srv.received.at(-1)?.tls, true);
  const untrusted = await run(['smtptest', '-c', dir, '--recipient', 'admin@example.com'], { cwd: dir, env: { ...base, SFTPGO_SMTP__ENCRYPTION: '2' } });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /^sftpgo: error: error sending email: .*certificate/m);
  const count = srv.received.length;
  const wrong = await run(['smtptest', '-c', dir, '--recipient', 'admin@example.com'], { cwd: dir, env: { ...base, SFTPGO_SMTP__PASSWORD: 'wrong' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^sftpgo: error: error sending email: .*(535|invalid credentials)/m);
  assert.equal(srv.received.length, count, 'nothing sent with bad credentials');
  const noHost = await run(['smtptest', '-c', dir, '--recipient', 'admin@example.com'], { cwd: dir });
  assert.equal(noHost.code, 1);
  assert.match(noHost.stderr, /smtp\.host: no SMTP server configured/);
  const noRecipient = await run(['smtptest', '-c', dir], { cwd: dir, env: base });
  assert.match(noRecipient.stderr, /required flag "recipient" not set/);
});

test('serve finds a lone sftpgo.hcl in the config dir; a malformed one is one stderr line with its position', async (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'sftpgo.hcl'), 'httpd {\n  bindings = [\n    { port = 8080 address = }\n  ]\n}\n');
  const bad = await run(['serve', '-c', dir, '-l', ''], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.stderr.trim().split('\n'), [`sftpgo: configuration error: config file ${path.join(dir, 'sftpgo.hcl')}: invalid HCL at line 3, column 29: expected a value, found "}"`]);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'sftpgo.hcl'), `sftpd {\n  bindings = [{ port = 0 }]\n}\nhttpd {\n  bindings {\n    port    = ${port}\n    address = "127.0.0.1"\n  }\n}\ndata_provider {\n  driver = "memory"\n  name   = ""\n}\n`);
  const srv = startChild(t, ['serve', '-c', dir, '-l', '', '-L', 'info'], { cwd: dir });
  const line = await srv.waitLine(/"message":"httpd listening"/);
  assert.match(line, new RegExp(`"port":${port}`));
  assert.ok(!srv.seen.some((l) => l.includes('no configuration file found')), 'the HCL file was loaded');
  assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).status, 200);
  assert.equal(await srv.stop(), 0);
});
