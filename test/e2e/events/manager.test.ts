/**
 * The event manager end to end, with rules created through the REST API:
 * "on upload of *.csv under /inbox, POST the file to a URL and move it to
 * /processed" (OpenSSH sftp upload, multipart POST to the test's receiver,
 * rename as the user); a nightly data-retention rule driven by an injected
 * clock; an email action delivered to the smtp-server package with the
 * uploaded file attached; on-demand runs and the refusals.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiOk, startEventsEnv, startReceiver, startSmtpPeer, type EventsEnv, type Receiver, type SmtpPeer } from './env';

let env: EventsEnv;
let rec: Receiver;
let smtp: SmtpPeer;
/** the injected clock: 2026-03-10 02:00:30 UTC */
let nowMs = Date.UTC(2026, 2, 10, 2, 0, 30);

before(async () => {
  rec = await startReceiver();
  smtp = await startSmtpPeer();
  const smtpPort = smtp.port;
  env = await startEventsEnv((c, dir) => {
    c.smtp.host = '127.0.0.1';
    c.smtp.port = smtpPort;
    c.smtp.from = 'sftpgo@example.com';
    c.common.event_manager.enabled_commands = [join(dir, 'cmd.sh')];
  }, () => nowMs);
  await writeFile(join(env.dir, 'cmd.sh'), `#!/bin/sh\n/usr/bin/env -0 > "${join(env.dir, 'cmd-env')}"\necho "$1" > "${join(env.dir, 'cmd-arg')}"\n`, { mode: 0o755 });
  const u = await env.api('POST', '/api/v2/users', {
    username: 'dana', password: 'dana-pw', status: 1, home_dir: env.homeOf('dana'), permissions: { '/': ['*'] }, public_keys: [env.key.publicKey],
  });
  assert.equal(u.status, 201);
});

after(async () => {
  await env?.stop();
  await rec?.close();
  await smtp?.close();
});

const ok = (method: string, path: string, body: unknown, status = 201): Promise<unknown> => apiOk(env, method, path, body, status);

test('on upload of *.csv under /inbox: POST the file (multipart) and move it to /processed', async () => {
  await ok('POST', '/api/v2/eventactions', {
    name: 'post-csv', type: 1, options: { http_config: {
      endpoint: `${rec.url}/csv/{{.Name}}`, method: 'POST', timeout: 20,
      query_parameters: [{ key: 'file', value: '{{.ObjectName}}' }],
      parts: [{ name: 'upload', filepath: '{{.VirtualPath}}' }, { name: 'meta', body: '{"size": {{.FileSize}}, "path": "{{.VirtualPath}}"}', headers: [{ key: 'Content-Type', value: 'application/json' }] }],
    } },
  });
  await ok('POST', '/api/v2/eventactions', {
    name: 'move-csv', type: 9, options: { fs_config: { type: 1, renames: [{ key: '{{.VirtualPath}}', value: '/processed/{{.ObjectName}}' }] } },
  });
  await ok('POST', '/api/v2/eventrules', {
    name: 'csv-inbox', status: 1, trigger: 1,
    conditions: { fs_events: ['upload'], options: { fs_paths: [{ pattern: '/inbox/*.csv' }] } },
    actions: [{ name: 'post-csv', order: 1, relation_options: { stop_on_failure: true } }, { name: 'move-csv', order: 2 }],
  });
  await writeFile(join(env.local, 'report.csv'), 'a,b\n1,2\n');
  await writeFile(join(env.local, 'notes.txt'), 'not a csv');
  const r = await env.sftp('dana', 'mkdir /inbox', `put ${join(env.local, 'report.csv')} /inbox/report.csv`, `put ${join(env.local, 'notes.txt')} /inbox/notes.txt`);
  assert.equal(r.status, 0, r.stderr);
  await env.app.ctx.events.drain();
  const posts = rec.requests.filter((x) => x.url.pathname.startsWith('/csv/'));
  assert.equal(posts.length, 1, 'only the csv upload is posted');
  const post = posts[0]!;
  assert.equal(post.url.pathname, '/csv/dana');
  assert.equal(post.url.searchParams.get('file'), 'report.csv');
  assert.match(String(post.headers['content-type']), /^multipart\/form-data; boundary=/);
  const body = post.body.toString();
  assert.match(body, /name="upload"; filename="report.csv"\r\nContent-Type: application\/octet-stream\r\n\r\na,b\n1,2\n\r\n/);
  assert.match(body, /\{"size": 8, "path": "\/inbox\/report.csv"\}/);
  const home = env.homeOf('dana');
  assert.equal(await readFile(join(home, 'processed', 'report.csv'), 'utf8'), 'a,b\n1,2\n');
  assert.equal(existsSync(join(home, 'inbox', 'report.csv')), false);
  assert.ok(existsSync(join(home, 'inbox', 'notes.txt')));
});

