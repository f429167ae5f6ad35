/**
 * Untrusted input: every bad object is a ValidationError with a message that
 * names the problem, and nothing is stored. Good input is normalized.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidationError } from '../../../src/dataprovider/validation';
import { BACKENDS, tempDir, userInput } from './support';
import { generateSshKeyPairSync } from '../../../src/util/sshkeygen';

const goodKey = generateSshKeyPairSync('ed25519').public;
const privateKey = generateSshKeyPairSync('ed25519').private;

const BAD_USERS: [string, unknown, RegExp][] = [
  ['not an object', 'just a string', /must be a JSON object/],
  ['array', [1, 2], /must be a JSON object/],
  ['missing username', { password: 'x', home_dir: '/h', permissions: { '/': ['*'] } }, /username is mandatory/],
  ['blank username', userInput('   '), /username is mandatory/],
  ['slash in username', userInput('a/b'), /not allowed/],
  ['dot-dot username', userInput('..'), /not allowed/],
  ['no permissions', { ...userInput('u'), permissions: undefined }, /root dir "\/"/],
  ['no root permission', userInput('u', { permissions: { '/sub': ['*'] } }), /root dir "\/"/],
  ['bad permission name', userInput('u', { permissions: { '/': ['fly'] } }), /invalid permission "fly"/],
  ['empty permission list', userInput('u', { permissions: { '/': [] } }), /no permissions granted/],
  ['relative permission path', userInput('u', { permissions: { '/': ['*'], 'rel': ['list'] } }), /absolute path/],
  ['duplicated permission path', userInput('u', { permissions: { '/': ['*'], '/a/': ['list'], '/a': ['list'] } }), /duplicated/],
  ['relative home', userInput('u', { home_dir: 'relative/home' }), /home_dir must be an absolute path/],
  ['no home and no base dir', { ...userInput('u'), home_dir: '' }, /home_dir is mandatory/],
  ['invalid public key', userInput('u', { public_keys: ['ssh-rsa notbase64'] }), /could not parse public key nr\. 1/],
  ['private key as public', userInput('u', { public_keys: [privateKey] }), /public key nr\. 1/],
  ['public_keys not array', userInput('u', { public_keys: goodKey }), /public_keys must be an array/],
  ['status 2', userInput('u', { status: 2 }), /status must be between 0 and 1/],
  ['status string', userInput('u', { status: '1' }), /status must be an integer/],
  ['negative quota', userInput('u', { quota_size: -5 }), /quota_size must be between/],
  ['float uid', userInput('u', { uid: 1.5 }), /uid must be an integer/],
  ['bad email', userInput('u', { email: 'not-an-email' }), /not a valid email/],
  ['bad allowed ip', userInput('u', { filters: { allowed_ip: ['300.1.1.1/8'] } }), /could not parse "300\.1\.1\.1\/8"/],
  ['ip without mask', userInput('u', { filters: { denied_ip: ['10.0.0.1'] } }), /CIDR/],
  ['bad login method', userInput('u', { filters: { denied_login_methods: ['telepathy'] } }), /invalid denied login method/],
  ['bad protocol', userInput('u', { filters: { denied_protocols: ['GOPHER'] } }), /invalid denied protocol/],
  ['all protocols denied', userInput('u', { filters: { denied_protocols: ['SSH', 'FTP', 'DAV', 'HTTP'] } }), /all protocols/],
  ['filters not object', userInput('u', { filters: [] }), /filters must be a JSON object/],
  ['empty file patterns', userInput('u', { filters: { file_patterns: [{ path: '/x' }] } }), /empty file patterns/],
  ['http without httpconfig', userInput('u', { filesystem: { provider: 6 } }), /filesystem\.httpconfig is mandatory for the HTTP provider/],
  ['http without endpoint', userInput('u', { filesystem: { provider: 6, httpconfig: { username: 'x' } } }), /filesystem\.httpconfig\.endpoint: endpoint cannot be empty/],
  ['http ftp endpoint', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'ftp://h/api' } } }), /filesystem\.httpconfig\.endpoint: invalid endpoint schema: http and https are supported/],
  ['http relative socket', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'http://unix?socket_path=rel/sock' } } }), /filesystem\.httpconfig\.endpoint: invalid unix domain socket path: "rel\/sock"/],
  ['http credentials in the url', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'https://me:pw@h/api' } } }), /filesystem\.httpconfig\.endpoint: the endpoint cannot carry credentials/],
  ['http query on a tcp endpoint', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'http://h/api?x=1' } } }), /filesystem\.httpconfig\.endpoint: the endpoint cannot have a query string/],
  ['http equality mode', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'http://h', equality_check_mode: 2 } } }), /filesystem\.httpconfig\.equality_check_mode must be between 0 and 1/],
  ['http redacted api key', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'http://h', api_key: { status: 'Redacted' } } } }), /filesystem\.httpconfig\.api_key: cannot save a redacted secret/],
  ['http skip_tls_verify not a boolean', userInput('u', { filesystem: { provider: 6, httpconfig: { endpoint: 'http://h', skip_tls_verify: 'yes' } } }), /filesystem\.httpconfig\.skip_tls_verify must be a boolean/],
  ['gcs without gcsconfig', userInput('u', { filesystem: { provider: 2 } }), /gcsconfig is mandatory/],
  ['gcs without bucket', userInput('u', { filesystem: { provider: 2, gcsconfig: { automatic_credentials: 1 } } }), /bucket cannot be empty/],
  ['gcs without credentials', userInput('u', { filesystem: { provider: 2, gcsconfig: { bucket: 'b' } } }), /invalid credentials/],
  ['gcs credentials not json', userInput('u', { filesystem: { provider: 2, gcsconfig: { bucket: 'b', credentials: { status: 'Plain', payload: 'x' } } } }),
    /service account JSON is required/],
  ['azblob without azblobconfig', userInput('u', { filesystem: { provider: 3 } }), /azblobconfig is mandatory/],
  ['azblob without container', userInput('u', { filesystem: { provider: 3, azblobconfig: { account_name: 'a', account_key: { status: 'Plain', payload: 'k' } } } }),
    /container cannot be empty/],
  ['azblob without account name', userInput('u', { filesystem: { provider: 3, azblobconfig: { container: 'c' } } }), /account name is required/],
  ['azblob default credentials', userInput('u', { filesystem: { provider: 3, azblobconfig: { container: 'c', account_name: 'a' } } }),
    /default credentials are not supported/],
  ['azblob bad sas url', userInput('u', { filesystem: { provider: 3, azblobconfig: { sas_url: { status: 'Plain', payload: 'not a url' } } } }),
    /invalid SAS URL/],
  ['azblob bad access tier', userInput('u', { filesystem: { provider: 3, azblobconfig: { container: 'c', account_name: 'a',
    account_key: { status: 'Plain', payload: 'k' }, access_tier: 'Frozen' } } }), /invalid access tier "Frozen"/],
  ['azblob part size too big', userInput('u', { filesystem: { provider: 3, azblobconfig: { container: 'c', account_name: 'a',
    account_key: { status: 'Plain', payload: 'k' }, upload_part_size: 2001 } } }), /upload_part_size/],
  ['sftp without sftpconfig', userInput('u', { filesystem: { provider: 5 } }), /sftpconfig is mandatory/],
  ['sftp without endpoint', userInput('u', { filesystem: { provider: 5, sftpconfig: { username: 'x', password: { status: 'Plain', payload: 'p' } } } }),
    /endpoint cannot be empty/],
  ['sftp bad endpoint', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h:99999', username: 'x', password: { status: 'Plain', payload: 'p' } } } }),
    /invalid endpoint/],
  ['sftp without username', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h', password: { status: 'Plain', payload: 'p' } } } }),
    /username cannot be empty/],
  ['sftp without credentials', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h', username: 'x' } } }), /credentials cannot be empty/],
  ['sftp bad private key', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h', username: 'x', private_key: { status: 'Plain', payload: 'nope' } } } }),
    /invalid private key/],
  ['sftp bad fingerprint', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h', username: 'x', password: { status: 'Plain', payload: 'p' },
    fingerprints: ['MD5:aa'] } } }), /not a SHA256 fingerprint/],
  ['sftp buffer too big', userInput('u', { filesystem: { provider: 5, sftpconfig: { endpoint: 'h', username: 'x', password: { status: 'Plain', payload: 'p' },
    buffer_size: 17 } } }), /buffer_size/],
  ['s3 without s3config', userInput('u', { filesystem: { provider: 1 } }), /s3config is mandatory/],
  ['s3 without bucket', userInput('u', { filesystem: { provider: 1, s3config: { region: 'r' } } }), /bucket cannot be empty/],
  ['s3 without region nor endpoint', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b' } } }), /region cannot be empty/],
  ['s3 key without secret', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_key: 'k' } } }),
    /access_secret cannot be empty with access_key not empty/],
  ['s3 secret without key', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_secret: { status: 'Plain', payload: 'x' } } } }),
    /access_key cannot be empty/],
  ['s3 redacted secret', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_key: 'k', access_secret: { status: 'Redacted' } } } }),
    /cannot save a redacted secret/],
  ['s3 part size too small', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', upload_part_size: 4 } } }),
    /upload_part_size cannot be != 0, lower than 5/],
  ['s3 concurrency too high', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', download_concurrency: 65 } } }),
    /download_concurrency must be between 0 and 64/],
  ['s3 key prefix at the root', userInput('u', { filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', key_prefix: '/../' } } }),
    /key_prefix, it cannot point to the storage root/],
  ['subpath not canonical', userInput('u', { virtual_folders: [{ name: 'f', mapped_path: '/m', virtual_path: '/v', subpath: '/a/../b' }] }),
    /invalid subpath "\/a\/..\/b"/],
  ['fs provider out of range', userInput('u', { filesystem: { provider: 9 } }), /provider must be between/],
  ['virtual folder at root', userInput('u', { virtual_folders: [{ name: 'f', mapped_path: '/m', virtual_path: '/' }] }), /cannot be the root/],
  ['virtual folder relative', userInput('u', { virtual_folders: [{ name: 'f', mapped_path: '/m', virtual_path: 'v' }] }), /absolute path/],
  ['virtual folder no name', userInput('u', { virtual_folders: [{ mapped_path: '/m', virtual_path: '/v' }] }), /folder name is mandatory/],
  ['overlapping virtual folders', userInput('u', { virtual_folders: [
    { name: 'f1', mapped_path: '/m1', virtual_path: '/v' }, { name: 'f2', mapped_path: '/m2', virtual_path: '/v/sub' }] }), /overlaps/],
  ['duplicated folder', userInput('u', { virtual_folders: [
    { name: 'f1', mapped_path: '/m1', virtual_path: '/v1' }, { name: 'f1', mapped_path: '/m1', virtual_path: '/v2' }] }), /duplicated virtual folder/],
  ['mapped path inside home', userInput('u', { home_dir: '/srv/home/u', virtual_folders: [
    { name: 'f1', mapped_path: '/srv/home/u/inner', virtual_path: '/v1' }] }), /overlaps the home dir/],
  ['unknown group', userInput('u', { groups: [{ name: 'g1', type: 1 }] }), /group "g1" does not exist/],
  ['unknown role', userInput('u', { role: 'r1' }), /role "r1" does not exist/],
];

for (const backend of BACKENDS) {
  test(`invalid users are refused with clear messages and nothing is stored: ${backend.name}`, async (t) => {
    const dp = await backend.open(tempDir(t));
    t.after(() => dp.close());
    for (const [name, input, message] of BAD_USERS) {
      await assert.rejects(dp.addUser(input), (e) => {
        assert.ok(isValidationError(e), `${name}: expected ValidationError, got ${String(e)}`);
        assert.match((e as Error).message, message, name);
        return true;
      });
    }
    assert.equal((await dp.listUsers()).length, 0);
    assert.equal((await dp.listFolders()).length, 0, 'no folder created by a refused user');
  });

  test(`valid input is normalized: ${backend.name}`, async (t) => {
    const dp = await backend.open(tempDir(t), { users_base_dir: '/srv/base/', naming_rules: 7 });
    t.after(() => dp.close());
    const u = await dp.addUser({
      username: '  MiXeD  ', password: 'pw', status: 1, unknown_field: 'ignored', public_keys: [`  ${goodKey}  `],
      permissions: { '/': ['list', '*', 'list'], '/a/../b/': ['download', 'download'] },
      filters: { denied_ip: [' 10.0.0.0/8 '], file_patterns: [{ path: '/docs/', denied_patterns: ['*.EXE'] }], bogus: 1 },
    });
    assert.equal(u.username, 'mixed');
    assert.equal(u.home_dir, '/srv/base/mixed');
    assert.deepEqual(u.permissions, { '/': ['*'], '/b': ['download'] });
    assert.deepEqual(u.public_keys, [goodKey]);
    assert.deepEqual(u.filters, { denied_ip: ['10.0.0.0/8'], file_patterns: [{ path: '/docs', allowed_patterns: [], denied_patterns: ['*.exe'], deny_policy: 0 }] });
    assert.equal((u as unknown as Record<string, unknown>).unknown_field, undefined);
  });

  test(`invalid folders, admins and api keys: ${backend.name}`, async (t) => {
    const dp = await backend.open(tempDir(t));
    t.after(() => dp.close());
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['folder without mapped_path', () => dp.addFolder({ name: 'f' }), /mapped_path is mandatory/],
      ['folder relative path', () => dp.addFolder({ name: 'f', mapped_path: 'rel' }), /absolute path/],
      ['folder without name', () => dp.addFolder({ mapped_path: '/x' }), /folder name is mandatory/],
      ['admin without password', () => dp.addAdmin({ username: 'a', permissions: ['*'] }), /set a password/],
      ['admin without permissions', () => dp.addAdmin({ username: 'a', password: 'p', permissions: [] }), /grant some permissions/],
      ['admin bad permission', () => dp.addAdmin({ username: 'a', password: 'p', permissions: ['rule_world'] }), /invalid permission/],
      ['admin bad allow list', () => dp.addAdmin({ username: 'a', password: 'p', permissions: ['*'], filters: { allow_list: ['x'] } }), /CIDR/],
      ['api key without name', () => dp.addApiKey({ scope: 1 }), /name is mandatory/],
      ['api key bad scope', () => dp.addApiKey({ name: 'k', scope: 3 }), /scope must be between 1 and 2/],
      ['api key unknown user', () => dp.addApiKey({ name: 'k', scope: 2, user: 'ghost' }), /user "ghost" does not exist/],
      ['admin key bound to user', () => dp.addApiKey({ name: 'k', scope: 1, user: 'x' }), /cannot be bound to a user/],
      ['restore bad mode', () => dp.restore({ version: 17 }, 5), /invalid restore mode/],
      ['restore newer version', () => dp.restore({ version: 99 }, 0), /unsupported dump version/],
      ['restore users not array', () => dp.restore({ version: 17, users: {} }, 0), /"users" must be an array/],
    ];
    for (const [name, fn, message] of cases) {
      await assert.rejects(fn(), (e) => {
        assert.ok(isValidationError(e), `${name}: expected ValidationError, got ${String(e)}`);
        assert.match((e as Error).message, message, name);
        return true;
      });
    }
    assert.equal((await dp.listFolders()).length, 0);
    assert.equal((await dp.listAdmins()).length, 0);
    assert.equal((await dp.listApiKeys()).length, 0);
  });
}

test('a virtual folder on HTTP storage cannot be mounted with a subpath (SFTPGo refuses such a mapping): memory', async (t) => {
  const dp = await BACKENDS.find((b) => b.name === 'memory')!.open(tempDir(t));
  t.after(() => dp.close());
  await dp.addFolder({ name: 'hf', filesystem: { provider: 6, httpconfig: { endpoint: 'http://127.0.0.1:9/api/v1' } } });
  await assert.rejects(dp.addUser(userInput('sub', { virtual_folders: [{ name: 'hf', virtual_path: '/h', subpath: '/team' }] })),
    /virtual_folders\[\]\.subpath: folder "hf" is on HTTP storage, which cannot have a subpath/);
  // without a subpath the folder mounts
  await dp.addUser(userInput('nosub', { virtual_folders: [{ name: 'hf', virtual_path: '/h' }] }));
  assert.equal((await dp.getUser('nosub'))?.virtual_folders?.[0]?.name, 'hf');
});

test('a valid httpconfig is normalized as SFTPGo stores it: trailing slashes trimmed, other sections dropped (sealing: test/e2e/httpd/httpfs-config)', async (t) => {
  const dp = await BACKENDS.find((b) => b.name === 'memory')!.open(tempDir(t));
  t.after(() => dp.close());
  const u = await dp.addUser(userInput('hn', { filesystem: { provider: 6, s3config: { bucket: 'dropped' }, httpconfig: {
    endpoint: ' https://h.example:8443/api/v1/// ', username: 'svc', api_key: { status: '', payload: '' },
    skip_tls_verify: false, equality_check_mode: 1,
  } } }));
  assert.equal(u.filesystem?.s3config, undefined);
  const hc = u.filesystem?.httpconfig ?? {};
  assert.equal(hc.endpoint, 'https://h.example:8443/api/v1');
  assert.equal(hc.username, 'svc');
  assert.equal(hc.equality_check_mode, 1);
  assert.equal(hc.skip_tls_verify, undefined);
  assert.equal(hc.api_key, undefined, 'an empty secret is not stored');
});
