/**
 * SFTPGo's `data_provider.actions`: a program or URL told when an
 * administrator adds, updates or deletes an object. Program: SFTPGO_PROVIDER_*
 * variables (the timestamp in milliseconds, as SFTPGo's command form);
 * URL: the object JSON POSTed with the details in the query string (sorted
 * as Go's url.Values.Encode, timestamp in nanoseconds). Always in the
 * background; secrets never leave: password hashes, key hashes, TOTP secrets
 * and the payload of stored secrets are removed first.
 */
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import type { ProviderObjectEvent, ProviderObjectType } from '../dataprovider/types';
import type { AppLogger } from '../logger/types';
import { parseHookTarget } from '../hooks/command-config';
import type { HookExecutor } from '../hooks/executor';
import { unixNanos } from './fs-actions';
import type { BoundedQueue } from './queue';

type ProviderActionsConfig = AppConfig['data_provider']['actions'];

const OBJECT_TYPES: readonly ProviderObjectType[] = [
  'user', 'folder', 'group', 'admin', 'api_key', 'share', 'event_action', 'event_rule', 'role', 'ip_list_entry', 'configs',
];
const OPERATIONS = ['add', 'update', 'delete'];

/** Top-level fields that are hashes: a user's or admin's password, an API key's key. */
const HASH_KEYS = new Set(['password', 'key']);

/** A stored secret (kms): {status, payload, key, additional_data, mode}. */
function isStoredSecret(v: Record<string, unknown>): boolean {
  return typeof v.status === 'string' && 'payload' in v;
}

/** Deep copy without secrets (SFTPGo PrepareForRendering + HideConfidentialData). Bounded in depth. */
export function withoutSecrets(v: unknown, depth = 0): unknown {
  if (depth > 32 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => withoutSecrets(x, depth + 1));
  const src = v as Record<string, unknown>;
  if (isStoredSecret(src)) return { status: src.status, payload: '', key: '', additional_data: '', mode: 0 };
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(src)) {
    if (depth === 0 && HASH_KEYS.has(k) && typeof val === 'string') continue;
    out[k] = withoutSecrets(val, depth + 1);
  }
  return out;
}

export function validateProviderActionsConfig(c: ProviderActionsConfig): void {
  for (const a of c.execute_on) {
    if (!OPERATIONS.includes(a)) throw new ConfigError(`data_provider.actions.execute_on: unknown action "${a}", valid: ${OPERATIONS.join(', ')}`);
  }
  for (const t of c.execute_for) {
    if (!(OBJECT_TYPES as readonly string[]).includes(t)) {
      throw new ConfigError(`data_provider.actions.execute_for: unknown object type "${t}", valid: ${OBJECT_TYPES.join(', ')}`);
    }
  }
  if (c.hook === '') return;
  const t = parseHookTarget(c.hook);
  if (!t) throw new ConfigError(`data_provider.actions.hook: invalid hook "${c.hook}": must be an http(s) URL or an absolute path`);
  if (t.kind === 'program' && !existsSync(t.path)) throw new ConfigError(`data_provider.actions.hook: hook program "${t.path}" does not exist`);
  if (t.kind === 'http') {
    try {
      new URL(t.url);
    } catch {
      throw new ConfigError('data_provider.actions.hook: invalid hook URL');
    }
  }
}

export class ProviderActionsHook {
  constructor(
    private readonly cfg: ProviderActionsConfig,
    private readonly executor: HookExecutor,
    private readonly queue: BoundedQueue,
    private readonly logger: AppLogger,
    private readonly now: () => number = Date.now,
  ) {
    validateProviderActionsConfig(cfg);
  }

  wants(e: Pick<ProviderObjectEvent, 'action' | 'objectType'>): boolean {
    return this.cfg.hook !== '' && this.cfg.execute_on.includes(e.action) && this.cfg.execute_for.includes(e.objectType);
  }

  notify(e: ProviderObjectEvent): void {
    if (!this.wants(e)) return;
    const nowMs = this.now();
    const objectJson = JSON.stringify(withoutSecrets(e.object) ?? {});
    const role = e.executor.role ?? '';
    const vars: Record<string, string> = {
      SFTPGO_PROVIDER_ACTION: e.action,
      SFTPGO_PROVIDER_OBJECT_TYPE: e.objectType,
      SFTPGO_PROVIDER_OBJECT_NAME: e.objectName,
      SFTPGO_PROVIDER_USERNAME: e.executor.username,
      SFTPGO_PROVIDER_IP: e.executor.ip,
      SFTPGO_PROVIDER_ROLE: role,
      SFTPGO_PROVIDER_TIMESTAMP: String(Math.trunc(nowMs)),
      SFTPGO_PROVIDER_OBJECT: objectJson,
    };
    // url.Values.Encode sorts the keys
    const query: Record<string, string> = {
      action: e.action, ip: e.executor.ip, object_name: e.objectName, object_type: e.objectType,
      ...(role !== '' ? { role } : {}), timestamp: unixNanos(nowMs), username: e.executor.username,
    };
    this.queue.push(async () => {
      try {
        const answer = await this.executor.call({
          hook: 'provider_actions', target: this.cfg.hook, vars, http: { method: 'POST', query, body: objectJson, retry: true },
        });
        if (answer.kind === 'http' && answer.response.status !== 200) {
          this.logger.debug('provider_actions_hook', `notified ${e.action} ${e.objectType} "${e.objectName}": HTTP status ${answer.response.status}`);
        }
      } catch (err) {
        this.logger.warn('provider_actions_hook', `${e.action} ${e.objectType} "${e.objectName}": ${(err as Error).message}`);
      }
    });
  }
}