test('a nightly data-retention rule (injected clock) deletes only files older than its threshold', async () => {
  await ok('POST', '/api/v2/eventactions', {
    name: 'purge-logs', type: 8, options: { retention_config: { folders: [{ path: '/logs', retention: 72 }, { path: '/logs/keep', retention: 0 }] } },
  });
  await ok('POST', '/api/v2/eventrules', {
    name: 'nightly-retention', status: 1, trigger: 3,
    conditions: { schedules: [{ hour: '2', day_of_week: '*', day_of_month: '*', month: '*' }], options: { names: [{ pattern: 'dana' }] } },
    actions: [{ name: 'purge-logs' }],
  });
  const logs = join(env.homeOf('dana'), 'logs');
  await mkdir(join(logs, 'keep'), { recursive: true });
  const files = { old: join(logs, 'old.log'), fresh: join(logs, 'fresh.log'), kept: join(logs, 'keep', 'old-but-kept.log') };
  for (const f of Object.values(files)) await writeFile(f, 'x');
  const hoursAgo = (h: number): Date => new Date(nowMs - h * 3600_000);
  await utimes(files.old, hoursAgo(24 * 10), hoursAgo(24 * 10));
  await utimes(files.fresh, hoursAgo(1), hoursAgo(1));
  await utimes(files.kept, hoursAgo(24 * 30), hoursAgo(24 * 30));
  // 01:59: not due
  assert.equal(await env.app.ctx.eventManager.tick(nowMs - 60_000), 0);
  assert.ok(existsSync(files.old));
  assert.equal(await env.app.ctx.eventManager.tick(nowMs), 1);
  assert.equal(existsSync(files.old), false, 'the 10-day-old file is deleted');
  assert.ok(existsSync(files.fresh), 'the 1-hour-old file stays');
  assert.ok(existsSync(files.kept), 'a path with retention 0 is excluded');
  // once per minute, and not at 03:00
  assert.equal(await env.app.ctx.eventManager.tick(nowMs + 10_000), 0);
  assert.equal(await env.app.ctx.eventManager.tick(nowMs + 3600_000), 0);
});

test('an email action delivers to the SMTP server with the uploaded file attached', async () => {
  await ok('POST', '/api/v2/eventactions', {
    name: 'mail-pdf', type: 3, options: { email_config: {
      recipients: ['ops@example.com'], subject: 'New file {{.ObjectName}} from {{.Name}}', body: 'Uploaded {{.VirtualPath}} ({{.FileSize}} bytes) via {{.Protocol}}',
      attachments: ['{{.VirtualPath}}'],
    } },
  });
  await ok('POST', '/api/v2/eventrules', {
    name: 'mail-on-pdf', status: 1, trigger: 1,
    conditions: { fs_events: ['upload'], options: { fs_paths: [{ pattern: '/mail/*.pdf' }], protocols: ['SFTP'] } },
    actions: [{ name: 'mail-pdf' }],
  });
  const content = Buffer.from('%PDF-1.4 fake pdf content for the attachment\n');
  await writeFile(join(env.local, 'doc.pdf'), content);
  const r = await env.sftp('dana', 'mkdir /mail', `put ${join(env.local, 'doc.pdf')} /mail/doc.pdf`);
  assert.equal(r.status, 0, r.stderr);
  await env.app.ctx.events.drain();
  assert.equal(smtp.mails.length, 1);
  const m = smtp.mails[0]!;
  assert.equal(m.from, 'sftpgo@example.com');
  assert.deepEqual(m.to, ['ops@example.com']);
  assert.match(m.raw, /Subject: New file doc\.pdf from dana/);
  assert.ok(m.raw.includes(`Uploaded /mail/doc.pdf (${content.length} bytes) via SFTP`), m.raw.slice(0, 600));
  assert.match(m.raw, /filename=doc\.pdf/);
  assert.ok(m.raw.replace(/\r?\n/g, '').includes(content.toString('base64')), 'the attachment carries the file');
});

test('an on-demand rule runs a whitelisted command with only its env_vars', async () => {
  await ok('POST', '/api/v2/eventactions', {
    name: 'run-cmd', type: 2, options: { cmd_config: {
      cmd: join(env.dir, 'cmd.sh'), args: ['{{.Name}}'], timeout: 10, env_vars: [{ key: 'MY_VAR', value: 'rule-{{.Name}}' }],
    } },
  });
  await ok('POST', '/api/v2/eventrules', { name: 'manual', status: 1, trigger: 6, conditions: { options: {} }, actions: [{ name: 'run-cmd' }] });
  const run = await env.api('POST', '/api/v2/eventrules/run/manual');
  assert.equal(run.status, 202);
  await env.app.ctx.events.drain();
  // PWD is set by sh itself at start-up, it does not come from the server
  const vars = (await readFile(join(env.dir, 'cmd-env'), 'utf8')).split('\0').filter((x) => x !== '' && !x.startsWith('PWD='));
  assert.deepEqual(vars, ['MY_VAR=rule-manual']);
  assert.equal((await readFile(join(env.dir, 'cmd-arg'), 'utf8')).trim(), 'manual');
  // a rule with another trigger cannot be run on demand; an unknown one is 404
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/csv-inbox')).status, 400);
  assert.equal((await env.api('POST', '/api/v2/eventrules/run/nope')).status, 404);
});

