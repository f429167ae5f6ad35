/**
 * Writes an account's second factors (TOTP configuration, recovery codes): the
 * only path that changes them, since ordinary user/admin updates keep the
 * stored ones (as SFTPGo's 2FA endpoints).
 */
import { FsError } from '../common/errors';
import type { AppLogger } from '../logger/types';
import type { DataProviderBackend } from './provider';
import { type AccountKind, type AccountSecrets, type SecondFactor, withSecondFactor } from './secrets';
import type { Executor } from './types';

const SENDER = 'dataprovider';

export class SecondFactorWriter {
  /** one recovery-code use at a time per account, so a code cannot be spent twice concurrently */
  private readonly queue = new Map<string, Promise<unknown>>();

  constructor(private readonly backend: DataProviderBackend, private readonly secrets: AccountSecrets, private readonly log: AppLogger) {}

  async save(kind: AccountKind, username: string, sf: SecondFactor, executor?: Executor): Promise<void> {
    const sealed = await this.secrets.seal(sf, username, kind);
    await this.write(kind, username, sealed);
    this.log.info(SENDER, `${kind} "${username}": two-factor settings updated, totp ${sealed.totp_config?.enabled ? 'enabled' : 'disabled'}`,
      { executor: executor?.username, ip: executor?.ip });
  }

  useRecoveryCode(kind: AccountKind, username: string, code: string): Promise<boolean> {
    const key = `${kind}:${username}`;
    const run = async (): Promise<boolean> => {
      const account = kind === 'user' ? await this.backend.getUser(username) : await this.backend.getAdmin(username);
      const f = account?.filters;
      if (!f?.totp_config?.enabled) return false;
      const idx = await this.secrets.findRecoveryCode(f.recovery_codes, code);
      if (idx < 0 || !f.recovery_codes) return false;
      const codes = f.recovery_codes.map((c, i) => (i === idx ? { ...c, used: true } : c));
      await this.write(kind, username, { totp_config: f.totp_config, recovery_codes: codes });
      this.log.info(SENDER, `${kind} "${username}" used a recovery code`, { remaining: codes.filter((c) => !c.used).length });
      return true;
    };
    const prev = this.queue.get(key) ?? Promise.resolve();
    const next = prev.then(run, run);
    this.queue.set(key, next);
    void next.finally(() => { if (this.queue.get(key) === next) this.queue.delete(key); }).catch(() => undefined);
    return next;
  }

  private async write(kind: AccountKind, username: string, sf: SecondFactor): Promise<void> {
    if (kind === 'user') {
      const u = await this.backend.getUser(username);
      if (!u) throw new FsError('NotFound', `user "${username}" does not exist`);
      await this.backend.updateUser({ ...u, filters: withSecondFactor(u.filters, sf), updated_at: Date.now() });
    } else {
      const a = await this.backend.getAdmin(username);
      if (!a) throw new FsError('NotFound', `admin "${username}" does not exist`);
      await this.backend.updateAdmin({ ...a, filters: withSecondFactor(a.filters, sf), updated_at: Date.now() });
    }
  }
}
