/**
 * The factories app.ts composes, loaded by module path so the app builds and
 * runs while layers are still landing (ftpd/webdavd come later). Each shape
 * below is the call this composition root makes; a module that is missing
 * or lacks the export yields undefined, and the caller decides whether that
 * is fatal (provider, connections, sftpd, httpd) or means "not built" (ftpd, webdavd).
 */
import * as path from 'node:path';
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { DataProviderService } from '../dataprovider/types';
import type { ConnectionManager, Service, ServerContext } from '../common/context';

export interface OpenDataProviderOptions {
  config: AppConfig;
  configDir: string;
  logger: AppLogger;
  metrics: Metrics;
}

export interface DataProviderModule {
  openDataProvider(opts: OpenDataProviderOptions): Promise<DataProviderService>;
}

export interface ConnectionManagerOptions {
  config: AppConfig;
  logger: AppLogger;
  metrics: Metrics;
  provider: DataProviderService;
}

export interface ManagerModule {
  createConnectionManager(opts: ConnectionManagerOptions): ConnectionManager;
}

export interface HttpServiceOptions { serviceStatus: () => Record<string, unknown> }

export interface SftpModule { createSftpService(ctx: ServerContext): Service }
export interface HttpModule { createHttpService(ctx: ServerContext, opts: HttpServiceOptions): Service }
export interface FtpModule { createFtpService(ctx: ServerContext): Service }
export interface WebdavModule { createWebdavService(ctx: ServerContext): Service }

export type { RuntimeOptions };

/**
 * Loads `src/<rel>` (compiled sibling) if it exists and exports `fn`.
 * A module that exists but fails to load is a real error and propagates.
 */
export async function loadOptional<T>(rel: string, fn: string): Promise<T | undefined> {
  const spec = path.join(__dirname, '..', rel);
  try {
    require.resolve(spec);
  } catch {
    return undefined;
  }
  const mod = (await import(spec)) as Record<string, unknown>;
  return typeof mod[fn] === 'function' ? (mod as T) : undefined;
}

export async function loadRequired<T>(rel: string, fn: string): Promise<T> {
  const mod = await loadOptional<T>(rel, fn);
  if (!mod) throw new Error(`this build has no ${fn} (src/${rel}.ts)`);
  return mod;
}
