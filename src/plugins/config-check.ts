/**
 * Which `plugins` entries this server runs (auth for password, public key,
 * keyboard-interactive and TLS certificate; notifier for fs events; kms; ipfilter) and, for everything else, the
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
      if (n.provider_events.length > 0 || n.provider_objects.length > 0) {
        return `${at}.notifier_options.provider_events: provider events for notifier plugins are not supported yet by this server; use the event manager or data_provider.actions`;
      }
      if (n.log_events.length > 0) return `${at}.notifier_options.log_events: log events for notifier plugins are not supported yet by this server`;
      if (n.fs_events.length === 0) return `${at}.notifier_options.fs_events: no actions defined for the notifier plugin`;
      const bad = n.fs_events.find((e) => !FS_EVENTS.includes(e));
      if (bad !== undefined) return `${at}.notifier_options.fs_events: unknown fs event "${bad}"`;
      if (n.retry_max_time < 0 || n.retry_queue_max_size < 0) return `${at}.notifier_options: retry_max_time and retry_queue_max_size must not be negative`;
    }
  }
  return undefined;
}

