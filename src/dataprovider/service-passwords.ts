/**
 * Password verification for users and admins: the per-account caches of
 * verified passwords (data_provider.password_caching, entries tied to the
 * stored hash) and the bounded pool of yescrypt workers.
 */
import { PasswordCache, verifyPassword } from './passwords';
import { WorkerSlots } from './yescrypt-worker';

export class PasswordChecker {
  readonly users = new PasswordCache();
  readonly admins = new PasswordCache();
  /** at most two yescrypt verifications (16 MiB each by default) at a time */
  private readonly slots = new WorkerSlots(2);

  constructor(private readonly caching: boolean) {}

  async matches(cache: PasswordCache, username: string, plain: string, hash: string): Promise<boolean> {
    if (this.caching && cache.check(username, plain, hash).found) return true;
    const ok = await verifyPassword(plain, hash, this.slots);
    if (ok && this.caching) cache.add(username, plain, hash);
    return ok;
  }

  clear(): void {
    this.users.clear();
    this.admins.clear();
  }
}
