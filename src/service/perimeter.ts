/**
 * Builds the Perimeter from common.defender, common.rate_limiters,
 * common.allowlist_status and the provider's IP lists. A setting SFTPGo
 * refuses stops start-up here with the setting named.
 */
import type { Perimeter } from '../common/perimeter';
import type { CommonConfig } from '../config/types';
import type { PerimeterStore } from '../dataprovider/iplist';
import type { AppLogger } from '../logger/types';
import { MemoryDefender, validateDefenderConfig, type BanListener, type Defender } from '../perimeter/defender';
import { ProviderDefender } from '../perimeter/defender-provider';
import { PerimeterGuard } from '../perimeter/guard';
import { IpListTables } from '../perimeter/iplists';
import { isRateLimiterEnabled, RateLimiter, validateRateLimiter } from '../perimeter/ratelimit';

export interface PerimeterOptions {
  /** the clock every timer of the perimeter reads (tests move it) */
  now?: () => number;
  /** how a rate limiter's short delay is waited */
  wait?: (ms: number) => Promise<void>;
  /** told when the defender bans a host (the event manager's "IP blocked" rules) */
  onBan?: BanListener;
}

export async function createPerimeter(common: CommonConfig, store: PerimeterStore, log: AppLogger, opts: PerimeterOptions = {}): Promise<Perimeter> {
  const now = opts.now ?? Date.now;
  if (common.allowlist_status !== 0 && common.allowlist_status !== 1) {
    throw new Error(`common.allowlist_status: invalid value ${common.allowlist_status}, expected 0 or 1`);
  }
  validateDefenderConfig(common.defender);
  const limiters: RateLimiter[] = [];
  common.rate_limiters.forEach((r, i) => {
    if (!isRateLimiterEnabled(r)) return;
    validateRateLimiter(r, i);
    limiters.push(new RateLimiter(r, now));
  });
  let defender: Defender | undefined;
  if (common.defender.enabled) {
    defender = common.defender.driver === 'provider'
      ? new ProviderDefender(common.defender, store, log, now, opts.onBan)
      : new MemoryDefender(common.defender, log, now, opts.onBan);
    log.info('perimeter', `defender enabled, driver ${common.defender.driver}, threshold ${common.defender.threshold}`);
  }
  const lists = new IpListTables(store);
  await lists.reload();
  if (common.allowlist_status === 1) log.info('perimeter', `allow list enabled, ${lists.size(1)} entries`);
  if (limiters.length > 0) log.info('perimeter', `${limiters.length} rate limiter(s) enabled`);
  return new PerimeterGuard({
    common, defender, limiters, lists, log,
    wait: opts.wait ?? ((ms) => new Promise((resolve) => { setTimeout(resolve, ms); })),
  });
}
