import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { parseHcl } from '../../../src/config/formats/hcl';

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-fmt-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// One configuration written in every format SFTPGo reads: they must load to the same AppConfig.
const JSON_TEXT = JSON.stringify({
  common: { idle_timeout: 7, upload_mode: 2, defender: { login_delay: { password_failed: 250 } } },
  sftpd: {
    bindings: [{ port: 3022 }, { port: 3023, address: '127.0.0.1', apply_proxy_config: false }],
    max_auth_tries: 4,
    host_keys: ['keys/a', 'keys/b'],
    password_authentication: false,
  },
  data_provider: { driver: 'memory', name: '', password: 's3cr=t #x' },
  httpd: { bindings: [{ port: 9090, enable_web_client: false }] },
  smtp: { host: 'mail.example.com', port: 2525, from: 'SFTPGo <sftpgo@example.com>' },
});

const HCL_TEXT = `# SFTPGo-style HCL
common {
  idle_timeout = 7
  upload_mode  = 2
  defender {
    login_delay {
      password_failed = 250
    }
  }
}
sftpd {
  bindings = [
    { port = 3022 },
    {
      port               = 3023
      address            = "127.0.0.1"
      apply_proxy_config = false
    },
  ]
  max_auth_tries = 4
  host_keys = ["keys/a", "keys/b"] // trailing comment
  password_authentication = false
}
/* block comment */
data_provider {
  driver   = "memory"
  name     = ""
  password = "s3cr=t #x"
}
httpd {
  bindings {
    port              = 9090
    enable_web_client = false
  }
}
smtp {
  host = "mail.example.com"
  port = 2525
  from = "SFTPGo <sftpgo@example.com>"
}
`;

const PROPERTIES_TEXT = `# SFTPGo-style properties
common.idle_timeout = 7
common.upload_mode: 2
common.defender.login_delay.password_failed 250
sftpd.bindings.0.port = 3022
sftpd.bindings.1.port = 3023
sftpd.bindings.1.address = 127.0.0.1
sftpd.bindings.1.apply_proxy_config = false
SFTPD.MAX_AUTH_TRIES = 4
sftpd.host_keys = keys/a,\\
    keys/b
sftpd.password_authentication = false
data_provider.driver = memory
data_provider.name =
data_provider.password = s3cr\\=t #x
httpd.bindings.0.port = 9090
httpd.bindings.0.enable_web_client = false
! another comment
smtp.host = mail.example.com
smtp.port = 2525
smtp.from = SFTPGo <sftpgo@example.com>
`;

const DOTENV_TEXT = `# SFTPGo-style dotenv
common.idle_timeout=7
common.upload_mode=2
common.defender.login_delay.password_failed=250
sftpd.bindings.0.port=3022
sftpd.bindings.1.port=3023
sftpd.bindings.1.address="127.0.0.1"
sftpd.bindings.1.apply_proxy_config=false
sftpd.max_auth_tries=4
export sftpd.host_keys=keys/a,keys/b
sftpd.password_authentication=false
data_provider.driver=memory
data_provider.name=
data_provider.password='s3cr=t #x'
httpd.bindings.0.port=9090
httpd.bindings.0.enable_web_client=false
smtp.host=mail.example.com
smtp.port=2525
smtp.from="SFTPGo <sftpgo@example.com>"
`;

const YAML_TEXT = `common:
  idle_timeout: 7
  upload_mode: 2
  defender: { login_delay: { password_failed: 250 } }
sftpd:
  bindings:
    - port: 3022
    - { port: 3023, address: 127.0.0.1, apply_proxy_config: false }
  max_auth_tries: 4
  host_keys: [keys/a, keys/b]
  password_authentication: false
data_provider: { driver: memory, name: "", password: "s3cr=t #x" }
httpd:
  bindings: [{ port: 9090, enable_web_client: false }]
smtp: { host: mail.example.com, port: 2525, from: "SFTPGo <sftpgo@example.com>" }
`;

const TOML_TEXT = `[common]
idle_timeout = 7
upload_mode = 2
defender.login_delay.password_failed = 250
[sftpd]
max_auth_tries = 4
host_keys = ["keys/a", "keys/b"]
password_authentication = false
bindings = [{ port = 3022 }, { port = 3023, address = "127.0.0.1", apply_proxy_config = false }]
[data_provider]
driver = "memory"
name = ""
password = "s3cr=t #x"
[[httpd.bindings]]
port = 9090
enable_web_client = false
[smtp]
host = "mail.example.com"
port = 2525
from = "SFTPGo <sftpgo@example.com>"
`;

