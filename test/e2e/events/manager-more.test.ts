/**
 * Event manager behaviour beyond the main scenarios: a sync pre-upload rule
 * refusing uploads through several protocols, a failing sync upload action
 * failing the upload, stop_on_failure and failure actions, a hanging
 * command and a silent endpoint that time out without holding an async
 * transfer, compress to zip (checked with Python's zipfile), provider-event
 * rules, and dump restore (loaddata) of actions and rules.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run } from '../sftpd/openssh';
import { startEventsEnv, startReceiver, type EventsEnv, type Receiver } from './env';

let env: EventsEnv;
let rec: Receiver;

before(async () => {
  rec = await startReceiver();
  rec.answer = (r) => (r.url.pathname.startsWith('/deny') ? 403 : 200);
  env = await startEventsEnv((c, dir) => {
    c.common.event_manager.enabled_commands = [join(dir, 'hang.sh')];
  });
  await writeFile(join(env.dir, 'hang.sh'), '#!/bin/sh\nexec /bin/sleep 600\n', { mode: 0o755 });
  await env.api('POST', '/api/v2/users', {
    username: 'erin', password: 'erin-pw', status: 1, home_dir: env.homeOf('erin'), permissions: { '/': ['*'] }, public_keys: [env.key.publicKey],
  });
  await writeFile(join(env.local, 'f.txt'), 'payload\n');
});

after(async () => {
  await env?.stop();
  await rec?.close();
});

async function ok(method: string, path: string, body: unknown, status = 201): Promise<void> {
  const r = await env.api(method, path, body);
  assert.equal(r.status, status, JSON.stringify(r.json));
}

test('a sync pre-upload rule whose HTTP action is refused denies uploads (SFTP, FTP, WebDAV)', async () => {
  await ok('POST', '/api/v2/eventactions', { name: 'gate', type: 1, options: { http_config: { endpoint: `${rec.url}/deny/{{.Name}}`, method: 'POST', timeout: 10, body: '{"path":"{{.VirtualPath}}"}', headers: [{ key: 'Content-Type', value: 'application/json' }] } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'gate-blocked', status: 1, trigger: 1,
    conditions: { fs_events: ['pre-upload'], options: { fs_paths: [{ pattern: '/blocked/*' }] } },
    actions: [{ name: 'gate', relation_options: { execute_sync: true } }],
  });
  const src = join(env.local, 'f.txt');
  const s = await env.sftp('erin', 'mkdir /blocked', `put ${src} /blocked/a.txt`);
  assert.notEqual(s.status, 0);
  assert.match(s.stderr, /Permission denied/);
  assert.notEqual((await env.ftp('erin', 'erin-pw', ['put f.txt -o /blocked/b.txt'])).code, 0);
  assert.equal(await env.davPut('erin', 'erin-pw', src, '/blocked/c.txt'), 403);
  for (const n of ['a.txt', 'b.txt', 'c.txt']) assert.equal(existsSync(join(env.homeOf('erin'), 'blocked', n)), false);
  const body = rec.requests.find((r) => r.url.pathname === '/deny/erin')?.body.toString();
  assert.equal(body, '{"path":"/blocked/a.txt"}');
  // elsewhere uploads are not gated
  assert.equal((await env.sftp('erin', `put ${src} /free.txt`)).status, 0);
});

test('a failing sync upload action fails the upload and removes the file; failure actions run, stop_on_failure stops', async () => {
  await ok('POST', '/api/v2/eventactions', { name: 'must-accept', type: 1, options: { http_config: { endpoint: `${rec.url}/deny/upload`, method: 'POST', timeout: 10 } } });
  await ok('POST', '/api/v2/eventactions', { name: 'after-stop', type: 1, options: { http_config: { endpoint: `${rec.url}/never`, method: 'POST', timeout: 10 } } });
  await ok('POST', '/api/v2/eventactions', { name: 'on-failure', type: 1, options: { http_config: { endpoint: `${rec.url}/failed?err={{.ErrorString}}`, method: 'GET', timeout: 10 } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'strict-upload', status: 1, trigger: 1,
    conditions: { fs_events: ['upload'], options: { fs_paths: [{ pattern: '/strict/*' }] } },
    actions: [
      { name: 'must-accept', order: 1, relation_options: { execute_sync: true, stop_on_failure: true } },
      { name: 'after-stop', order: 2, relation_options: { execute_sync: true } },
      { name: 'on-failure', order: 3, relation_options: { is_failure_action: true } },
    ],
  });
  const r = await env.sftp('erin', 'mkdir /strict', `put ${join(env.local, 'f.txt')} /strict/x.txt`);
  assert.notEqual(r.status, 0, 'the upload fails');
  assert.equal(existsSync(join(env.homeOf('erin'), 'strict', 'x.txt')), false, 'the file is removed');
  await env.app.ctx.events.drain();
  assert.equal(rec.requests.filter((x) => x.url.pathname === '/never').length, 0, 'stop_on_failure');
  const failed = rec.requests.find((x) => x.url.pathname === '/failed');
  assert.ok(failed, 'the failure action ran');
  assert.match(failed.url.searchParams.get('err') ?? '', /must-accept: unexpected status code: 403/);
});

test('a hanging command and a silent endpoint time out in the background; the transfer is not held', async () => {
  await ok('POST', '/api/v2/eventactions', { name: 'hang', type: 2, options: { cmd_config: { cmd: join(env.dir, 'hang.sh'), timeout: 1 } } });
  await ok('POST', '/api/v2/eventactions', { name: 'slow-http', type: 1, options: { http_config: { endpoint: `${rec.url}/slow`, method: 'POST', timeout: 1 } } });
  await ok('POST', '/api/v2/eventactions', { name: 'report', type: 1, options: { http_config: { endpoint: `${rec.url}/report?e={{.ErrorString}}`, method: 'GET', timeout: 10 } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'slow-things', status: 1, trigger: 1, conditions: { fs_events: ['upload'], options: { fs_paths: [{ pattern: '/slow/*' }] } },
    actions: [{ name: 'hang', order: 1 }, { name: 'slow-http', order: 2 }, { name: 'report', order: 3, relation_options: { is_failure_action: true } }],
  });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => { release = resolve; });
  rec.hold = (r) => (r.url.pathname === '/slow' ? released : Promise.resolve());
  try {
    const r = await env.sftp('erin', 'mkdir /slow', `put ${join(env.local, 'f.txt')} /slow/s.txt`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(env.homeOf('erin'), 'slow', 's.txt')));
    // both actions end by their own timeouts (1 s each), then the failure action reports them
    await env.app.ctx.events.drain();
  } finally {
    release();
    rec.hold = () => Promise.resolve();
  }
  const rep = rec.requests.find((x) => x.url.pathname === '/report')?.url.searchParams.get('e') ?? '';
  assert.match(rep, /hang: .*timeout/);
  assert.match(rep, /slow-http: no answer/);
});

test('compress to zip: the archive holds the files, readable by Python zipfile', async () => {
  const home = env.homeOf('erin');
  await run('mkdir', ['-p', join(home, 'docs', 'sub')]);
  await writeFile(join(home, 'docs', 'a.txt'), 'alpha');
  await writeFile(join(home, 'docs', 'sub', 'b.txt'), 'bravo'.repeat(1000));
  await ok('POST', '/api/v2/eventactions', { name: 'zip-docs', type: 9, options: { fs_config: { type: 5, compress: { name: '/archives/docs-{{.Name}}.zip', paths: ['/docs'] } } } });
  await ok('POST', '/api/v2/eventrules', { name: 'zip-now', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'erin' }] } }, actions: [{ name: 'zip-docs' }] });
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/zip-now')).status, 202);
  await env.app.ctx.events.drain();
  const zip = join(home, 'archives', 'docs-zip-now.zip');
  const py = await run('python3', ['-c', [
    'import sys, zipfile', 'z = zipfile.ZipFile(sys.argv[1])', 'assert z.testzip() is None',
    'print(sorted(z.namelist()))', 'print(z.read("docs/a.txt").decode())', 'print(len(z.read("docs/sub/b.txt")))',
  ].join('\n'), zip]);
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout, "['docs/', 'docs/a.txt', 'docs/sub/', 'docs/sub/b.txt']\nalpha\n5000\n");
});

test('a provider-event rule fires for users added through the REST API, with the object data', async () => {
  await ok('POST', '/api/v2/eventactions', { name: 'tell', type: 1, options: { http_config: {
    endpoint: `${rec.url}/provider-rule`, method: 'POST', timeout: 10, body: '{{.ObjectData}}', headers: [{ key: 'Content-Type', value: 'application/json' }],
  } } });
  await ok('POST', '/api/v2/eventrules', { name: 'on-user-add', status: 1, trigger: 2, conditions: { provider_events: ['add'], options: { provider_objects: ['user'] } }, actions: [{ name: 'tell' }] });
  await ok('POST', '/api/v2/users', { username: 'frank', password: 'frank-secret', status: 1, home_dir: env.homeOf('frank'), permissions: { '/': ['*'] } });
  await ok('POST', '/api/v2/folders', { name: 'shared', mapped_path: join(env.dir, 'shared') });
  await env.app.ctx.events.drain();
  const hits = rec.requests.filter((x) => x.url.pathname === '/provider-rule');
  assert.equal(hits.length, 1, 'only the user add, not the folder');
  const obj = JSON.parse(hits[0]!.body.toString()) as Record<string, unknown>;
  assert.equal(obj.username, 'frank');
  assert.equal('password' in obj, false);
});

test('loaddata restores event actions and rules from a dump, refusing an invalid one', async () => {
  const dump = {
    version: 17, users: [], folders: [], admins: [], api_keys: [],
    event_actions: [{ name: 'restored-action', type: 9, options: { fs_config: { type: 3, mkdirs: ['/restored-{{.Name}}'] } } }],
    event_rules: [{ name: 'restored-rule', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'erin' }] } }, actions: [{ name: 'restored-action' }] }],
  };
  assert.equal((await env.api('POST', '/api/v2/loaddata?mode=0', dump)).status, 200);
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/restored-rule')).status, 202);
  await env.app.ctx.events.drain();
  assert.ok(existsSync(join(env.homeOf('erin'), 'restored-restored-rule')));
  const bad = await env.api('POST', '/api/v2/loaddata?mode=0', { ...dump, event_actions: [{ name: 'x', type: 13, options: { idp_config: { mode: 0 } } }], event_rules: [] });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.json), /event action 1: .*at least a template must be set/);
  assert.ok((await readFile(join(env.dir, 'sftpgo.log'), 'utf8')).length > 0);
});

test('backup, transfer quota reset and log rotation actions; a user-bound action refuses a folder event', async () => {
  await ok('POST', '/api/v2/eventactions', { name: 'backup', type: 4, options: {} });
  await ok('POST', '/api/v2/eventactions', { name: 'reset-transfers', type: 7, options: {} });
  await ok('POST', '/api/v2/eventactions', { name: 'rotate', type: 15, options: {} });
  await ok('POST', '/api/v2/eventactions', { name: 'tell-backup', type: 1, options: { http_config: { endpoint: `${rec.url}/backup-done?f={{.ObjectName}}&s={{.FileSize}}`, method: 'GET', timeout: 10 } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'maintenance', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'erin' }] } },
    actions: [{ name: 'backup', order: 1 }, { name: 'reset-transfers', order: 2 }, { name: 'rotate', order: 3 }, { name: 'tell-backup', order: 4 }],
  });
  await env.app.ctx.provider.updateUserTransferQuota('erin', 1000, 2000);
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/maintenance')).status, 202);
  await env.app.ctx.events.drain();
  const told = rec.requests.find((x) => x.url.pathname === '/backup-done');
  assert.ok(told, 'the actions after the backup ran');
  const file = told.url.searchParams.get('f') ?? '';
  assert.match(file, /^backup_(Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday)_\d{1,2}\.json$/);
  const dumped = JSON.parse(await readFile(join(env.dir, 'backups', file), 'utf8')) as { users: { username: string }[]; event_rules: { name: string }[] };
  assert.ok(dumped.users.some((u) => u.username === 'erin'));
  assert.ok(dumped.event_rules.some((r) => r.name === 'maintenance'));
  assert.equal(Number(told.url.searchParams.get('s')) > 0, true);
  const erin = await env.app.ctx.provider.getUser('erin');
  assert.equal(erin?.used_upload_data_transfer, 0);
  assert.equal(erin?.used_download_data_transfer, 0);
  // a filesystem action on a folder event has no user: refused, nothing done
  await ok('POST', '/api/v2/eventactions', { name: 'mk-on-folder', type: 9, options: { fs_config: { type: 3, mkdirs: ['/should-not-exist'] } } });
  await ok('POST', '/api/v2/eventactions', { name: 'folder-failed', type: 1, options: { http_config: { endpoint: `${rec.url}/folder-failed?e={{.ErrorString}}`, method: 'GET', timeout: 10 } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'on-folder', status: 1, trigger: 2, conditions: { provider_events: ['add'], options: { provider_objects: ['folder'] } },
    actions: [{ name: 'mk-on-folder' }, { name: 'folder-failed', relation_options: { is_failure_action: true } }],
  });
  await ok('POST', '/api/v2/folders', { name: 'f2', mapped_path: join(env.dir, 'f2') });
  await env.app.ctx.events.drain();
  assert.match(rec.requests.find((x) => x.url.pathname === '/folder-failed')?.url.searchParams.get('e') ?? '', /only supported for events about a user/);
  for (const u of ['erin', 'frank']) assert.equal(existsSync(join(env.homeOf(u), 'should-not-exist')), false);
});

test('user and folder quota reset actions store what is on disk', async () => {
  await run('mkdir', ['-p', join(env.dir, 'shared')]);
  await writeFile(join(env.dir, 'shared', 'one.bin'), Buffer.alloc(1234));
  await ok('POST', '/api/v2/eventactions', { name: 'user-quota', type: 5, options: {} });
  await ok('POST', '/api/v2/eventactions', { name: 'folder-quota', type: 6, options: {} });
  await ok('POST', '/api/v2/eventrules', {
    name: 'quota-now', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'erin' }, { pattern: 'shared' }] } },
    actions: [{ name: 'user-quota', order: 1 }, { name: 'folder-quota', order: 2 }],
  });
  await env.app.ctx.provider.updateUserQuota('erin', 0, 0, true);
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/quota-now')).status, 202);
  await env.app.ctx.events.drain();
  const du = await run('sh', ['-c', `find "${env.homeOf('erin')}" -type f | wc -l`]);
  const erin = await env.app.ctx.provider.getUser('erin');
  assert.equal(erin?.used_quota_files, Number(du.stdout.trim()));
  assert.ok((erin?.used_quota_size ?? 0) > 0);
  const folder = await env.app.ctx.provider.getFolder('shared');
  assert.equal(folder?.used_quota_files, 1);
  assert.equal(folder?.used_quota_size, 1234);
});
