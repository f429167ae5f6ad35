/**
 * The notifier plugin as an event sink subscriber (SFTPGo notifierPlugin):
 * the fs actions listed in `notifier_options.fs_events` are sent to the
 * plugin in the background once the operation is done. A send that fails
 * (plugin down, error) is queued while the event is younger than
 * `retry_max_time` seconds and the queue is below `retry_queue_max_size`
 * (SFTPGo: 0 = no queue / no size limit; here a size of 0 is capped at
 * QUEUE_HARD_CAP so memory stays bounded), and the queue is sent again when
 * the plugin is back. Notifications never change the operation's outcome.
 */
import type { EventSink, FsAction, FsEventInput } from '../common/events';
import type { AppLogger } from '../logger/types';
import type { PluginConfig } from '../config/types';
import { toFsEventRecord, type FsEventRecord } from '../events/fs-actions';
import { loadService, unaryCall } from './proto';
import { PLUGIN_SENDER, type PluginProcess } from './process';

export const NOTIFIER_MAGIC_COOKIE: [string, string] = ['SFTPGO_PLUGIN_NOTIFIER', 'c499b98b-cd59-4df2-92b3-6268817f4d80'];
const QUEUE_HARD_CAP = 10_000;

interface QueuedEvent { record: FsEventRecord; atMs: number }

export class NotifierPlugin {
  private readonly service = loadService('notifier.proto', 'proto.Notifier');
  private readonly queue: QueuedEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(readonly process: PluginProcess, private readonly opts: PluginConfig['notifier_options'], private readonly logger: AppLogger,
    private readonly now: () => number = Date.now) {
    process.on('started', () => this.sendQueued());
  }

  wants(action: FsAction): boolean { return this.opts.fs_events.includes(action); }

  notify(e: FsEventInput): void {
    if (!this.wants(e.action)) return;
    const nowMs = this.now();
    this.send({ record: toFsEventRecord(e, nowMs), atMs: nowMs });
  }

  get queued(): number { return this.queue.length; }

  private send(ev: QueuedEvent): void {
    const r = ev.record;
    const msg = {
      timestamp: r.timestamp, action: r.action, username: r.username, fs_path: r.path, fs_target_path: r.target_path,
      ssh_cmd: r.ssh_cmd, file_size: r.file_size, protocol: r.protocol, status: r.status, ip: r.ip,
      virtual_path: r.virtual_path, virtual_target_path: r.virtual_target_path, session_id: r.session_id,
      fs_provider: r.fs_provider, bucket: r.bucket, endpoint: r.endpoint, open_flags: r.open_flags, role: r.role, elapsed: r.elapsed,
    };
    const p = (async () => {
      try {
        await unaryCall(this.process.client(this.service), this.service, 'SendFsEvent', msg, this.process.callTimeoutMs);
      } catch (e) {
        this.logger.warn(PLUGIN_SENDER, `unable to send fs action notification to ${this.process.name}: ${(e as Error).message}`);
        this.requeue(ev);
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private requeue(ev: QueuedEvent): void {
    if (this.opts.retry_max_time <= 0) return;
    if (this.now() > ev.atMs + this.opts.retry_max_time * 1000) {
      this.logger.warn(PLUGIN_SENDER, `dropping too late event for ${this.process.name}, action ${ev.record.action}`);
      return;
    }
    const max = this.opts.retry_queue_max_size > 0 ? Math.min(this.opts.retry_queue_max_size, QUEUE_HARD_CAP) : QUEUE_HARD_CAP;
    if (this.queue.length >= max) {
      this.logger.warn(PLUGIN_SENDER, `retry queue of ${this.process.name} is full (${max}), event ${ev.record.action} dropped`);
      return;
    }
    this.queue.push(ev);
  }

  private sendQueued(): void {
    const pending = this.queue.splice(0, this.queue.length);
    if (pending.length > 0) this.logger.debug(PLUGIN_SENDER, `sending ${pending.length} queued events to ${this.process.name}`);
    for (const ev of pending) {
      if (this.now() > ev.atMs + this.opts.retry_max_time * 1000) continue;
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
