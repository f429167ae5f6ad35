/**
 * Which listeners run: a protocol service is built only when one of its
 * bindings has a port > 0 (SFTPGo: port 0 = disabled). FTP and WebDAV are
 * optional modules; configuring them in a build without them is an error.
 */
import type { Service, ServerContext } from '../common/context';
import { createTelemetryService } from './telemetry';
import {
  loadOptional, loadRequired,
  type FtpModule, type HttpModule, type SftpModule, type WebdavModule,
} from './modules';

const enabled = (bindings: { port: number }[]): boolean => bindings.some((b) => b.port > 0);

export async function buildServices(ctx: ServerContext, status: () => Record<string, unknown>): Promise<Service[]> {
  const c = ctx.config;
  const out: Service[] = [];
  if (enabled(c.sftpd.bindings)) {
    const m = await loadRequired<SftpModule>('sftpd/server', 'createSftpService');
    out.push(m.createSftpService(ctx));
  }
  if (enabled(c.ftpd.bindings)) {
    const m = await loadOptional<FtpModule>('ftpd/server', 'createFtpService');
    if (!m) throw new Error('ftpd bindings are configured but this build has no FTP server');
    out.push(m.createFtpService(ctx));
  }
  if (enabled(c.webdavd.bindings)) {
    const m = await loadOptional<WebdavModule>('webdavd/server', 'createWebdavService');
    if (!m) throw new Error('webdavd bindings are configured but this build has no WebDAV server');
    out.push(m.createWebdavService(ctx));
  }
  if (enabled(c.httpd.bindings)) {
    const m = await loadRequired<HttpModule>('httpd/server', 'createHttpService');
    out.push(m.createHttpService(ctx, { serviceStatus: status }));
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
