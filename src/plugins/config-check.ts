/**
 * Which `plugins` entries this server runs (auth for password, public key,
 * keyboard-interactive and TLS certificate; notifier for fs, provider and log events; kms; ipfilter) and, for everything else, the
 * start-up refusal naming the entry. Kept free of runtime imports so the
 * config layer (config/unsupported.ts) can call it.
 */
import path from 'node:path';
import type { PluginConfig } from '../config/types';

/** SFTPGo's valid kms_options (sdk kms schemes and encrypted statuses) */
export const KMS_SCHEMES = ['awskms', 'gcpkms', 'hashivault', 'azurekeyvault', 'oraclekeyvault'];
export const KMS_STATUSES = ['AWS', 'GCP', 'VaultTransit', 'AzureKeyVault', 'OracleKeyVault'];
const FS_EVENTS = ['download', 'upload', 'delete', 'rename', 'mkdir', 'rmdir', 'ssh_cmd', 'copy', 'first-upload', 'first-download'];

const SUPPORTED_TYPES = ['auth', 'notifier', 'kms', 'ipfilter'];

/**
 * Why a plugin type is not run, or undefined when it is. SFTPGo 2.7 knows
 * five types: the four above and `eventsearcher` (the events search of
 * /api/v2/events, which this server does not have yet). `metadata` plugins
 * were removed from SFTPGo in 2.6.0, so a configuration that still names
 * one is stale, not merely unsupported here.
 */
function pluginTypeRefusal(type: string): string | undefined {
  if (SUPPORTED_TYPES.includes(type)) return undefined;
  const supported = `supported here: ${SUPPORTED_TYPES.join(', ')}`;
  if (type === 'eventsearcher') {
    return `"eventsearcher" plugins (SFTPGo's events search API) are not supported yet by this server (${supported}); remove this entry (see README, "Plugins")`;
  }
  if (type === 'metadata') return `"metadata" plugins no longer exist: SFTPGo removed them in 2.6.0; remove this entry`;
  if (type === 'searcher') return `unknown plugin type "searcher" (SFTPGo's type is "eventsearcher", not supported yet by this server; ${supported})`;
  return `unknown plugin type "${type}" (${supported})`;
}

/** SFTPGo's provider actions and objects (dataprovider actions) */
const PROVIDER_EVENTS = ['add', 'update', 'delete'];
const PROVIDER_OBJECTS = ['user', 'folder', 'group', 'admin', 'api_key', 'share', 'event_action', 'event_rule', 'role', 'ip_list_entry', 'configs'];
/** SFTPGo's notifier log events: 1 login failed, 2 login with an unknown user, 3 no login tried, 4 algorithms not negotiated, 5 login OK */
const LOG_EVENTS = [1, 2, 3, 4, 5];

/**
 * SFTPGo accepts any value and an entry that can never fire (provider events
 * without objects); here those are refused, so a typo cannot silently
 * disable a notification.
 */
function notifierOptionsProblem(n: PluginConfig['notifier_options']): string | undefined {
  const hasProvider = n.provider_events.length > 0 || n.provider_objects.length > 0;
  if (n.fs_events.length === 0 && !hasProvider && n.log_events.length === 0) return 'fs_events: no actions defined for the notifier plugin';
  const badFs = n.fs_events.find((e) => !FS_EVENTS.includes(e));
  if (badFs !== undefined) return `fs_events: unknown fs event "${badFs}"`;
  if (hasProvider && (n.provider_events.length === 0 || n.provider_objects.length === 0)) {
    return `${n.provider_events.length === 0 ? 'provider_events' : 'provider_objects'}: provider events need both provider_events and provider_objects`;
  }
  const badAction = n.provider_events.find((e) => !PROVIDER_EVENTS.includes(e));
  if (badAction !== undefined) return `provider_events: unknown provider event "${badAction}" (valid: ${PROVIDER_EVENTS.join(', ')})`;
  const badObject = n.provider_objects.find((o) => !PROVIDER_OBJECTS.includes(o));
  if (badObject !== undefined) return `provider_objects: unknown provider object "${badObject}" (valid: ${PROVIDER_OBJECTS.join(', ')})`;
  const badLog = n.log_events.find((e) => !LOG_EVENTS.includes(e));
  if (badLog !== undefined) return `log_events: unknown log event ${badLog} (valid: 1 login failed, 2 unknown user, 3 no login tried, 4 not negotiated, 5 login OK)`;
  return undefined;
}

/** The first reason the `plugins` section cannot be served, or undefined. */
export function pluginConfigProblem(plugins: PluginConfig[]): string | undefined {
  for (const [i, p] of plugins.entries()) {
    const at = `plugins[${i}]`;
    const refusal = pluginTypeRefusal(p.type);
    if (refusal !== undefined) return `${at}.type: ${refusal}`;
    if (p.cmd === '' || !path.isAbsolute(p.cmd)) return `${at}.cmd: the plugin command must be an absolute path`;
    if (p.sha256sum !== '' && !/^[0-9a-fA-F]{64}$/.test(p.sha256sum)) return `${at}.sha256sum: not a hex SHA-256 digest`;
    if (p.type === 'auth') {
      const s = p.auth_options.scope;
      if (!Number.isInteger(s) || s <= 0 || s > 15) return `${at}.auth_options.scope: invalid auth scope ${s}`;
    } else if (p.type === 'kms') {
      if (!KMS_SCHEMES.includes(p.kms_options.scheme)) return `${at}.kms_options.scheme: invalid kms scheme "${p.kms_options.scheme}"`;
      if (!KMS_STATUSES.includes(p.kms_options.encrypted_status)) {
        return `${at}.kms_options.encrypted_status: invalid kms encrypted status "${p.kms_options.encrypted_status}"`;
      }
    } else if (p.type === 'notifier') {
      const n = p.notifier_options;
      const problem = notifierOptionsProblem(n);
      if (problem !== undefined) return `${at}.notifier_options.${problem}`;
      if (n.retry_max_time < 0 || n.retry_queue_max_size < 0) return `${at}.notifier_options: retry_max_time and retry_queue_max_size must not be negative`;
    }
  }
  return undefined;
}