function loadOnly(t: { after: (fn: () => void) => void }, name: string, text: string): ReturnType<typeof loadConfig> {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, name), text);
  const warnings: string[] = [];
  const c = loadConfig({ configDir: dir, env: {}, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, [], `${name}: ${warnings.join(' | ')}`);
  return c;
}

test('every format loads to the same configuration as the JSON file (default lookup in the config dir)', (t) => {
  const reference = loadOnly(t, 'sftpgo.json', JSON_TEXT);
  assert.equal(reference.sftpd.bindings[1].address, '127.0.0.1');
  assert.equal(reference.smtp.port, 2525);
  const files: [string, string][] = [
    ['sftpgo.hcl', HCL_TEXT],
    ['sftpgo.properties', PROPERTIES_TEXT],
    ['sftpgo.env', DOTENV_TEXT],
    ['sftpgo.yaml', YAML_TEXT],
    ['sftpgo.toml', TOML_TEXT],
  ];
  for (const [name, text] of files) assert.deepEqual(loadOnly(t, name, text), reference, name);
});

test('env overrides still win over an HCL or properties file', (t) => {
  for (const [name, text] of [['sftpgo.hcl', HCL_TEXT], ['sftpgo.properties', PROPERTIES_TEXT]]) {
    const dir = tmpDir(t);
    fs.writeFileSync(path.join(dir, name), text);
    const c = loadConfig({ configDir: dir, env: { SFTPGO_SFTPD__BINDINGS__1__PORT: '4023', SFTPGO_COMMON__IDLE_TIMEOUT: '1' } });
    assert.equal(c.sftpd.bindings[1].port, 4023);
    assert.equal(c.sftpd.bindings[1].address, '127.0.0.1');
    assert.equal(c.common.idle_timeout, 1);
  }
});

test('lookup follows viper order and says which extra file is ignored', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'sftpgo.hcl'), 'common {\n  idle_timeout = 3\n}\n');
  fs.writeFileSync(path.join(dir, 'sftpgo.toml'), '[common]\nidle_timeout = 4\n');
  const warnings: string[] = [];
  const c = loadConfig({ configDir: dir, env: {}, onWarning: (w) => warnings.push(w) });
  assert.equal(c.common.idle_timeout, 4);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /sftpgo\.hcl ignored: .*sftpgo\.toml comes first/);
  const explicit = loadConfig({ configDir: dir, configFile: 'sftpgo.hcl', env: {} });
  assert.equal(explicit.common.idle_timeout, 3);
});

