import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseEnvFile, resolveConfigPath } from '../../../src/config';

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-cfg-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const repoRoot = path.resolve(__dirname, '../../../..');

test('defaults match SFTPGo', (t) => {
  const c = loadConfig({ configDir: tmpDir(t), env: {} });
  assert.deepEqual(c.sftpd.bindings, [{ port: 2022, address: '', apply_proxy_config: true }]);
  assert.equal(c.ftpd.bindings[0].port, 0);
  assert.equal(c.ftpd.bindings[0].min_tls_version, 12);
  assert.deepEqual(c.ftpd.passive_port_range, { start: 50000, end: 50100 });
  assert.equal(c.webdavd.bindings[0].port, 0);
  assert.equal(c.httpd.bindings[0].port, 8080);
  assert.equal(c.httpd.bindings[0].enable_web_admin, true);
  assert.equal(c.common.idle_timeout, 15);
  assert.equal(c.common.max_per_host_connections, 20);
  assert.equal(c.common.defender.login_delay.password_failed, 1000);
  assert.equal(c.common.rate_limiters[0].period, 1000);
  assert.deepEqual(c.sftpd.enabled_ssh_commands, ['md5sum', 'sha1sum', 'sha256sum', 'cd', 'pwd', 'scp']);
  assert.equal(c.data_provider.driver, 'sqlite');
  assert.equal(c.data_provider.name, 'sftpgo.db');
  assert.equal(c.data_provider.track_quota, 2);
  assert.equal(c.data_provider.password_hashing.bcrypt_options.cost, 10);
  assert.equal(c.data_provider.naming_rules, 5);
  assert.equal(c.data_provider.create_default_admin, false);
  assert.equal(c.telemetry.bind_address, '127.0.0.1');
  assert.equal(c.http.timeout, 20);
  assert.equal(c.command.timeout, 30);
  assert.deepEqual(c.mfa.totp, [{ name: 'Default', issuer: 'SFTPGo', algo: 'sha1' }]);
});

test('the repository sftpgo.json loads and keeps the documented ports', () => {
  const c = loadConfig({ configDir: repoRoot, env: {} });
  assert.equal(c.sftpd.bindings[0].port, 2022);
  assert.equal(c.httpd.bindings[0].port, 8080);
  assert.equal(c.httpd.bindings[0].address, '127.0.0.1');
  assert.equal(c.ftpd.bindings[0].port, 0);
  assert.equal(c.webdavd.bindings[0].port, 0);
  assert.equal(c.data_provider.users_base_dir, '');
});

test('env overrides: nested keys, list index, append, comma lists, booleans', (t) => {
  const c = loadConfig({
    configDir: tmpDir(t),
    env: {
      SFTPGO_SFTPD__BINDINGS__0__PORT: '2222',
      SFTPGO_SFTPD__BINDINGS__3__PORT: '2300',
      SFTPGO_SFTPD__BINDINGS__3__ADDRESS: '127.0.0.1',
      SFTPGO_SFTPD__BINDINGS__5__PORT: '2400',
      SFTPGO_DATA_PROVIDER__DRIVER: 'memory',
      SFTPGO_COMMON__IDLE_TIMEOUT: '5',
      SFTPGO_SFTPD__ENABLED_SSH_COMMANDS: 'scp, sha512sum',
      SFTPGO_SFTPD__PASSWORD_AUTHENTICATION: '0',
      SFTPGO_HTTPD__BINDINGS__0__ENABLE_HTTPS: 'true',
      SFTPGO_COMMON__DEFENDER__LOGIN_DELAY__SUCCESS: '7',
      SFTPGO_FTPD__BINDINGS__0__PASSIVE_IP_OVERRIDES__0__IP: '1.2.3.4',
      SFTPGO_LOG_LEVEL: 'info', // CLI variable, not a config key: ignored
    },
  });
  assert.deepEqual(c.sftpd.bindings, [
    { port: 2222, address: '', apply_proxy_config: true },
    { port: 2300, address: '127.0.0.1', apply_proxy_config: true },
    { port: 2400, address: '', apply_proxy_config: true },
  ]);
  assert.equal(c.data_provider.driver, 'memory');
  assert.equal(c.common.idle_timeout, 5);
  assert.deepEqual(c.sftpd.enabled_ssh_commands, ['scp', 'sha512sum']);
  assert.equal(c.sftpd.password_authentication, false);
  assert.equal(c.httpd.bindings[0].enable_https, true);
  assert.equal(c.common.defender.login_delay.success, 7);
  assert.deepEqual(c.ftpd.bindings[0].passive_ip_overrides, [{ networks: [], ip: '1.2.3.4' }]);
});

test('YAML and TOML files, partial bindings get defaults, env still wins', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'sftpgo.yaml'), 'sftpd:\n  bindings:\n    - port: 3022\n    - port: 3023\n      address: "127.0.0.1"\ncommon:\n  idle_timeout: 9\nfoo:\n  domains: []\n');
  const warnings: string[] = [];
  const y = loadConfig({ configDir: dir, env: { SFTPGO_COMMON__IDLE_TIMEOUT: '3' }, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(y.sftpd.bindings, [
    { port: 3022, address: '', apply_proxy_config: true },
    { port: 3023, address: '127.0.0.1', apply_proxy_config: true },
  ]);
  assert.equal(y.common.idle_timeout, 3);
  assert.ok(warnings.some((w) => w.includes('"foo"')), warnings.join('|'));

  const tomlFile = path.join(dir, 'custom.toml');
  fs.writeFileSync(tomlFile, '[data_provider]\ndriver = "memory"\nname = ""\n\n[[httpd.bindings]]\nport = 9090\n');
  const tm = loadConfig({ configDir: dir, configFile: 'custom.toml', env: {} });
  assert.equal(tm.data_provider.driver, 'memory');
  assert.equal(tm.httpd.bindings.length, 1);
  assert.equal(tm.httpd.bindings[0].port, 9090);
  assert.equal(tm.httpd.bindings[0].render_openapi, true);
  assert.equal(tm.common.idle_timeout, 15);
});

