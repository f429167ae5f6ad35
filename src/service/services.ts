/**
 * Which listeners run: a protocol service is built only when one of its
 * bindings has a port > 0 (SFTPGo: port 0 = disabled).
 */
import type { Service, ServerContext } from '../common/context';
import { createTelemetryService } from './telemetry';
import { createHttpService } from '../httpd/server';
import { createWebdavService } from '../webdavd/server';
import { createSftpService } from '../sftpd/server';
import { createFtpService } from '../ftpd/server';

const enabled = (bindings: { port: number }[]): boolean => bindings.some((b) => b.port > 0);

export async function buildServices(ctx: ServerContext, status: () => Record<string, unknown>): Promise<Service[]> {
  const c = ctx.config;
  const out: Service[] = [];
  if (enabled(c.sftpd.bindings)) {
    out.push(createSftpService(ctx));
  }
  if (enabled(c.ftpd.bindings)) {
    out.push(createFtpService(ctx));
  }
  if (enabled(c.webdavd.bindings)) {
    out.push(createWebdavService(ctx));
  }
  if (enabled(c.httpd.bindings)) {
    out.push(createHttpService(ctx, { serviceStatus: status }));
  }
  if (c.telemetry.bind_port > 0) out.push(createTelemetryService(ctx));
  return out;
}

/** The `/api/v2/status` body parts the services know (httpd adds data_provider). */
export function serviceStatus(ctx: ServerContext, services: Service[]): Record<string, unknown> {
  const c = ctx.config;
  const running = (name: string): boolean => services.some((s) => s.name === name && s.addresses().length > 0);
  return {
    ssh: { is_active: running('sftpd'), bindings: c.sftpd.bindings.filter((b) => b.port > 0) },
    ftp: { is_active: running('ftpd'), bindings: c.ftpd.bindings.filter((b) => b.port > 0) },
    webdav: { is_active: running('webdavd'), bindings: c.webdavd.bindings.filter((b) => b.port > 0) },
    defender: { is_active: c.common.defender.enabled },
    mfa: { is_active: c.mfa.totp.length > 0, totp_configs: c.mfa.totp },
    allow_list: { is_active: c.common.allowlist_status === 1 },
    rate_limiters: { is_active: c.common.rate_limiters.some((r) => r.average > 0) },
  };
}