test('refusals: unsupported action types and triggers are named, commands must be enabled, secrets never leave', async () => {
  const reserved = await env.api('POST', '/api/v2/eventactions', { name: 'reserved', type: 10, options: {} });
  assert.equal(reserved.status, 400);
  assert.match(JSON.stringify(reserved.json), /unsupported action type: 10/);
  const cmd = await env.api('POST', '/api/v2/eventactions', { name: 'c2', type: 2, options: { cmd_config: { cmd: '/bin/rm', timeout: 5 } } });
  assert.equal(cmd.status, 400);
  assert.match(JSON.stringify(cmd.json), /not allowed/);
  const cert = await env.api('POST', '/api/v2/eventrules', { name: 'cert', status: 1, trigger: 5, conditions: { options: {} }, actions: [{ name: 'run-cmd' }] });
  assert.equal(cert.status, 400);
  assert.match(JSON.stringify(cert.json), /certificate renewal.*ACME/);
  const pre = await env.api('POST', '/api/v2/eventrules', {
    name: 'pre', status: 1, trigger: 1, conditions: { fs_events: ['pre-upload'], options: {} }, actions: [{ name: 'run-cmd' }],
  });
  assert.equal(pre.status, 400);
  assert.match(JSON.stringify(pre.json), /requires at least a sync action/);
  await ok('POST', '/api/v2/eventactions', {
    name: 'with-pw', type: 1, options: { http_config: { endpoint: `${rec.url}/x`, method: 'GET', timeout: 5, username: 'u', password: { status: 'Plain', payload: 'top-secret-pw' } } },
  });
  const got = await env.api('GET', '/api/v2/eventactions/with-pw');
  assert.doesNotMatch(JSON.stringify(got.json), /top-secret-pw/);
  const dump = await env.api('GET', '/api/v2/dumpdata?output-data=1');
  assert.equal(dump.status, 200);
  const d = dump.json as { event_actions: { name: string }[]; event_rules: { name: string }[] };
  assert.ok(d.event_actions.some((a) => a.name === 'post-csv'));
  assert.ok(d.event_rules.some((r) => r.name === 'csv-inbox'));
  assert.doesNotMatch(JSON.stringify(d), /top-secret-pw/);
  // an action used by a rule cannot be deleted
  assert.equal((await env.api('DELETE', '/api/v2/eventactions/post-csv')).status, 400);
});

test('user inactivity (injected clock): disabled past the disable threshold, deleted past the delete threshold', async () => {
  await ok('POST', '/api/v2/users', { username: 'idle1', password: 'idle-pw', status: 1, home_dir: env.homeOf('idle1'), permissions: { '/': ['*'] } });
  await ok('POST', '/api/v2/eventactions', { name: 'inactivity', type: 14, options: { user_inactivity_config: { disable_threshold: 30, delete_threshold: 60 } } });
  await ok('POST', '/api/v2/eventrules', { name: 'idle-check', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'idle*' }] } }, actions: [{ name: 'inactivity' }] });
  // the disable and delete are reported to provider-event rules (executor __system__), as SFTPGo
  await ok('POST', '/api/v2/eventactions', { name: 'tell-change', type: 1, options: { http_config: { endpoint: `${rec.url}/changed/{{.Event}}/{{.ObjectName}}`, method: 'GET', timeout: 10 } } });
  await ok('POST', '/api/v2/eventrules', {
    name: 'idle-changes', status: 1, trigger: 2, conditions: { provider_events: ['update', 'delete'], options: { provider_objects: ['user'], names: [{ pattern: 'idle*' }] } },
    actions: [{ name: 'tell-change' }],
  });
  const bad = await env.api('POST', '/api/v2/eventactions', { name: 'inactivity2', type: 14, options: { user_inactivity_config: { disable_threshold: 30, delete_threshold: 20 } } });
  assert.equal(bad.status, 400);
  const run = async (): Promise<void> => {
    assert.equal((await env.api('POST', '/api/v2/eventrules/run/idle-check')).status, 202);
    await env.app.ctx.events.drain();
  };
  nowMs = Date.now() + 10 * 86400_000;
  await run();
  assert.equal((await env.app.ctx.provider.getUser('idle1'))?.status, 1, '10 days: nothing');
  nowMs = Date.now() + 40 * 86400_000;
  await run();
  assert.equal((await env.app.ctx.provider.getUser('idle1'))?.status, 0, '40 days: disabled');
  assert.equal((await env.app.ctx.provider.getUser('dana'))?.status, 1, 'users outside the conditions are left alone');
  nowMs = Date.now() + 70 * 86400_000;
  await run();
  assert.equal(await env.app.ctx.provider.getUser('idle1'), undefined, '70 days: deleted');
  assert.deepEqual(rec.requests.filter((r) => r.url.pathname.startsWith('/changed/')).map((r) => r.url.pathname), ['/changed/update/idle1', '/changed/delete/idle1']);
});
