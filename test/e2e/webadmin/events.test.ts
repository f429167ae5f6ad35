/**
 * The web admin's event manager pages over real HTTP (cookie session, CSRF
 * tokens): every action type saved through the form and read back through
 * the event manager, refused saves shown in the form with the validator's
 * message naming the field, the HTTP password sealed and shown only as
 * [**redacted**], a rule with every condition kind, the expiration and IDP
 * account check actions, IP blocked and IDP login rules, an on-demand run,
 * the permission (manage_event_rules) and the CSRF check.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerContext } from '../../../src/common/context';
import { WebSession } from './fetchsession';
import { startAppEnv, type AppEnv } from './harness';

let env: AppEnv;
let s: { ctx: ServerContext; base: string };
let web: WebSession;
before(async () => {
  env = await startAppEnv((c) => { c.common.event_manager.enabled_commands = ['/bin/true']; });
  s = { ctx: env.app.ctx, base: env.base };
  await s.ctx.provider.addAdmin({ username: 'admin', password: 'password', status: 1, permissions: ['*'] });
  web = new WebSession(s.base);
  await web.login('admin', 'password');
});
after(async () => { await env?.stop(); });

const em = () => s.ctx.eventManager;
const addAction = (fields: Record<string, string>) => web.submit('/web/admin/eventaction', '/web/admin/eventaction', fields);

test('the lists render, empty and with objects', async () => {
  for (const p of ['/web/admin/eventactions', '/web/admin/eventrules', '/web/admin/eventaction', '/web/admin/eventrule']) {
    const r = await web.get(p);
    assert.equal(r.status, 200, p);
  }
});

test('an HTTP action with headers, query, parts and a password', async () => {
  const fields = {
    name: 'hook', type: '1', description: 'post it', http_endpoint: 'http://127.0.0.1:9/in', http_method: 'PUT', http_timeout: '15',
    http_username: 'u', http_password: 'http-secret-pw', http_header_0_key: 'X-A', http_header_0_value: '{{.Name}}', http_query_0_key: 'p', http_query_0_value: '{{.VirtualPath}}',
    http_part_0_name: 'file', http_part_0_filepath: '{{.VirtualPath}}', http_part_0_headers: 'Content-Type: text/csv\n', http_part_1_name: 'meta', http_part_1_body: '{"e":"{{.Event}}"}',
  };
  const r = await addAction(fields);
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const a = await em().getAction('hook');
  const h = a?.options.http_config;
  assert.equal(h?.endpoint, 'http://127.0.0.1:9/in');
  assert.equal(h?.method, 'PUT');
  assert.equal(h?.timeout, 15);
  assert.deepEqual(h?.headers, [{ key: 'X-A', value: '{{.Name}}' }]);
  assert.deepEqual(h?.query_parameters, [{ key: 'p', value: '{{.VirtualPath}}' }]);
  assert.deepEqual(h?.parts, [
    { name: 'file', filepath: '/{{.VirtualPath}}', headers: [{ key: 'Content-Type', value: 'text/csv' }] },
    { name: 'meta', body: '{"e":"{{.Event}}"}', headers: [] },
  ]);
  assert.equal(h?.password?.status, 'Secretbox');
  const page = await web.get('/web/admin/eventaction/hook');
  assert.ok(!page.text.includes('http-secret-pw'));
  assert.match(page.text, /name="http_password" value="\[\*\*redacted\*\*\]"/);
  // saved back with the password untouched: still the stored one
  const { http_password: _pw, ...rest } = fields;
  const kept = await web.submit('/web/admin/eventaction/hook', '/web/admin/eventaction/hook', { ...rest, http_password: '[**redacted**]', http_timeout: '16' });
  assert.equal(kept.status, 303, kept.text.slice(0, 400));
  const stored = await s.ctx.provider.backend.eventObjects?.getEventAction('hook');
  assert.equal(await s.ctx.kms.decrypt(stored!.options.http_config.password!), 'http-secret-pw');
  assert.equal(stored?.options.http_config.timeout, 16);
});

test('refused saves re-render the form with the validator message, nothing stored', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ name: 'bad1', type: '1', http_endpoint: 'ftp://x', http_timeout: '10', http_method: 'POST' }, /invalid HTTP endpoint schema/],
    [{ name: 'bad2', type: '1', http_endpoint: 'http://x', http_timeout: '500', http_method: 'POST' }, /http_config\.timeout must be between 1 and 180/],
    [{ name: 'bad3', type: '2', cmd_path: '/bin/sh', cmd_timeout: '5' }, /command &quot;\/bin\/sh&quot; is not allowed/],
    [{ name: 'bad4', type: '8', ret_0_path: '/a', ret_0_hours: '0' }, /nothing to delete/],
    [{ name: 'bad5', type: '9', fs_type: '1', fs_rename_0_key: '/a', fs_rename_0_value: '/a' }, /rename source and target cannot be equal/],
    [{ name: 'bad 6', type: '4' }, /name &quot;bad 6&quot; is not valid/],
    [{ name: 'bad7', type: '14', inactivity_disable: '5', inactivity_delete: '3' }, /deletion threshold 3 must be greater/],
  ];
  for (const [fields, re] of cases) {
    const r = await addAction(fields);
    assert.equal(r.status, 400, `${fields.name}: ${r.status}`);
    assert.match(r.text, re);
    assert.match(r.text, /id="action-form"/);
    assert.equal(await em().getAction(fields.name), undefined);
  }
  const dup = await addAction({ name: 'hook', type: '4' });
  assert.equal(dup.status, 400);
});

test('every other action type through the form', async () => {
  const ok: [Record<string, string>, (a: NonNullable<Awaited<ReturnType<ReturnType<typeof em>['getAction']>>>) => void][] = [
    [{ name: 'cmd', type: '2', cmd_path: '/bin/true', cmd_timeout: '9', cmd_args: 'one\n{{.VirtualPath}}\n', cmd_env_0_key: 'K', cmd_env_0_value: 'v' },
      (a) => assert.deepEqual(a.options.cmd_config, { cmd: '/bin/true', args: ['one', '{{.VirtualPath}}'], timeout: 9, env_vars: [{ key: 'K', value: 'v' }] })],
    [{ name: 'mail', type: '3', email_recipients: 'a@x.org, b@x.org', email_bcc: 'c@x.org', email_subject: 'S', email_body: '<b>B</b>', email_content_type: '1', email_attachments: '/f.csv' },
      (a) => assert.deepEqual(a.options.email_config, { recipients: ['a@x.org', 'b@x.org'], bcc: ['c@x.org'], subject: 'S', body: '<b>B</b>', attachments: ['/f.csv'], content_type: 1 })],
    [{ name: 'ret', type: '8', ret_0_path: '/old', ret_0_hours: '48', ret_0_delete_empty_dirs: '1', ret_1_path: '/old/keep', ret_1_hours: '0' },
      (a) => assert.deepEqual(a.options.retention_config, { folders: [{ path: '/old', retention: 48, delete_empty_dirs: true }, { path: '/old/keep', retention: 0, delete_empty_dirs: false }] })],
    [{ name: 'mv', type: '9', fs_type: '1', fs_rename_0_key: '/in/{{.ObjectName}}', fs_rename_0_value: '/done/{{.ObjectName}}', fs_rename_0_update_modtime: '1' },
      (a) => assert.deepEqual(a.options.fs_config.renames, [{ key: '/in/{{.ObjectName}}', value: '/done/{{.ObjectName}}', update_modtime: true }])],
    [{ name: 'cp', type: '9', fs_type: '6', fs_copy_0_key: '/a', fs_copy_0_value: '/b' }, (a) => assert.deepEqual(a.options.fs_config.copy, [{ key: '/a', value: '/b' }])],
    [{ name: 'rm', type: '9', fs_type: '2', fs_deletes: '/x\n/y' }, (a) => assert.deepEqual(a.options.fs_config.deletes, ['/x', '/y'])],
    [{ name: 'md', type: '9', fs_type: '3', fs_mkdirs: '/m' }, (a) => assert.deepEqual(a.options.fs_config.mkdirs, ['/m'])],
    [{ name: 'ex', type: '9', fs_type: '4', fs_exist: '/e' }, (a) => assert.deepEqual(a.options.fs_config.exist, ['/e'])],
    [{ name: 'zip', type: '9', fs_type: '5', fs_compress_name: '/z.zip', fs_compress_paths: '/p1\n/p2' }, (a) => assert.deepEqual(a.options.fs_config.compress, { name: '/z.zip', paths: ['/p1', '/p2'] })],
    [{ name: 'idle', type: '14', inactivity_disable: '30', inactivity_delete: '90' }, (a) => assert.deepEqual(a.options.user_inactivity_config, { disable_threshold: 30, delete_threshold: 90 })],
    [{ name: 'bk', type: '4' }, (a) => assert.equal(a.type, 4)],
    [{ name: 'uq', type: '5' }, (a) => assert.equal(a.type, 5)],
    [{ name: 'fq', type: '6' }, (a) => assert.equal(a.type, 6)],
    [{ name: 'tq', type: '7' }, (a) => assert.equal(a.type, 7)],
    [{ name: 'logs', type: '15' }, (a) => assert.equal(a.type, 15)],
  ];
  for (const [fields, check] of ok) {
    const r = await addAction(fields);
    assert.equal(r.status, 303, `${fields.name}: ${r.text.slice(0, 400)}`);
    const a = await em().getAction(fields.name);
    assert.ok(a, fields.name);
    check(a);
    // the edit page renders what was stored
    assert.equal((await web.get(`/web/admin/eventaction/${fields.name}`)).status, 200);
  }
  const list = await web.get('/web/admin/eventactions');
  for (const n of ['hook', 'cmd', 'mail', 'zip', 'logs']) assert.match(list.text, new RegExp(`data-action="${n}"`));
});

test('a rule with every condition kind; errors name the field; run on demand; delete', async () => {
  const fsRule = {
    name: 'on-csv', status: '1', trigger: '1', description: 'csv in', fs_events: 'upload', protocols: 'SFTP', event_statuses: '1', min_size: '1KB', max_size: '10MB',
    cond_name_0_pattern: 'alice*', cond_group_0_pattern: 'staff', cond_group_0_inverse: '1', cond_role_0_pattern: 'r1', cond_path_0_pattern: '/inbox/*.csv',
    act_0_name: 'hook', act_0_order: '2', act_0_execute_sync: '1', act_1_name: 'mv', act_1_order: '1', act_1_stop_on_failure: '1', act_2_name: 'mail', act_2_order: '3', act_2_is_failure_action: '1',
  };
  const bad = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { ...fsRule, max_size: '512' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /invalid max file size 512/);
  const badSize = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { ...fsRule, min_size: 'lots' });
  assert.equal(badSize.status, 400);
  assert.match(badSize.text, /min_size must be an integer/);
  const r = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', fsRule);
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const rule = await em().getRule('on-csv');
  assert.deepEqual(rule?.conditions.fs_events, ['upload']);
  assert.deepEqual(rule?.conditions.options, {
    names: [{ pattern: 'alice*', inverse_match: false }], group_names: [{ pattern: 'staff', inverse_match: true }], role_names: [{ pattern: 'r1', inverse_match: false }],
    fs_paths: [{ pattern: '/inbox/*.csv', inverse_match: false }], protocols: ['SFTP'], min_size: 1024, max_size: 10 * 1024 * 1024, event_statuses: [1],
  });
  assert.deepEqual(rule?.actions.map((a) => [a.name, a.order, a.relation_options]), [
    ['mv', 1, { is_failure_action: false, stop_on_failure: true, execute_sync: false }],
    ['hook', 2, { is_failure_action: false, stop_on_failure: false, execute_sync: true }],
    ['mail', 3, { is_failure_action: true, stop_on_failure: false, execute_sync: false }],
  ]);
  const edit = await web.get('/web/admin/eventrule/on-csv');
  assert.match(edit.text, /name="cond_path_0_pattern" value="\/inbox\/\*\.csv"/);

  const pre = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'pre', trigger: '1', fs_events: 'pre-upload', act_0_name: 'bk' });
  assert.equal(pre.status, 400);
  assert.match(pre.text, /event &quot;pre-upload&quot; requires at least a sync action/);

  const sched = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', {
    name: 'nightly', trigger: '3', sched_0_minute: '30', sched_0_hour: '2', sched_0_day_of_week: '*', sched_0_day_of_month: '*', sched_0_month: '*',
    concurrent_execution: '1', act_0_name: 'ret',
  });
  assert.equal(sched.status, 303, sched.text.slice(0, 400));
  const n = await em().getRule('nightly');
  assert.deepEqual(n?.conditions.schedules, [{ minute: '30', hour: '2', day_of_week: '*', day_of_month: '*', month: '*' }]);
  assert.equal(n?.conditions.options.concurrent_execution, true);
  const badSched = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'bad-sched', trigger: '3', sched_0_hour: '25', act_0_name: 'ret' });
  assert.equal(badSched.status, 400);
  assert.match(badSched.text, /invalid schedule/);

  const prov = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'on-user', trigger: '2', provider_events: 'add', provider_objects: 'user', act_0_name: 'bk' });
  assert.equal(prov.status, 303, prov.text.slice(0, 400));

  const demand = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'by-hand', trigger: '6', status: '1', act_0_name: 'logs' });
  assert.equal(demand.status, 303);
  const list = await web.get('/web/admin/eventrules');
  assert.match(list.text, /action="\/web\/admin\/eventrule\/by-hand\/run"/);
  assert.doesNotMatch(list.text, /eventrule\/on-csv\/run/);
  const run = await web.submit('/web/admin/eventrules', '/web/admin/eventrule/by-hand/run');
  assert.equal(run.status, 303);
  assert.match((await web.get('/web/admin/eventrules')).text, /Event rule &quot;by-hand&quot; started/);
  const notDemand = await web.submit('/web/admin/eventrules', '/web/admin/eventrule/on-csv/run');
  assert.equal(notDemand.status, 303);
  assert.match((await web.get('/web/admin/eventrules')).text, /its trigger is not/);

  // an action used by a rule cannot go; the rule can, then the action
  await web.submit('/web/admin/eventactions', '/web/admin/eventaction/logs/delete');
  assert.ok(await em().getAction('logs'));
  assert.equal((await web.submit('/web/admin/eventrules', '/web/admin/eventrule/by-hand/delete')).status, 303);
  assert.equal(await em().getRule('by-hand'), undefined);
  await web.submit('/web/admin/eventactions', '/web/admin/eventaction/logs/delete');
  assert.equal(await em().getAction('logs'), undefined);
});

test('password and user expiration checks, the IDP account check; IP blocked and IDP login rules', async () => {
  const refused: [Record<string, string>, RegExp][] = [
    [{ name: 'pw-bad', type: '11', pwd_expiration_threshold: '0' }, /threshold must be greater than 0/],
    [{ name: 'idp-bad', type: '13', idp_mode: '1' }, /at least a template must be set/],
  ];
  for (const [fields, re] of refused) {
    const r = await addAction(fields);
    assert.equal(r.status, 400, fields.name);
    assert.match(r.text, re);
    assert.equal(await em().getAction(fields.name), undefined);
  }
  // the refused IDP form keeps the chosen mode
  assert.match((await addAction({ name: 'idp-bad', type: '13', idp_mode: '1' })).text, /<option value="1" selected>Create only/);

  const template = '{"username":"{{.Name}}","status":1,"permissions":{"/":["*"]},"home_dir":"/srv/{{.Name}}"}';
  assert.equal((await addAction({ name: 'pw-soon', type: '11', pwd_expiration_threshold: '10' })).status, 303);
  assert.deepEqual((await em().getAction('pw-soon'))?.options.pwd_expiration_config, { threshold: 10 });
  assert.equal((await addAction({ name: 'expired', type: '12' })).status, 303);
  assert.equal((await em().getAction('expired'))?.type, 12);
  assert.equal((await addAction({ name: 'sso-sync', type: '13', idp_mode: '1', idp_template_user: template })).status, 303);
  assert.deepEqual((await em().getAction('sso-sync'))?.options.idp_config, { mode: 1, template_user: template, template_admin: '' });
  assert.match((await web.get('/web/admin/eventaction/pw-soon')).text, /name="pwd_expiration_threshold" value="10"/);
  const idpPage = (await web.get('/web/admin/eventaction/sso-sync')).text;
  assert.match(idpPage, /<option value="1" selected>Create only/);
  assert.ok(idpPage.includes('&quot;username&quot;:&quot;{{.Name}}&quot;'), 'the template is shown, escaped');
  assert.equal((await addAction({ name: 'ban-logs', type: '15' })).status, 303);

  const banned = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'on-ban', trigger: '4', act_0_name: 'ban-logs' });
  assert.equal(banned.status, 303, banned.text.slice(0, 400));
  assert.equal((await em().getRule('on-ban'))?.trigger, 4);
  const banCheck = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'on-ban-bad', trigger: '4', act_0_name: 'expired' });
  assert.equal(banCheck.status, 400);
  assert.match(banCheck.text, /not supported for event trigger &quot;IP blocked&quot;/);

  const sso = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', {
    name: 'on-sso', trigger: '7', idp_login_event: '1', cond_name_0_pattern: 'sso-*', act_0_name: 'sso-sync', act_0_execute_sync: '1',
  });
  assert.equal(sso.status, 303, sso.text.slice(0, 400));
  const rule = await em().getRule('on-sso');
  assert.equal(rule?.trigger, 7);
  assert.equal(rule?.conditions.idp_login_event, 1);
  assert.deepEqual(rule?.conditions.options.names, [{ pattern: 'sso-*', inverse_match: false }]);
  assert.match((await web.get('/web/admin/eventrule/on-sso')).text, /<option value="1" selected>User login/);
  const badIdp = await web.submit('/web/admin/eventrule', '/web/admin/eventrule', { name: 'on-sso-bad', trigger: '7', idp_login_event: '3', act_0_name: 'ban-logs' });
  assert.equal(badIdp.status, 400);
  assert.match(badIdp.text, /invalid Identity Provider login event 3/);
});

test('CSRF token required; admins without manage_event_rules get 403', async () => {
  const noToken = await web.post('/web/admin/eventaction', { name: 'x', type: '4' });
  assert.equal(noToken.status, 403);
  assert.equal(await em().getAction('x'), undefined);
  await s.ctx.provider.addAdmin({ username: 'viewer', password: 'viewer-password-1', status: 1, permissions: ['view_users'] });
  const other = new WebSession(s.base);
  await other.login('viewer', 'viewer-password-1');
  for (const p of ['/web/admin/eventactions', '/web/admin/eventrules', '/web/admin/eventrule/on-csv']) assert.equal((await other.get(p)).status, 403, p);
  assert.doesNotMatch((await other.get('/web/admin/users')).text, /Event rules/);
});
