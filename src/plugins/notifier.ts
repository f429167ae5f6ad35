/**
 * The notifier plugin (SFTPGo notifierPlugin): fs actions listed in
 * `notifier_options.fs_events` (from the event sink, once the operation is
 * done), provider events matching `provider_events` and `provider_objects`
 * (an administrator's add/update/delete, the object's JSON without secrets)
 * and the login log events in `log_events` (installNotifierLogEvents), each sent in
 * the background. A send that fails (plugin down, error) is queued while the
 * event is younger than `retry_max_time` seconds and the queue is below
 * `retry_queue_max_size` (SFTPGo: 0 = no queue / no size limit; here a size
 * of 0 is capped at QUEUE_HARD_CAP so memory stays bounded), and the queue is
 * sent again when the plugin is back. Notifications never change the
 * outcome of what they report.
 */
import type { EventSink, FsAction, FsEventInput } from '../common/events';
import type { LoginService } from '../common/login';
import type { AppLogger } from '../logger/types';
import type { PluginConfig } from '../config/types';
import type { ProviderObjectEvent } from '../dataprovider/types';
import { withoutSecrets } from '../events/provider-actions';
import { toFsEventRecord, unixNanos } from '../events/fs-actions';
import { loadService, unaryCall } from './proto';
import { PLUGIN_SENDER, type PluginProcess } from './process';

export const NOTIFIER_MAGIC_COOKIE: [string, string] = ['SFTPGO_PLUGIN_NOTIFIER', 'c499b98b-cd59-4df2-92b3-6268817f4d80'];
const QUEUE_HARD_CAP = 10_000;

/** SFTPGo's LogEventType */
export const LOG_EVENT = { loginFailed: 1, loginNoUser: 2, noLoginTried: 3, notNegotiated: 4, loginOk: 5 } as const;
export type LogEventType = typeof LOG_EVENT[keyof typeof LOG_EVENT];
const LOG_EVENT_TYPES: LogEventType[] = Object.values(LOG_EVENT);

export interface LoginLogEvent {
  event: LogEventType;
  protocol: string;
  username: string;
  ip: string;
  /** the refusal's error, empty for a successful login */
  message: string;
}

type NotifierMethod = 'SendFsEvent' | 'SendProviderEvent' | 'SendLogEvent';

/** One notification as sent, kept as is for a retry. */
interface Pending { method: NotifierMethod; message: object; atMs: number; what: string }

export class NotifierPlugin {
  private readonly service = loadService('notifier.proto', 'proto.Notifier');
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(readonly process: PluginProcess, private readonly opts: PluginConfig['notifier_options'], private readonly logger: AppLogger,
    private readonly now: () => number = Date.now) {
    process.on('started', () => this.sendQueued());
  }

  wants(action: FsAction): boolean { return this.opts.fs_events.includes(action); }

  notify(e: FsEventInput): void {
    if (!this.wants(e.action)) return;
    const nowMs = this.now();
    const r = toFsEventRecord(e, nowMs);
    this.send({
      method: 'SendFsEvent', atMs: nowMs, what: `fs action ${r.action}`, message: {
        timestamp: r.timestamp, action: r.action, username: r.username, fs_path: r.path, fs_target_path: r.target_path,
        ssh_cmd: r.ssh_cmd, file_size: r.file_size, protocol: r.protocol, status: r.status, ip: r.ip,
        virtual_path: r.virtual_path, virtual_target_path: r.virtual_target_path, session_id: r.session_id,
        fs_provider: r.fs_provider, bucket: r.bucket, endpoint: r.endpoint, open_flags: r.open_flags, role: r.role, elapsed: r.elapsed,
      },
    });
  }

  wantsProvider(e: Pick<ProviderObjectEvent, 'action' | 'objectType'>): boolean {
    return this.opts.provider_events.includes(e.action) && this.opts.provider_objects.includes(e.objectType);
  }

  notifyProvider(e: ProviderObjectEvent): void {
    if (!this.wantsProvider(e)) return;
    const nowMs = this.now();
    this.send({
      method: 'SendProviderEvent', atMs: nowMs, what: `provider event ${e.action} ${e.objectType}`, message: {
        timestamp: unixNanos(nowMs), action: e.action, object_type: e.objectType, username: e.executor.username, ip: e.executor.ip,
        object_name: e.objectName, object_data: Buffer.from(JSON.stringify(withoutSecrets(e.object) ?? {})), role: e.executor.role ?? '',
      },
    });
  }

