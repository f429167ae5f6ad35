import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createMetrics } from '../../../src/metrics/metrics';

function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

test('exposes SFTPGo metric names and process metrics', async () => {
  const m = createMetrics();
  const text = await m.render();
  for (const name of [
    'sftpgo_uploads_total', 'sftpgo_downloads_total', 'sftpgo_upload_errors_total', 'sftpgo_download_errors_total',
    'sftpgo_upload_size', 'sftpgo_download_size', 'sftpgo_ssh_commands_total', 'sftpgo_ssh_command_errors_total',
    'sftpgo_login_attempts_total', 'sftpgo_no_auth_total', 'sftpgo_login_ok_total', 'sftpgo_login_ko_total',
    'sftpgo_password_login_attempts_total', 'sftpgo_public_key_login_ok_total', 'sftpgo_keyboard_interactive_login_ko_total',
    'sftpgo_key_and_password_login_attempts_total', 'sftpgo_key_and_keyboard_int_login_ok_total',
    'sftpgo_tls_cert_login_attempts_total', 'sftpgo_tls_cert_and_pwd_login_ko_total', 'sftpgo_idp_login_ok_total',
    'sftpgo_http_req_total', 'sftpgo_http_req_ok_total', 'sftpgo_http_client_errors_total', 'sftpgo_http_server_errors_total',
    'sftpgo_active_connections', 'sftpgo_dataprovider_availability',
  ]) {
    assert.equal(value(text, name), 0, name);
  }
  assert.ok(value(text, 'process_cpu_user_seconds_total') >= 0);
  assert.match(m.contentType, /text\/plain/);
});

test('counters move', async () => {
  const m = createMetrics({ defaultMetrics: false });
  m.transferCompleted('upload', 100, false);
  m.transferCompleted('upload', 50, true);
  m.transferCompleted('download', 7, false);
  m.sshCommand(false);
  m.sshCommand(true);
  m.loginAttempt('password');
  m.loginResult('password', false);
  m.loginAttempt('publickey');
  m.loginResult('publickey', true);
  m.noAuthTried();
  m.activeConnections(2);
  m.activeConnections(-1);
  m.providerAvailability(true);
  for (const s of [200, 204, 302, 404, 500]) m.httpRequest(s);
  const t = await m.render();
  assert.equal(value(t, 'sftpgo_uploads_total'), 1);
  assert.equal(value(t, 'sftpgo_upload_errors_total'), 1);
  assert.equal(value(t, 'sftpgo_upload_size'), 150);
  assert.equal(value(t, 'sftpgo_downloads_total'), 1);
  assert.equal(value(t, 'sftpgo_download_size'), 7);
  assert.equal(value(t, 'sftpgo_ssh_commands_total'), 1);
  assert.equal(value(t, 'sftpgo_ssh_command_errors_total'), 1);
  assert.equal(value(t, 'sftpgo_login_attempts_total'), 2);
  assert.equal(value(t, 'sftpgo_login_ok_total'), 1);
  assert.equal(value(t, 'sftpgo_login_ko_total'), 1);
  assert.equal(value(t, 'sftpgo_password_login_ko_total'), 1);
  assert.equal(value(t, 'sftpgo_public_key_login_ok_total'), 1);
  assert.equal(value(t, 'sftpgo_no_auth_total'), 1);
  assert.equal(value(t, 'sftpgo_active_connections'), 1);
  assert.equal(value(t, 'sftpgo_dataprovider_availability'), 1);
  assert.equal(value(t, 'sftpgo_http_req_total'), 5);
  assert.equal(value(t, 'sftpgo_http_req_ok_total'), 2);
  assert.equal(value(t, 'sftpgo_http_client_errors_total'), 1);
  assert.equal(value(t, 'sftpgo_http_server_errors_total'), 1);
});

test('two instances do not share a registry', async () => {
  const a = createMetrics();
  const b = createMetrics();
  a.sshCommand(false);
  assert.equal(value(await a.render(), 'sftpgo_ssh_commands_total'), 1);
  assert.equal(value(await b.render(), 'sftpgo_ssh_commands_total'), 0);
});
