/**
 * Prometheus metrics with SFTPGo's names (all unlabeled). Each call builds
 * its own Registry so two servers in one process never clash; the process
 * default metrics (process_*, nodejs_*) are registered on it too.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createStorageMetrics } from './storage';
import type { LoginMethodMetric, Metrics } from './types';

/** SFTPGo's metric name stem for each login method. */
const LOGIN_METHOD_STEMS: Record<LoginMethodMetric, string> = {
  password: 'sftpgo_password_login',
  publickey: 'sftpgo_public_key_login',
  'keyboard-interactive': 'sftpgo_keyboard_interactive_login',
  'publickey+password': 'sftpgo_key_and_password_login',
  'publickey+keyboard-interactive': 'sftpgo_key_and_keyboard_int_login',
  TLSCertificate: 'sftpgo_tls_cert_login',
  'TLSCertificate+password': 'sftpgo_tls_cert_and_pwd_login',
  IDP: 'sftpgo_idp_login',
};

interface LoginCounters { attempts: Counter; ok: Counter; ko: Counter }

export interface MetricsOptions {
  /** process/runtime metrics; on by default like SFTPGo's go_* and process_*. */
  defaultMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics & { readonly registry: Registry } {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const counter = (name: string, help: string): Counter => new Counter({ name, help, registers: [registry] });
  const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers: [registry] });

  const uploads = counter('sftpgo_uploads_total', 'The total number of successful uploads');
  const downloads = counter('sftpgo_downloads_total', 'The total number of successful downloads');
  const uploadErrors = counter('sftpgo_upload_errors_total', 'The total number of failed uploads');
  const downloadErrors = counter('sftpgo_download_errors_total', 'The total number of failed downloads');
  const uploadSize = counter('sftpgo_upload_size', 'The total upload size as bytes, partial uploads are included');
  const downloadSize = counter('sftpgo_download_size', 'The total download size as bytes, partial downloads are included');
  const sshCommands = counter('sftpgo_ssh_commands_total', 'The total number of executed SSH commands');
  const sshCommandErrors = counter('sftpgo_ssh_command_errors_total', 'The total number of SSH command errors');
  const loginAttempts = counter('sftpgo_login_attempts_total', 'The total number of login attempts');
  const noAuth = counter('sftpgo_no_auth_total', 'The total number of connections closed without authentication attempts');
  const loginOk = counter('sftpgo_login_ok_total', 'The total number of successful logins');
  const loginKo = counter('sftpgo_login_ko_total', 'The total number of failed logins');
  const httpReq = counter('sftpgo_http_req_total', 'The total number of HTTP requests served');
  const httpOk = counter('sftpgo_http_req_ok_total', 'The total number of HTTP requests served with 2xx status code');
  const httpClientErr = counter('sftpgo_http_client_errors_total', 'The total number of HTTP requests served with 4xx status code');
  const httpServerErr = counter('sftpgo_http_server_errors_total', 'The total number of HTTP requests served with 5xx status code');
  const activeConnections = gauge('sftpgo_active_connections', 'Total number of logged in users');
  const availability = gauge('sftpgo_dataprovider_availability', 'Availability for the configured data provider, 1 means OK, 0 KO');

  const perMethod = new Map<LoginMethodMetric, LoginCounters>();
  for (const [method, stem] of Object.entries(LOGIN_METHOD_STEMS) as [LoginMethodMetric, string][]) {
    perMethod.set(method, {
      attempts: counter(`${stem}_attempts_total`, `The total number of login attempts using ${method}`),
      ok: counter(`${stem}_ok_total`, `The total number of successful logins using ${method}`),
      ko: counter(`${stem}_ko_total`, `The total number of failed logins using ${method}`),
    });
  }

  return {
    registry,
    storage: createStorageMetrics(registry, ['s3', 'gcs', 'az', 'httpfs']),
    contentType: registry.contentType,
    transferCompleted(kind, bytes, failed) {
      const n = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
      if (kind === 'upload') {
        (failed ? uploadErrors : uploads).inc();
        uploadSize.inc(n);
      } else {
        (failed ? downloadErrors : downloads).inc();
        downloadSize.inc(n);
      }
    },
    sshCommand(failed) {
      (failed ? sshCommandErrors : sshCommands).inc();
    },
    loginAttempt(method) {
      loginAttempts.inc();
      perMethod.get(method)?.attempts.inc();
    },
    loginResult(method, ok) {
      (ok ? loginOk : loginKo).inc();
      const m = perMethod.get(method);
      if (m) (ok ? m.ok : m.ko).inc();
    },
    noAuthTried() {
      noAuth.inc();
    },
    activeConnections(delta) {
      if (delta >= 0) activeConnections.inc(delta);
      else activeConnections.dec(-delta);
    },
    providerAvailability(ok) {
      availability.set(ok ? 1 : 0);
    },
    httpRequest(status) {
      httpReq.inc();
      if (status >= 200 && status < 300) httpOk.inc();
      else if (status >= 400 && status < 500) httpClientErr.inc();
      else if (status >= 500) httpServerErr.inc();
    },
    render: () => registry.metrics(),
  };
}