test('env.d files are read; the process env wins over them', (t) => {
  const dir = tmpDir(t);
  fs.mkdirSync(path.join(dir, 'env.d'));
  fs.writeFileSync(path.join(dir, 'env.d', 'a.env'), '# comment\nSFTPGO_COMMON__IDLE_TIMEOUT=11\nexport SFTPGO_SFTPD__LOGIN_BANNER_FILE="/web"\n');
  const c = loadConfig({ configDir: dir, env: { SFTPGO_SFTPD__LOGIN_BANNER_FILE: '/other' } });
  assert.equal(c.common.idle_timeout, 11);
  assert.equal(c.sftpd.login_banner_file, '/other');
  assert.deepEqual(parseEnvFile("A=1\nB='x y'\nC=v # note\n"), { A: '1', B: 'x y', C: 'v' });
});

function refused(t: { after: (fn: () => void) => void }, setup: (dir: string) => { configFile?: string; env?: Record<string, string> }, re: RegExp): void {
  const dir = tmpDir(t);
  const o = setup(dir);
  assert.throws(() => loadConfig({ configDir: dir, configFile: o.configFile, env: o.env ?? {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('bad configurations are refused with one clear message', (t) => {
  refused(t, () => ({ env: { SFTPGO_DATA_PROVIDER__DRIVER: 'oracle' } }), /^data_provider\.driver: must be one of .*value was "oracle"$/);
  refused(t, () => ({ env: { SFTPGO_SFTPD__BINDINGS__0__PORT: '70000' } }), /^sftpd\.bindings\[0\]\.port: must be between 0 and 65535: value was 70000$/);
  refused(t, () => ({ env: { SFTPGO_COMMON__IDLE_TIMEOUT: 'soon' } }), /SFTPGO_COMMON__IDLE_TIMEOUT \(common\.idle_timeout\): must be an integer: value was "soon"/);
  refused(t, () => ({ env: { SFTPGO_SFTPD__PASSWORD_AUTHENTICATION: 'maybe' } }), /must be a boolean.*value was "maybe"/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.json'), '{"sftpd": {"bindings": [{"port": "abc"}]}}');
    return {};
  }, /^sftpd\.bindings\[0\]\.port: must be an integer: value was "abc"$/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.json'), '{"httpd": {"bindings": [{"enable_https": "yes"}]}}');
    return {};
  }, /^httpd\.bindings\[0\]\.enable_https: must be a boolean/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.json'), '{"common": 5}');
    return {};
  }, /^common: must be an object: value was 5$/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.json'), '{"common": {');
    return {};
  }, /sftpgo\.json: invalid JSON/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.yaml'), 'common:\n  idle_timeout: [\n');
    return {};
  }, /sftpgo\.yaml: invalid YAML/);
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'x.toml'), 'common = = 1\n');
    return { configFile: 'x.toml' };
  }, /x\.toml: invalid TOML/);
  refused(t, () => ({ configFile: 'missing.json' }), /missing\.json: cannot read: ENOENT/);
  refused(t, () => ({ configFile: 'conf.ini' }), /conf\.ini: unsupported extension/);
  refused(t, () => ({ env: { SFTPGO_SFTPD__BINDINGS__X__PORT: '1' } }), /list index must be a number: value was "x"/);
});

test('secrets are not echoed in errors', (t) => {
  refused(t, (d) => {
    fs.writeFileSync(path.join(d, 'sftpgo.json'), '{"data_provider": {"password": 12345678}}');
    return {};
  }, /^data_provider\.password: must be a string$/);
});

test('resolveConfigPath', () => {
  assert.equal(resolveConfigPath('/etc/sftpgo', 'id_rsa'), path.join('/etc/sftpgo', 'id_rsa'));
  assert.equal(resolveConfigPath('/etc/sftpgo', '/abs/key'), '/abs/key');
  assert.equal(resolveConfigPath('/etc/sftpgo', ''), '');
});

test('settings for features not implemented yet stop start-up with a clear message', (t) => {
  refused(t, () => ({ env: { SFTPGO_SFTPD__HOST_CERTIFICATES: 'id_ecdsa-cert.pub' } }), /^sftpd\.host_certificates: SSH host certificates are not supported yet/);
  refused(t, () => ({ env: { SFTPGO_SFTPD__TRUSTED_USER_CA_KEYS: 'ca.pub' } }), /^sftpd\.trusted_user_ca_keys: SSH user certificates are not supported yet/);
  refused(t, () => ({ env: { SFTPGO_TELEMETRY__ENABLE_PROFILER: 'true' } }), /^telemetry\.enable_profiler: Go's pprof profiler endpoints are not supported yet/);
});
