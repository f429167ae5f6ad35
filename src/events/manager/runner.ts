/**
 * Executes one rule's actions for one event (SFTPGo executeRuleAction and
 * executeRuleAsyncActions): actions in order, `stop_on_failure` ends the
 * list, failure actions run when something failed. User-bound actions
 * (filesystem, data retention) run through a session of each user
 * concerned, with SFTPGo's event-action user (every permission, no file
 * patterns, no upload size/transfer limits) inside the user's own jail.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { Connection } from '../../common/connection';
import type { Protocol } from '../../common/types';
import type { AppConfig } from '../../config/types';
import { ACTION_TYPE, TRIGGER, type EventAction, type EventRule, type RuleActionOptions } from '../../dataprovider/event-models';
import type { Folder, User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';
import type { SecretsKms } from '../../kms/types';
import type { FsFactory } from '../../common/fs-factory';
import type { AppLogger } from '../../logger/types';
import type { Metrics } from '../../metrics/types';
import { resetFolderQuota, resetTransferQuota, resetUserQuota, runBackup, runInactivityCheck } from './actions-admin';
import { runCommandAction } from './actions-command';
import { runEmailAction } from './actions-email';
import { runPasswordExpirationCheck, runUserExpirationCheck } from './actions-expiration';
import { runFsAction, runRetention } from './actions-fs';
import { runHttpAction } from './actions-http';
import { matchesPatterns, matchesUser } from './conditions';
import { replacePlaceholders, replacements, type EventParams } from './params';

export interface RunnerDeps {
  config: AppConfig;
  /** relative backups_path values are relative to it */
  configDir: string;
  logger: AppLogger;
  metrics: Metrics;
  provider: DataProviderService;
  kms: SecretsKms;
  /** builds the backends an action's session works on (service/filesystems.ts) */
  filesystems: FsFactory;
  mailer?: Transporter;
  now: () => number;
}

export interface BoundAction { action: EventAction; rel: RuleActionOptions }

const SENDER = 'eventmanager';

/** SFTPGo getUserForEventAction. */
function eventActionUser(u: User): User {
  const permissions: Record<string, string[]> = {};
  for (const k of Object.keys(u.permissions ?? { '/': [] })) permissions[k] = ['*'];
  return {
    ...u, permissions: permissions as User['permissions'], upload_data_transfer: 0, download_data_transfer: 0, total_data_transfer: 0,
    filters: { ...(u.filters ?? {}), file_patterns: [], max_upload_file_size: 0, disable_fs_checks: false },
  };
}

export class ActionRunner {
  constructor(private readonly d: RunnerDeps) {}

  private session(user: User, protocol: Protocol): Connection {
    const c = this.d.config;
    return new Connection({
      id: `${protocol}_${randomBytes(8).toString('hex')}`, protocol, user: eventActionUser(user), remoteAddr: '', localAddr: '',
      config: c.common, logger: this.d.logger, metrics: this.d.metrics, provider: this.d.provider, trackQuota: c.data_provider.track_quota,
      filesystems: this.d.filesystems, isShuttingDown: () => false,
    });
  }

  /** A session for the action; closed by `use` when done. */
  private async withSession<T>(user: User, protocol: Protocol, use: (c: Connection) => Promise<T>): Promise<T> {
    const conn = this.session(user, protocol);
    try {
      await conn.ensureRoots();
      return await use(conn);
    } finally {
      await conn.closeAll('event action done');
    }
  }

  /**
   * The users a user-bound action applies to: the event's user for events
   * about one object (a provider event about anything but a user has none:
   * refused, as SFTPGo), every user matching the conditions for schedules
   * and on-demand runs.
   */
  private async usersFor(rule: EventRule, eventUser: User | undefined): Promise<User[]> {
    if (eventUser) return [eventUser];
    if (rule.trigger !== TRIGGER.schedule && rule.trigger !== TRIGGER.onDemand) {
      throw new Error('this action type is only supported for events about a user');
    }
    const o = rule.conditions.options;
    return (await this.d.provider.listUsers()).filter((u) => matchesUser(o, u.username, [], u.role ?? ''));
  }

  /** Folder quota resets: the folder of a provider folder event, or every folder matching the names for schedules/on-demand. */
  private async foldersFor(rule: EventRule, params: EventParams): Promise<Folder[]> {
    if (rule.trigger === TRIGGER.providerEvent && params.objectType === 'folder') {
      const f = await this.d.provider.getFolder(params.objectName);
      return f ? [f] : [];
    }
    if (rule.trigger !== TRIGGER.schedule && rule.trigger !== TRIGGER.onDemand) throw new Error('folder quota reset is only supported for folder events');
    return (await this.d.provider.listFolders()).filter((f) => matchesPatterns(f.name, rule.conditions.options.names));
  }

