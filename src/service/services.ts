/**
 * Which listeners run: a protocol service is built only when one of its
 * bindings has a port > 0 (SFTPGo: port 0 = disabled).
 */
import type { Service, ServerContext } from '../common/context';
import { createTelemetryService } from './telemetry';
import { createHttpService } from '../httpd/server';
import { createSftpService } from '../sftpd/server';
import { createFtpService } from '../ftpd/server';
import { buildServicesStatus } from './status';
import { lazy } from '../util/lazy';

// the WebDAV server (webdav-server and our adapter) loads only when a WebDAV binding is configured
const webdavServer = lazy(() => require('../webdavd/server') as typeof import('../webdavd/server'));

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
    out.push(webdavServer().createWebdavService(ctx));
  }
  if (enabled(c.httpd.bindings)) {
    out.push(createHttpService(ctx, { serviceStatus: status }));
  }
  if (c.telemetry.bind_port > 0) out.push(createTelemetryService(ctx));
  return out;
}

/** The `/api/v2/status` body parts the services know (httpd adds data_provider). */
export function serviceStatus(ctx: ServerContext, services: Service[]): Record<string, unknown> {
  return buildServicesStatus(ctx, services);
}
