/**
 * The IP filter plugin in the perimeter (SFTPGo IsBanned: the plugin is asked
 * before the defender): every accepted connection's address goes to
 * CheckIP first; an error answer denies it. Unlike SFTPGo, which lets
 * everyone in while the plugin is down, a plugin that is down, slow or
 * failing denies the connection (fail closed, with a log line): a Geo-IP
 * filter that silently stops filtering is a hole.
 */
import { FsError } from '../common/errors';
import type { Perimeter } from '../common/perimeter';
import type { AppLogger } from '../logger/types';
import { loadService, unaryCall } from './proto';
import { PLUGIN_SENDER, type PluginProcess } from './process';

export const IPFILTER_MAGIC_COOKIE: [string, string] = ['SFTPGO_PLUGIN_IPFILTER', '368dbdab-4839-4bec-b75f-fc74a2d50f24'];
/** a connection waits at most this long for the filter's answer */
const CHECK_TIMEOUT_MS = 10_000;

export class IpFilterPlugin {
  private readonly service = loadService('ipfilter.proto', 'proto.IPFilter');

  constructor(readonly process: PluginProcess, private readonly logger: AppLogger) {}

  /** Resolves when the plugin allows `ip`; rejects with FsError('PermissionDenied') otherwise. */
  async check(ip: string, protocol: string): Promise<void> {
    try {
      await unaryCall(this.process.client(this.service), this.service, 'CheckIP', { ip, protocol },
        Math.min(CHECK_TIMEOUT_MS, this.process.callTimeoutMs));
    } catch (e) {
      this.logger.warn(PLUGIN_SENDER, `connection from ${ip} (${protocol}) denied by ${this.process.name}: ${(e as Error).message}`);
      throw new FsError('PermissionDenied', `connection from ${ip} denied by the IP filter plugin`);
    }
  }
}

/** The perimeter with the IP filter plugins asked first at accept; everything else unchanged. */
export function withIpFilterPlugins(inner: Perimeter, filters: IpFilterPlugin[]): Perimeter {
  if (filters.length === 0) return inner;
  // explicit delegation: the perimeter is a class instance, its methods live on the prototype
  return {
    async checkConnection(ip, protocol) {
      for (const f of filters) await f.check(ip, protocol);
      await inner.checkConnection(ip, protocol);
    },
    checkLoginAttempt: (ip, protocol) => inner.checkLoginAttempt(ip, protocol),
    loginFailed: (ip, protocol, kind) => inner.loginFailed(ip, protocol, kind),
    loginSucceeded: (ip, protocol) => inner.loginSucceeded(ip, protocol),
    loginDelayMs: (succeeded) => inner.loginDelayMs(succeeded),
    defenderHosts: () => inner.defenderHosts(),
    defenderHost: (ip) => inner.defenderHost(ip),
    deleteDefenderHost: (ip) => inner.deleteDefenderHost(ip),
    reloadIpLists: () => inner.reloadIpLists(),
  };
}