function refusedWith(t: { after: (fn: () => void) => void }, name: string, text: string, re: RegExp): void {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, name), text);
  assert.throws(() => loadConfig({ configDir: dir, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, re);
    assert.ok(err.message.includes(path.join(dir, name)) || !re.source.includes('config file'), err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('a bad file is one line naming the file, line and column', (t) => {
  refusedWith(t, 'sftpgo.json', '{\n  "common": {\n    "idle_timeout": 5,\n  }\n}\n', /^config file .*sftpgo\.json: invalid JSON at line 4, column 3: expected a quoted key$/);
  refusedWith(t, 'sftpgo.json', '{"common": {"idle_timeout": }}', /^config file .*sftpgo\.json: invalid JSON at line 1, column 29: unexpected "}"$/);
  refusedWith(t, 'sftpgo.hcl', 'common {\n  idle_timeout = 5\n', /^config file .*sftpgo\.hcl: invalid HCL at line 3, column 1: unexpected end of file: missing "}"$/);
  refusedWith(t, 'sftpgo.hcl', 'sftpd {\n  max_auth_tries = three\n}\n', /^config file .*sftpgo\.hcl: invalid HCL at line 2, column 20: expected a value, found "three" \(strings need double quotes\)$/);
  refusedWith(t, 'sftpgo.hcl', 'sftpd {\n  host_keys = ["a" "b"]\n}\n', /invalid HCL at line 2, column 20: expected "," or "\]", found """/);
  refusedWith(t, 'sftpgo.hcl', 'a = 1\na = 2\n', /invalid HCL at line 2, column 1: duplicate key "a"/);
  refusedWith(t, 'sftpgo.hcl', 'common {\n}\ncommon {\n}\n', /^common: the section is written 2 times/);
  refusedWith(t, 'sftpgo.properties', 'common.idle_timeout = soon\n', /^config file .*sftpgo\.properties line 1 \(common\.idle_timeout\): must be an integer: value was "soon"$/);
  refusedWith(t, 'sftpgo.properties', '# c\n\nsftpd.bindings.x.port = 1\n', /sftpgo\.properties line 3: list index must be a number/);
  refusedWith(t, 'sftpgo.env', 'common.idle_timeout=5\nthis is not a setting\n', /^config file .*sftpgo\.env: invalid dotenv at line 2: expected KEY=value$/);
  refusedWith(t, 'sftpgo.yaml', 'common:\n  idle_timeout: 5\n bad: 1\n', /^config file .*sftpgo\.yaml: invalid YAML at line 3, column 2: /);
  refusedWith(t, 'sftpgo.toml', '[common]\nidle_timeout = \n', /^config file .*sftpgo\.toml: invalid TOML at line 2, column \d+: /);
});

test('HCL values: heredoc, escapes, labels, numbers', () => {
  const v = parseHcl('a = "x\\ty\\u00e9"\nb = <<EOT\nline1\n  line2\nEOT\nc = -1.5e2\nd = true\nblk "lbl" {\n  k = null\n}\ne = <<-EOT\n    in\n      more\n    EOT\n');
  assert.deepEqual(v, { a: 'x\ty\u00e9', b: 'line1\n  line2\n', c: -150, d: true, blk: [{ lbl: [{ k: null }] }], e: 'in\n  more\n' });
});

test('sections this server does not implement stop start-up naming the key', (t) => {
  refusedWith(t, 'sftpgo.json', JSON.stringify({ acme: { domains: ['example.com'], email: 'a@example.com' } }), /^acme\.domains: ACME certificates are not supported by this server; get them with certbot .*SIGHUP/);
  refusedWith(t, 'sftpgo.hcl', 'plugins = [\n  { type = "eventsearcher", cmd = "/usr/bin/sftpgo-plugin-eventsearch" },\n]\n', /^plugins\[0\]\.type: "eventsearcher" plugins .* are not supported yet/);
  refusedWith(t, 'sftpgo.properties', 'plugins.0.type = notifier\nplugins.0.cmd = /usr/bin/notify\nplugins.0.notifier_options.log_events = 1,7\n', /^plugins\[0\]\.notifier_options\.log_events: unknown log event 7/);
  refusedWith(t, 'sftpgo.yaml', 'httpd:\n  bindings:\n    - port: 8080\n    - port: 8081\n      security:\n        enabled: true\n', /^httpd\.bindings\[1\]\.security\.enabled: /);
  refusedWith(t, 'sftpgo.json', JSON.stringify({ httpd: { bindings: [{ port: 8080, security: { enabled: true } }] } }), /^httpd\.bindings\[0\]\.security\.enabled: /);
  refusedWith(t, 'sftpgo.json', JSON.stringify({ smtp: { host: 'mail', auth_type: 3 } }), /^smtp\.auth_type: OAuth2 SMTP authentication \(3\) is not supported yet/);
  refusedWith(t, 'sftpgo.json', JSON.stringify({ httpd: { ca_revocation_lists: ['crl.pem'] } }), /^httpd\.ca_revocation_lists: certificate revocation lists are not supported yet/);
  const dir = tmpDir(t);
  assert.throws(() => loadConfig({ configDir: dir, env: { SFTPGO_PLUGINS__0__TYPE: 'auth', SFTPGO_PLUGINS__0__CMD: '/bin/true', SFTPGO_PLUGINS__0__AUTH_OPTIONS__SCOPE: '16' } }),
    /^ConfigError: plugins\[0\]\.auth_options\.scope: invalid auth scope 16/);
  // SFTPGo's own default blocks (empty) load fine
  const ok = loadConfig({ configDir: dir, env: { SFTPGO_ACME__DOMAINS: '', SFTPGO_SMTP__HOST: '' } });
  assert.deepEqual(ok.plugins, []);
  assert.equal(ok.acme.ca_endpoint, 'https://acme-v02.api.letsencrypt.org/directory');
});

test('the HCL parser gives the same tree as hcl2-parser (HashiCorp HCL compiled to JS) on valid input', () => {
  // hcl2-parser cannot locate errors (see src/config/formats/hcl.ts), but on valid files it is an independent oracle
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hcl2 = require('hcl2-parser') as { parseToString: (s: string) => [string, unknown] };
  for (const text of [HCL_TEXT, 'a = [1, 2.5, "x"]\nb {\n  c = { d = true, e = "f" }\n}\nb {\n  c = {}\n}\n']) {
    const [json, err] = hcl2.parseToString(text);
    assert.equal(err, null);
    assert.deepEqual(parseHcl(text), JSON.parse(json));
  }
});
