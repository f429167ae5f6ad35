/**
 * The Perimeter port (common/perimeter.ts) over the defender, the rate
 * limiters and the IP lists. The order of the connection checks is
 * SFTPGo's: banned (defender block list or ban) → global allow list → rate
 * limiters (skipped for the rate limiters' safe list). The defender's safe
 * list (type 2, mode allow) never scores.
 */
import { FsError } from '../common/errors';
import type { DefenderHostView, LoginFailureKind, Perimeter } from '../common/perimeter';
import type { CommonConfig } from '../config/types';
import type { ProtocolName } from '../dataprovider/models';
import { LIST_MODE_ALLOW, LIST_MODE_DENY } from '../dataprovider/iplist';
import type { AppLogger } from '../logger/types';
import { normalizeIp } from '../util/ipnet';
import type { Defender, DefenderHost } from './defender';
import type { IpListTables } from './iplists';
import type { RateLimiter } from './ratelimit';

export interface GuardDeps {
  common: Pick<CommonConfig, 'allowlist_status' | 'defender'>;
  defender: Defender | undefined;
  limiters: RateLimiter[];
  lists: IpListTables;
  log: AppLogger;
  /** waits a rate limiter's short delay (tests inject a clock-driven one) */
  wait: (ms: number) => Promise<void>;
}

/** SFTPGo's defender entry id: the IP's bytes in hex. */
export function defenderHostId(ip: string): string {
  return Buffer.from(ip, 'utf8').toString('hex');
}

function toView(h: DefenderHost): DefenderHostView {
  const v: DefenderHostView = { id: defenderHostId(h.ip), ip: h.ip };
  if (h.banUntil > 0) v.ban_time = new Date(h.banUntil).toISOString().replace(/\.\d{3}Z$/, 'Z');
  else v.score = h.score;
  return v;
}

export class PerimeterGuard implements Perimeter {
  constructor(private readonly d: GuardDeps) {}

  private blocked(ip: string, protocol: ProtocolName): boolean {
    return this.d.defender !== undefined && this.d.lists.match(2, ip, protocol)?.mode === LIST_MODE_DENY;
  }

  private safe(ip: string, protocol: ProtocolName): boolean {
    return this.d.lists.match(2, ip, protocol)?.mode === LIST_MODE_ALLOW;
  }

  async checkConnection(rawIp: string, protocol: ProtocolName): Promise<void> {
    const ip = normalizeIp(rawIp);
    const defender = this.d.defender;
    if (defender && (this.blocked(ip, protocol) || await defender.isBanned(ip, protocol))) {
      throw new FsError('PermissionDenied', `connection from ${ip} refused: the address is banned`);
    }
    if (this.d.common.allowlist_status === 1 && !this.d.lists.match(1, ip, protocol)) {
      throw new FsError('PermissionDenied', `connection from ${ip} refused: the address is not in the allow list`);
    }
    if (this.d.limiters.length === 0 || this.d.lists.match(3, ip, protocol)) return;
    for (const limiter of this.d.limiters) {
      if (!limiter.protocols.has(protocol)) continue;
      const r = limiter.reserve(ip);
      if (!r.ok) {
        if (limiter.generateDefenderEvents && limiter.perSource) this.loginFailed(ip, protocol, 'limit_exceeded');
        this.d.log.debug('perimeter', `protocol ${protocol} ip ${ip}: rate limit exceeded, wait ${Math.ceil(r.delayMs)} ms, max ${limiter.maxDelayMs} ms`);
        throw new FsError('TooManyConnections', `rate limit exceeded for ${ip}, retry in ${Math.ceil(r.delayMs / 1000)} s`);
      }
      if (r.delayMs > 0) await this.d.wait(r.delayMs);
    }
  }

  checkLoginAttempt(rawIp: string, protocol: ProtocolName): void {
    const ip = normalizeIp(rawIp);
    if (this.blocked(ip, protocol) || this.d.defender?.isKnownBanned(ip)) {
      throw new FsError('PermissionDenied', `login from ${ip} refused: the address is banned`);
    }
  }

  loginFailed(rawIp: string, protocol: ProtocolName, kind: LoginFailureKind): void {
    const ip = normalizeIp(rawIp);
    if (!this.d.defender || this.safe(ip, protocol)) return;
    this.d.defender.addEvent(ip, protocol, kind);
  }

  loginSucceeded(): void {
    // SFTPGo keeps the score of an address after a good login: a spray that guesses one
    // password does not get its slate wiped
  }

  loginDelayMs(succeeded: boolean): number {
    if (!this.d.defender) return 0;
    const delay = this.d.common.defender.login_delay;
    return Math.max(0, succeeded ? delay.success : delay.password_failed);
  }

  async defenderHosts(): Promise<DefenderHostView[]> {
    return this.d.defender ? (await this.d.defender.hosts()).map(toView) : [];
  }

  async defenderHost(ip: string): Promise<DefenderHostView | undefined> {
    const h = await this.d.defender?.host(normalizeIp(ip));
    return h ? toView(h) : undefined;
  }

  async deleteDefenderHost(ip: string): Promise<boolean> {
    return (await this.d.defender?.deleteHost(normalizeIp(ip))) ?? false;
  }

  reloadIpLists(): Promise<void> {
    return this.d.lists.reload();
  }
}