  private async execute(a: EventAction, rule: EventRule, params: EventParams, eventUser: User | undefined): Promise<void> {
    const local = this.d.config.common.tz === 'local';
    const replace = (s: string, mode: 0 | 1 | 2 = 0): string => replacePlaceholders(s, replacements(params, mode, local));
    const openFileAs = (user: User | undefined) => async (vpath: string) => {
      if (!user) throw new Error(`cannot read "${vpath}": no user is associated with this event`);
      const conn = this.session(user, 'EventAction');
      try {
        const dl = await conn.openRead(vpath);
        return { stream: dl.createReadStream(0), close: async () => { await dl.close(); await conn.closeAll('done'); } };
      } catch (e) {
        await conn.closeAll('done');
        throw e;
      }
    };
    const o = a.options;
    switch (a.type) {
      case ACTION_TYPE.http: {
        const pw = o.http_config.password?.payload ? await this.d.kms.decrypt(o.http_config.password) : '';
        await runHttpAction(o.http_config, { replace: (s, m) => replace(s, m), openFile: openFileAs(eventUser), password: pw });
        return;
      }
      case ACTION_TYPE.command:
        await runCommandAction(o.cmd_config, this.d.config.common.event_manager.enabled_commands, (s) => replace(s), this.d.logger);
        return;
      case ACTION_TYPE.email:
        await runEmailAction(o.email_config, this.d.config.smtp, this.d.mailer, { replace: (s, m) => replace(s, m), openFile: openFileAs(eventUser) });
        return;
      case ACTION_TYPE.filesystem:
        for (const u of await this.usersFor(rule, eventUser)) {
          await this.withSession(u, 'EventAction', (c) => runFsAction(c, o.fs_config, (s) => replace(s)));
        }
        return;
      case ACTION_TYPE.dataRetention: {
        const reports: unknown[] = [];
        for (const u of await this.usersFor(rule, eventUser)) {
          const res = await this.withSession(u, 'DataRetention', (c) => runRetention(c, o.retention_config.folders ?? [], this.d.now()));
          reports.push({ username: u.username, results: res });
          this.d.logger.info(SENDER, `data retention check for user "${u.username}" done`, { rule: rule.name, results: JSON.stringify(res) });
        }
        params.retentionReport = JSON.stringify(reports);
        return;
      }
      case ACTION_TYPE.backup: {
        const dir = this.d.config.data_provider.backups_path;
        await runBackup(this.d.provider, path.isAbsolute(dir) ? dir : path.join(this.d.configDir, dir), this.d.now(), params);
        return;
      }
      case ACTION_TYPE.userQuotaReset:
        await resetUserQuota(this.d.provider, this.d.filesystems, await this.usersFor(rule, eventUser), this.d.logger);
        return;
      case ACTION_TYPE.folderQuotaReset:
        await resetFolderQuota(this.d.provider, this.d.filesystems, await this.foldersFor(rule, params), this.d.logger);
        return;
      case ACTION_TYPE.transferQuotaReset:
        await resetTransferQuota(this.d.provider, (await this.usersFor(rule, eventUser)).map((u) => u.username), this.d.logger);
        return;
      case ACTION_TYPE.userInactivity:
        await runInactivityCheck(this.d.provider, await this.usersFor(rule, eventUser), o.user_inactivity_config, this.d.now(), this.d.logger);
        return;
      case ACTION_TYPE.passwordExpiration:
        await runPasswordExpirationCheck(await this.usersFor(rule, eventUser), o.pwd_expiration_config.threshold ?? 0, {
          smtp: this.d.config.smtp, mailer: this.d.mailer, logger: this.d.logger, now: this.d.now(),
          withGroups: (u) => this.d.provider.groups.withGroupSettings(u),
        });
        return;
      case ACTION_TYPE.userExpiration:
        runUserExpirationCheck(await this.usersFor(rule, eventUser), this.d.now(), this.d.logger);
        return;
      case ACTION_TYPE.rotateLogs:
        this.d.logger.rotate();
        return;
      default:
        throw new Error(`action type ${a.type} is not supported`);
    }
  }

  /**
   * Runs `actions` in order; returns the names of those that failed. Errors
   * are logged with the rule and action names and added to the params
   * ({{.ErrorString}} for the failure actions).
   */
  async runList(rule: EventRule, actions: BoundAction[], params: EventParams, user: User | undefined): Promise<string[]> {
    const failed: string[] = [];
    for (const { action, rel } of actions) {
      try {
        await this.execute(action, rule, params, user);
        this.d.logger.debug(SENDER, `action "${action.name}" of rule "${rule.name}" executed`);
      } catch (e) {
        failed.push(action.name);
        params.errors.push(`${action.name}: ${(e as Error).message}`);
        this.d.logger.warn(SENDER, `action "${action.name}" of rule "${rule.name}" failed: ${(e as Error).message}`, { rule: rule.name, action: action.name });
        if (rel.stop_on_failure) break;
      }
    }
    return failed;
  }

  /** The async part of a rule: its non-sync actions, then the failure actions when anything failed. */
  async runAsync(rule: EventRule, actions: BoundAction[], params: EventParams, user: User | undefined, failedBefore: string[]): Promise<void> {
    const todo = actions.filter((a) => !a.rel.execute_sync && !a.rel.is_failure_action);
    const failed = [...failedBefore, ...(await this.runList(rule, todo, params, user))];
    if (failed.length === 0) return;
    await this.runList(rule, actions.filter((a) => a.rel.is_failure_action), params, user);
  }
}
