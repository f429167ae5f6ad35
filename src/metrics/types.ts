import type { StorageMetrics } from './storage';

/** The metrics seam (metrics/metrics.ts implements it with prom-client, SFTPGo's names). */
export type LoginMethodMetric =
  | 'password' | 'publickey' | 'keyboard-interactive' | 'publickey+password'
  | 'publickey+keyboard-interactive' | 'TLSCertificate' | 'TLSCertificate+password' | 'IDP';

export interface Metrics {
  transferCompleted(kind: 'upload' | 'download', bytes: number, failed: boolean): void;
  sshCommand(failed: boolean): void;
  loginAttempt(method: LoginMethodMetric): void;
  loginResult(method: LoginMethodMetric, ok: boolean): void;
  noAuthTried(): void;
  activeConnections(delta: number): void;
  providerAvailability(ok: boolean): void;
  httpRequest(status: number): void;
  /** sftpgo_s3_* and friends; absent in test doubles (backends then count nothing) */
  readonly storage?: StorageMetrics;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
}
