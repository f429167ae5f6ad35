/** What the `plugins` section may ask for: supported entries pass, everything else is refused naming the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginConfigProblem } from '../../../src/plugins/config-check';
import { pluginConfig } from '../../support/plugin-fixtures';

const notifierOpts = { fs_events: ['upload'], provider_events: [], provider_objects: [], log_events: [], retry_max_time: 0, retry_queue_max_size: 0 };

test('supported auth and notifier entries pass', () => {
  assert.equal(pluginConfigProblem([
    pluginConfig('auth', '/usr/local/bin/auth', { auth_options: { scope: 15 } }),
    pluginConfig('notifier', '/usr/local/bin/notify', { notifier_options: notifierOpts }),
    pluginConfig('notifier', '/usr/local/bin/notify', { notifier_options: { ...notifierOpts, fs_events: [], provider_events: ['add', 'update', 'delete'], provider_objects: ['user', 'admin', 'configs'] } }),
    pluginConfig('notifier', '/usr/local/bin/notify', { notifier_options: { ...notifierOpts, fs_events: [], log_events: [1, 2, 3, 4, 5] } }),
    pluginConfig('ipfilter', '/usr/local/bin/geoip'),
    pluginConfig('kms', '/usr/local/bin/kms', { kms_options: { scheme: 'gcpkms', encrypted_status: 'GCP' } }),
  ]), undefined);
});

test('unsupported types and options are refused with the key', () => {
  const cases: [Parameters<typeof pluginConfigProblem>[0], RegExp][] = [
    [[{ ...pluginConfig('auth', '/x'), type: 'eventsearcher' }], /^plugins\[0\]\.type: "eventsearcher" plugins \(SFTPGo's events search API\) are not supported yet/],
    [[{ ...pluginConfig('auth', '/x'), type: 'metadata' }], /^plugins\[0\]\.type: "metadata" plugins no longer exist: SFTPGo removed them in 2\.6\.0/],
    [[{ ...pluginConfig('auth', '/x'), type: 'searcher' }], /^plugins\[0\]\.type: unknown plugin type "searcher" \(SFTPGo's type is "eventsearcher"/],
    [[pluginConfig('kms', '/x', { kms_options: { scheme: 'local', encrypted_status: 'AWS' } })], /kms_options\.scheme: invalid kms scheme "local"/],
    [[pluginConfig('kms', '/x', { kms_options: { scheme: 'awskms', encrypted_status: 'Plain' } })], /kms_options\.encrypted_status: invalid kms encrypted status "Plain"/],
    [[{ ...pluginConfig('auth', '/x'), type: 'geoip' }], /^plugins\[0\]\.type: unknown plugin type "geoip"/],
    [[pluginConfig('auth', 'relative/auth', { auth_options: { scope: 1 } })], /^plugins\[0\]\.cmd: .* absolute path/],
    [[pluginConfig('auth', '/x', { auth_options: { scope: 0 } })], /auth_options\.scope: invalid auth scope 0/],
    [[pluginConfig('auth', '/x', { auth_options: { scope: 16 } })], /invalid auth scope 16/],
    [[pluginConfig('auth', '/x', { auth_options: { scope: 1 }, sha256sum: 'xyz' })], /sha256sum: not a hex SHA-256 digest/],
    [[pluginConfig('notifier', '/x')], /fs_events: no actions defined/],
    [[pluginConfig('notifier', '/x', { notifier_options: { ...notifierOpts, fs_events: ['upload', 'explode'] } })], /unknown fs event "explode"/],
    [[pluginConfig('notifier', '/x', { notifier_options: { ...notifierOpts, provider_events: ['add'] } })], /notifier_options\.provider_objects: provider events need both/],
    [[pluginConfig('notifier', '/x', { notifier_options: { ...notifierOpts, provider_events: ['add', 'rename'], provider_objects: ['user'] } })], /provider_events: unknown provider event "rename"/],
    [[pluginConfig('notifier', '/x', { notifier_options: { ...notifierOpts, provider_events: ['add'], provider_objects: ['users'] } })], /provider_objects: unknown provider object "users"/],
    [[pluginConfig('notifier', '/x', { notifier_options: { ...notifierOpts, log_events: [1, 6] } })], /log_events: unknown log event 6/],
  ];
  for (const [plugins, expected] of cases) assert.match(pluginConfigProblem(plugins) ?? '', expected);
});
