/**
 * SFTPGo's `plugins` section: the start and stop of the plugin processes
 * (what is accepted is decided in config-check.ts).
 */
import type { AppLogger } from '../logger/types';
import type { PluginConfig } from '../config/types';
import { AUTH_MAGIC_COOKIE, AuthPlugin } from './auth';
import { pluginConfigProblem } from './config-check';
import { NOTIFIER_MAGIC_COOKIE, NotifierPlugin } from './notifier';
import { IPFILTER_MAGIC_COOKIE, IpFilterPlugin } from './ipfilter';
import { KMS_MAGIC_COOKIE, KmsPlugin } from './kms';
import { PluginProcess } from './process';

export interface PluginRuntimeOptions {
  handshakeTimeoutMs?: number;
  restartDelaysMs?: number[];
  callTimeoutMs?: number;
}

export interface Plugins {
  auth: AuthPlugin[];
  notifiers: NotifierPlugin[];
  ipFilters: IpFilterPlugin[];
  kms: KmsPlugin[];
  processes: PluginProcess[];
  stop(): Promise<void>;
}

/** Starts every configured plugin; a plugin that cannot start stops start-up (the ones already started are stopped). */
export async function startPlugins(configs: PluginConfig[], logger: AppLogger, o: PluginRuntimeOptions = {}): Promise<Plugins> {
  const problem = pluginConfigProblem(configs);
  if (problem !== undefined) throw new Error(problem);
  const out: Plugins = {
    auth: [], notifiers: [], ipFilters: [], kms: [], processes: [],
    async stop() {
      await Promise.all(out.processes.map((p) => p.stop()));
    },
  };
  try {
    for (const cfg of configs) {
      const cookie = { auth: AUTH_MAGIC_COOKIE, ipfilter: IPFILTER_MAGIC_COOKIE, kms: KMS_MAGIC_COOKIE }[cfg.type] ?? NOTIFIER_MAGIC_COOKIE;
      const proc = new PluginProcess({ kind: cfg.type, cfg, magicCookie: cookie, logger, ...o });
      await proc.start();
      out.processes.push(proc);
      if (cfg.type === 'auth') out.auth.push(new AuthPlugin(proc, cfg.auth_options.scope));
      else if (cfg.type === 'kms') out.kms.push(new KmsPlugin(proc, cfg.kms_options.scheme, cfg.kms_options.encrypted_status));
      else if (cfg.type === 'ipfilter') out.ipFilters.push(new IpFilterPlugin(proc, logger));
      else out.notifiers.push(new NotifierPlugin(proc, cfg.notifier_options, logger));
    }
  } catch (e) {
    await out.stop();
    throw e;
  }
  return out;
}
