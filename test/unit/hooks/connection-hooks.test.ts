/** post_connect_hook, post_disconnect_hook, startup_hook and start-up validation of every hook setting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Hooks, validateHooksConfig } from '../../../src/hooks/index';
import { ConfigError } from '../../../src/config/errors';
import { defaultConfig, hookServer, json, makeHooks, nodeScript, RecordingLogger, shScript, tempDir } from './support';
import { memoryProvider } from './support';

test('post-connect program: exit 0 accepts, anything else refuses with a log line', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.common.post_connect_hook = shScript(dir, 'pc.sh', '[ "$SFTPGO_CONNECTION_IP" = "10.0.0.1" ] && [ "$SFTPGO_CONNECTION_PROTOCOL" = "SSH" ]');
  });
  assert.equal(await f.hooks.postConnect('10.0.0.1', 'SSH'), true);
  assert.equal(await f.hooks.postConnect('10.0.0.2', 'SSH'), false);
  assert.ok(f.logger.lines.some((l) => l.sender === 'post_connect_hook' && /10\.0\.0\.2.*denied/.test(l.message)));
});

test('post-connect HTTP: GET ?ip&protocol, 200 accepts, 403 refuses, an unreachable URL refuses after retries', async (t) => {
  const srv = await hookServer(t, (req, res) => json(res, req.url.searchParams.get('ip') === '10.0.0.1' ? 200 : 403, ''));
  const f = await makeHooks(t, (c) => { c.common.post_connect_hook = `${srv.url}/pc`; });
  assert.equal(await f.hooks.postConnect('10.0.0.1', 'FTP'), true);
  assert.equal(srv.requests[0]?.method, 'GET');
  assert.deepEqual(Object.fromEntries(srv.requests[0]?.url.searchParams ?? []), { ip: '10.0.0.1', protocol: 'FTP' });
  assert.equal(await f.hooks.postConnect('10.9.9.9', 'DAV'), false);
  const g = await makeHooks(t, (c) => { c.common.post_connect_hook = 'http://127.0.0.1:1/unreachable'; c.http.retry_max = 1; });
  assert.equal(await g.hooks.postConnect('10.0.0.1', 'SSH'), false);
  assert.ok(g.logger.lines.some((l) => l.sender === 'post_connect_hook' && /giving up after 2 attempts/.test(l.message)));
});

test('post-disconnect: SSH/SFTP/SCP/FTP only, with username and duration; failures only logged', async (t) => {
  const srv = await hookServer(t, (_req, res) => json(res, 500, ''));
  const f = await makeHooks(t, (c) => { c.common.post_disconnect_hook = srv.url; c.http.retry_max = 0; });
  f.hooks.postDisconnect({ ip: '1.1.1.1', protocol: 'DAV', username: 'u', connectionId: 'c0', durationMs: 5 });
  f.hooks.postDisconnect({ ip: '1.1.1.1', protocol: 'FTP', username: 'u', connectionId: 'c1', durationMs: 1234.7 });
  await f.hooks.drain();
  assert.equal(srv.requests.length, 1);
  assert.deepEqual(Object.fromEntries(srv.requests[0]?.url.searchParams ?? []), { ip: '1.1.1.1', protocol: 'FTP', username: 'u', connection_duration: '1234' });

  const g = await makeHooks(t, (c, dir) => {
    const out = path.join(dir, 'pd.json');
    c.common.post_disconnect_hook = nodeScript(dir, 'pd.js', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`);
  });
  g.hooks.postDisconnect({ ip: '::1', protocol: 'SFTP', username: 'zoe', connectionId: 'c2', durationMs: 42 });
  await g.hooks.drain();
  const env = JSON.parse(readFileSync(path.join(g.dir, 'pd.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(
    [env.SFTPGO_CONNECTION_IP, env.SFTPGO_CONNECTION_PROTOCOL, env.SFTPGO_CONNECTION_USERNAME, env.SFTPGO_CONNECTION_DURATION],
    ['::1', 'SFTP', 'zoe', '42'],
  );
});

test('startup hook: program run or URL GET in the background; a failure is logged, never thrown', async (t) => {
  const srv = await hookServer(t, (_req, res) => json(res, 200, ''));
  const f = await makeHooks(t, (c) => { c.common.startup_hook = `${srv.url}/started`; });
  f.hooks.runStartup();
  await f.hooks.drain();
  assert.equal(srv.requests[0]?.url.pathname, '/started');
  const g = await makeHooks(t, (c, dir) => { c.common.startup_hook = shScript(dir, 'st.sh', 'echo failing >&2; exit 7'); });
  g.hooks.runStartup();
  await g.hooks.drain();
  assert.ok(g.logger.lines.some((l) => l.sender === 'startup_hook' && l.level === 'warn' && /status 7/.test(l.message)));
  assert.ok(g.logger.lines.some((l) => l.sender === 'startup_hook' && l.message === 'failing'));
});

test('start-up validation: relative or missing programs, bad scopes, bad command section stop the server', async (t) => {
  const dir = tempDir(t);
  const prog = shScript(dir, 'ok.sh', 'exit 0');
  const bad = [
    (c: ReturnType<typeof defaultConfig>) => { c.data_provider.pre_login_hook = 'relative/hook.sh'; },
    (c: ReturnType<typeof defaultConfig>) => { c.data_provider.external_auth_hook = path.join(dir, 'missing.sh'); },
    (c: ReturnType<typeof defaultConfig>) => { c.common.post_connect_hook = 'not a hook'; },
    (c: ReturnType<typeof defaultConfig>) => { c.data_provider.external_auth_scope = 16; },
    (c: ReturnType<typeof defaultConfig>) => { c.data_provider.post_login_scope = 3; },
    (c: ReturnType<typeof defaultConfig>) => { c.data_provider.check_password_scope = -1; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.timeout = 0; },
  ];
  for (const edit of bad) assert.throws(() => validateHooksConfig(defaultConfig(edit)), ConfigError);
  validateHooksConfig(defaultConfig((c) => { c.sftpd.keyboard_interactive_auth_hook = prog; c.common.startup_hook = 'https://example.invalid/x'; }));
  const provider = await memoryProvider(t, dir);
  assert.throws(() => new Hooks({
    config: defaultConfig((c) => { c.http.ca_certificates = ['missing-ca.pem']; }), configDir: dir, logger: new RecordingLogger(), provider,
  }), /ca_certificates/);
  assert.throws(() => new Hooks({
    config: defaultConfig((c) => { c.http.timeout = 0; }), configDir: dir, logger: new RecordingLogger(), provider,
  }), /http.timeout/);
});

test('drain(maxMs) stops waiting for a notification that hangs; the request still ends at its timeout', async (t) => {
  const srv = await hookServer(t, () => undefined); // never answers
  const f = await makeHooks(t, (c) => { c.common.post_disconnect_hook = srv.url; c.http.timeout = 1; c.http.retry_max = 0; });
  f.hooks.postDisconnect({ ip: '1.1.1.1', protocol: 'SSH', username: 'u', connectionId: 'c', durationMs: 1 });
  assert.equal(await f.hooks.drain(50), false);
  assert.equal(await f.hooks.drain(), true);
  assert.ok(f.logger.lines.some((l) => l.sender === 'post_disconnect_hook' && /within 1 s/.test(l.message)));
});