  wantsLog(event: LogEventType): boolean { return this.opts.log_events.includes(event); }

  notifyLog(e: LoginLogEvent): void {
    if (!this.wantsLog(e.event)) return;
    const nowMs = this.now();
    this.send({
      method: 'SendLogEvent', atMs: nowMs, what: `log event ${e.event}`, message: {
        // SFTPGo strips NUL bytes from the error text
        timestamp: unixNanos(nowMs), event: e.event, username: e.username, protocol: e.protocol, ip: e.ip,
        message: e.message.replaceAll('\0', ''), role: '',
      },
    });
  }

  get queued(): number { return this.queue.length; }

  private send(ev: Pending): void {
    const p = (async () => {
      try {
        await unaryCall(this.process.client(this.service), this.service, ev.method, ev.message, this.process.callTimeoutMs);
      } catch (e) {
        this.logger.warn(PLUGIN_SENDER, `unable to send ${ev.what} notification to ${this.process.name}: ${(e as Error).message}`);
        this.requeue(ev);
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private tooOld(ev: Pending): boolean {
    return this.now() > ev.atMs + this.opts.retry_max_time * 1000;
  }

  private requeue(ev: Pending): void {
    if (this.opts.retry_max_time <= 0) return;
    if (this.tooOld(ev)) {
      this.logger.warn(PLUGIN_SENDER, `dropping too late event for ${this.process.name}: ${ev.what}`);
      return;
    }
    const max = this.opts.retry_queue_max_size > 0 ? Math.min(this.opts.retry_queue_max_size, QUEUE_HARD_CAP) : QUEUE_HARD_CAP;
    if (this.queue.length >= max) {
      this.logger.warn(PLUGIN_SENDER, `retry queue of ${this.process.name} is full (${max}), ${ev.what} dropped`);
      return;
    }
    this.queue.push(ev);
  }

  private sendQueued(): void {
    const pending = this.queue.splice(0, this.queue.length);
    if (pending.length > 0) this.logger.debug(PLUGIN_SENDER, `sending ${pending.length} queued events to ${this.process.name}`);
    for (const ev of pending) {
      if (this.tooOld(ev)) {
        this.logger.warn(PLUGIN_SENDER, `dropping too late event for ${this.process.name}: ${ev.what}`);
        continue;
      }
      this.send(ev);
    }
  }

  /** Resolves once the sends in progress finished (each bounded by the call timeout). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/** The sink with the notifier plugins added after its own subscribers; the plugins never gate or fail an operation. */
export function withNotifierPlugins(inner: EventSink, notifiers: NotifierPlugin[]): EventSink {
  if (notifiers.length === 0) return inner;
  return {
    wants: (action) => inner.wants(action) || notifiers.some((n) => n.wants(action)),
    pre: (e) => inner.pre(e),
    async notify(e) {
      for (const n of notifiers) n.notify(e);
      if (inner.wants(e.action)) await inner.notify(e);
    },
    async drain() {
      await inner.drain();
      await Promise.all(notifiers.map((n) => n.drain()));
    },
  };
}

/**
 * The login log events (SFTPGo NotifyLogEvent) from the login sequence's
 * outcomes: success (5), a refusal for an unknown user (2) or any other (1),
 * a client gone without trying (3) or whose SSH algorithms did not match (4).
 * An SSH partial success and a cached WebDAV login are not outcomes.
 */
export function installNotifierLogEvents(login: LoginService, notifiers: NotifierPlugin[]): void {
  const wanted = notifiers.filter((n) => LOG_EVENT_TYPES.some((t) => n.wantsLog(t)));
  if (wanted.length === 0) return;
  const send = (e: LoginLogEvent): void => { for (const n of wanted) n.notifyLog(e); };
  login.onOutcome((s, result) => {
    if (result.ok) {
      if (!result.cached) send({ event: LOG_EVENT.loginOk, protocol: s.req.protocol, username: result.user.username, ip: s.ip, message: '' });
      return;
    }
    if (result.kind === 'partial') return;
    const event = result.kind === 'invalid_user' ? LOG_EVENT.loginNoUser : LOG_EVENT.loginFailed;
    send({ event, protocol: s.req.protocol, username: s.req.username, ip: s.ip, message: result.message });
  });
  login.onNoAuth((e) => send({
    event: e.notNegotiated ? LOG_EVENT.notNegotiated : LOG_EVENT.noLoginTried, protocol: e.protocol, username: '', ip: e.ip, message: e.error,
  }));
}
