/**
 * API keys: `<key_id>.<secret>` handed out once; only a hash of the secret is
 * stored. A key may be bound to an admin (scope 1) or a user (scope 2); an
 * unbound key names the account as a third dot-separated part, and that
 * account must allow API key auth (filters.allow_api_key_auth).
 */
import { randomBytes } from 'node:crypto';
import { FsError } from '../common/errors';
import type { Admin, ApiKey, User } from './models';
import { PasswordCache, verifyPassword } from './passwords';
import type { DataProviderBackend } from './provider';
import { validateApiKey, ValidationError } from './validation';

const denied = (msg = 'invalid API key'): FsError => new FsError('PermissionDenied', msg);

export class ApiKeyManager {
  private readonly cache = new PasswordCache();

  constructor(
    private readonly backend: DataProviderBackend,
    private readonly hash: (secret: string) => Promise<string>,
    private readonly caching: boolean,
  ) {}

  private async checkOwner(k: Omit<ApiKey, 'key_id'>): Promise<void> {
    if (k.user && !(await this.backend.getUser(k.user))) throw new ValidationError(`user "${k.user}" does not exist`);
    if (k.admin && !(await this.backend.getAdmin(k.admin))) throw new ValidationError(`admin "${k.admin}" does not exist`);
  }

  async add(input: unknown): Promise<{ apiKey: ApiKey; key: string }> {
    const k = validateApiKey(input);
    await this.checkOwner(k);
    const keyId = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const now = Date.now();
    const stored = await this.backend.addApiKey({ ...k, key_id: keyId, key: await this.hash(secret), created_at: now, updated_at: now });
    const { key: _hash, ...apiKey } = stored;
    return { apiKey, key: `${keyId}.${secret}` };
  }

  async update(keyId: string, input: unknown): Promise<ApiKey> {
    const existing = await this.backend.getApiKey(keyId);
    if (!existing) throw new FsError('NotFound', `API key "${keyId}" does not exist`);
    const k = validateApiKey(input);
    await this.checkOwner(k);
    const { key: _hash, ...out } = await this.backend.updateApiKey({ ...k, key_id: keyId, updated_at: Date.now() });
    return out;
  }

  /** Verifies an `X-SFTPGO-API-KEY` header value and resolves the account it acts as. */
  async check(header: string): Promise<{ apiKey: ApiKey; admin?: Admin; user?: User }> {
    const parts = header.trim().split('.');
    if (parts.length < 2 || !parts[0] || !parts[1]) throw denied('invalid API key format');
    const [keyId, secret] = [parts[0], parts[1]];
    const username = parts.slice(2).join('.');
    const k = await this.backend.getApiKey(keyId);
    if (!k || !k.key) throw denied();
    if (k.expires_at && k.expires_at > 0 && k.expires_at < Date.now()) throw denied('API key expired');
    const cached = this.caching && this.cache.check(keyId, secret, k.key).found;
    if (!cached) {
      if (!(await verifyPassword(secret, k.key))) throw denied();
      if (this.caching) this.cache.add(keyId, secret, k.key);
    }
    const { key: _hash, ...apiKey } = k;
    await this.backend.updateApiKeyLastUse(keyId, Date.now());
    if (k.scope === 1) {
      const name = k.admin || username;
      const admin = name ? await this.backend.getAdmin(name) : undefined;
      if (!admin || admin.status !== 1) throw denied('API key: admin not found or disabled');
      if (!admin.filters?.allow_api_key_auth) throw denied('API key authentication is not allowed for this admin');
      return { apiKey, admin };
    }
    const name = k.user || username;
    const user = name ? await this.backend.getUser(name) : undefined;
    if (!user || user.status !== 1) throw denied('API key: user not found or disabled');
    if (!user.filters?.allow_api_key_auth) throw denied('API key authentication is not allowed for this user');
    return { apiKey, user };
  }
}
