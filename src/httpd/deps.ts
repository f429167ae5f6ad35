/** What every route module receives (built once per service in server.ts). */
import type { RevocationList } from './revocations';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../common/context';
import type { Executor } from '../dataprovider/types';
import type { HttpdBinding } from '../config/types';
import type { ListOptions } from '../dataprovider/provider';
import type { TokenManager } from './tokens';
import type { LoginLimiter } from './ratelimit';
import type { QuotaScanner } from './quotascan';
import type { ResetCodes } from './pwreset';
import { ApiError } from './errors';

export interface HttpDeps {
  ctx: ServerContext;
  tokens: TokenManager;
  limiter: LoginLimiter;
  scans: QuotaScanner;
  /** emailed password reset codes, shared by every binding's web admin and web client */
  resetCodes: ResetCodes;
  /** logged-out API tokens and web sessions, shared by every binding (and every node on a shared provider) */
  revocations: RevocationList;
  serviceStatus: () => Record<string, unknown>;
}

export function executorOf(req: FastifyRequest): Executor {
  const admin = req.admin;
  if (!admin) throw new ApiError(401, 'authentication required');
  return { username: admin.username, ip: req.clientIp, role: admin.role };
}

/** httpd.bindings[i], for start-up errors naming a binding's key */
export function bindingKey(deps: HttpDeps, binding: HttpdBinding): string {
  return `httpd.bindings[${Math.max(0, deps.ctx.config.httpd.bindings.indexOf(binding))}]`;
}

export interface ListQuery { offset?: string; limit?: string; order?: 'ASC' | 'DESC' }

/** SFTPGo paging: limit default 100, capped at 500; offset default 0. */
export function listOptions(q: ListQuery | undefined): ListOptions {
  const limit = q?.limit !== undefined ? Math.min(Number(q.limit), 500) : 100;
  const offset = q?.offset !== undefined ? Number(q.offset) : 0;
  return { limit: limit > 0 ? limit : 100, offset, order: q?.order ?? 'ASC' };
}

export function message(text: string): { message: string } {
  return { message: text };
}
