/** `sftpgo ping`: GET /healthz on the first enabled httpd binding (or the telemetry listener). */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AppConfig } from '../config/types';

export function healthzUrl(c: AppConfig): string {
  const b = c.httpd.bindings.find((x) => x.port > 0);
  if (b) {
    const host = b.address === '' || b.address === '0.0.0.0' || b.address === '::' ? '127.0.0.1' : b.address;
    return `${b.enable_https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${b.port}/healthz`;
  }
  if (c.telemetry.bind_port > 0) {
    const host = c.telemetry.bind_address || '127.0.0.1';
    return `${c.telemetry.certificate_file ? 'https' : 'http'}://${host}:${c.telemetry.bind_port}/healthz`;
  }
  throw new Error('no HTTP service is enabled: nothing to ping');
}

export function ping(url: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    // a health check of our own endpoint: certificate names rarely match 127.0.0.1
    const req = mod.get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('error', reject);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', (err) => reject(new Error(`${url}: ${err.message}`)));
  });
}
