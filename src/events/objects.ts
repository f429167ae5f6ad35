/**
 * The EventManagerPort behind the REST API and web admin: validated CRUD of
 * event actions and rules on the provider's store, the HTTP action password
 * encrypted with the kms and never returned, the engine reloaded after each
 * change, provider actions (`event_action`/`event_rule`) reported, and
 * on-demand runs.
 */
import { FsError } from '../common/errors';
import type { EventExecutor, EventManagerPort, IdpLoginEvent, IdpLoginOutcome } from '../common/events';
import { TRIGGER, type EventAction, type EventRule, type StoredSecret } from '../dataprovider/event-models';
import type { EventObjectStore } from '../dataprovider/event-store';
import type { ProviderObjectEvent } from '../dataprovider/types';
import { ValidationError } from '../dataprovider/validation-core';
import type { SecretsKms } from '../kms/types';
import type { EventEngine } from './manager/engine';
import { validateEventAction } from './validate-action';
import { validateEventRule } from './validate-rule';

export interface EventObjectsDeps {
  store: EventObjectStore;
  engine: EventEngine;
  kms: SecretsKms;
  enabledCommands: readonly string[];
  onObjectChange: (e: ProviderObjectEvent) => void;
  now: () => number;
}

function atIndex<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}

async function atIndexAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}

function hideSecret(s: StoredSecret | undefined): StoredSecret | undefined {
  return s ? { status: s.status, payload: '', key: '', additional_data: '', mode: 0 } : undefined;
}

/** What leaves the server: the HTTP password only as its status. */
export function publicAction(a: EventAction): EventAction {
  const http = a.options.http_config;
  return http.password ? { ...a, options: { ...a.options, http_config: { ...http, password: hideSecret(http.password) } } } : a;
}

export class EventObjects implements EventManagerPort {
  constructor(private readonly d: EventObjectsDeps) {}

  private changed(action: ProviderObjectEvent['action'], objectType: 'event_action' | 'event_rule', name: string, by: EventExecutor, object: unknown): void {
    this.d.onObjectChange({ action, objectType, objectName: name, executor: by, object });
  }

  async listActions(): Promise<EventAction[]> { return (await this.d.store.listEventActions()).map(publicAction); }
  async getAction(name: string): Promise<EventAction | undefined> {
    const a = await this.d.store.getEventAction(name);
    return a ? publicAction(a) : undefined;
  }

  /** A plain password is encrypted; an empty one on update keeps the stored secret. */
  private async withSecret(a: Omit<EventAction, 'id'>, existing?: EventAction): Promise<Omit<EventAction, 'id'>> {
    const pw = a.options.http_config.password;
    if (!pw) {
      const keep = existing?.type === a.type ? existing.options.http_config.password : undefined;
      return keep ? { ...a, options: { ...a.options, http_config: { ...a.options.http_config, password: keep } } } : a;
    }
    if (pw.status === 'Plain' || !this.d.kms.isEncrypted(pw)) {
      if (pw.status !== 'Plain') throw new ValidationError('http_config.password: send the new password in the "Plain" status');
      const enc = await this.d.kms.encrypt(pw.payload);
      return { ...a, options: { ...a.options, http_config: { ...a.options.http_config, password: enc as StoredSecret } } };
    }
    return a;
  }

  async addAction(input: unknown, by: EventExecutor): Promise<EventAction> {
    const a = await this.withSecret(validateEventAction(input, this.d.enabledCommands));
    const stored = await this.d.store.addEventAction(a);
    await this.d.engine.reload();
    this.changed('add', 'event_action', stored.name, by, publicAction(stored));
    return publicAction(stored);
  }

  async updateAction(name: string, input: unknown, by: EventExecutor): Promise<EventAction> {
    const existing = await this.d.store.getEventAction(name);
    if (!existing) throw new FsError('NotFound', `event action "${name}" does not exist`);
    const raw = typeof input === 'object' && input !== null ? { ...(input as Record<string, unknown>), name } : input;
    const a = await this.withSecret(validateEventAction(raw, this.d.enabledCommands), existing);
    const stored = await this.d.store.updateEventAction(a);
    await this.d.engine.reload();
    this.changed('update', 'event_action', name, by, publicAction(stored));
    return publicAction(stored);
  }

  async deleteAction(name: string, by: EventExecutor): Promise<void> {
    const existing = await this.d.store.getEventAction(name);
    if (!existing) throw new FsError('NotFound', `event action "${name}" does not exist`);
    if ((existing.rules ?? []).length > 0) throw new ValidationError(`event action "${name}" is referenced by the rules: ${(existing.rules ?? []).join(', ')}`);
    await this.d.store.deleteEventAction(name);
    await this.d.engine.reload();
    this.changed('delete', 'event_action', name, by, publicAction(existing));
  }

  /** Rules come out with each referenced action's details, as SFTPGo renders them. */
  private async expand(r: EventRule): Promise<EventRule> {
    const actions = new Map((await this.d.store.listEventActions()).map((a) => [a.name, publicAction(a)]));
    return {
      ...r,
      actions: r.actions.map((ref) => {
        const a = actions.get(ref.name);
        return a ? { id: a.id, name: a.name, description: a.description, type: a.type, options: a.options, order: ref.order, relation_options: ref.relation_options } : ref;
      }),
    };
  }

  async listRules(): Promise<EventRule[]> {
    return Promise.all((await this.d.store.listEventRules()).map((r) => this.expand(r)));
  }
  async getRule(name: string): Promise<EventRule | undefined> {
    const r = await this.d.store.getEventRule(name);
    return r ? this.expand(r) : undefined;
  }

  private async validRule(input: unknown): Promise<ReturnType<typeof validateEventRule>> {
    const actions = new Map((await this.d.store.listEventActions()).map((a) => [a.name, a]));
    return validateEventRule(input, (n) => actions.get(n));
  }

  async addRule(input: unknown, by: EventExecutor): Promise<EventRule> {
    const now = this.d.now();
    const stored = await this.d.store.addEventRule({ ...(await this.validRule(input)), created_at: now, updated_at: now });
    await this.d.engine.reload();
    const out = await this.expand(stored);
    this.changed('add', 'event_rule', stored.name, by, out);
    return out;
  }

  async updateRule(name: string, input: unknown, by: EventExecutor): Promise<EventRule> {
    const existing = await this.d.store.getEventRule(name);
    if (!existing) throw new FsError('NotFound', `event rule "${name}" does not exist`);
    const raw = typeof input === 'object' && input !== null ? { ...(input as Record<string, unknown>), name } : input;
    const stored = await this.d.store.updateEventRule({ ...(await this.validRule(raw)), created_at: existing.created_at, updated_at: this.d.now() });
    await this.d.engine.reload();
    const out = await this.expand(stored);
    this.changed('update', 'event_rule', name, by, out);
    return out;
  }

  async deleteRule(name: string, by: EventExecutor): Promise<void> {
    const existing = await this.d.store.getEventRule(name);
    if (!existing) throw new FsError('NotFound', `event rule "${name}" does not exist`);
    await this.d.store.deleteEventRule(name);
    await this.d.engine.reload();
    this.changed('delete', 'event_rule', name, by, existing);
  }

  async runRule(name: string): Promise<void> {
    const r = await this.d.store.getEventRule(name);
    if (!r) throw new FsError('NotFound', `event rule "${name}" does not exist`);
    if (r.trigger !== TRIGGER.onDemand) throw new ValidationError(`cannot run the event rule "${name}": its trigger is not "on demand"`);
    if (r.status !== 1) throw new ValidationError(`cannot run the event rule "${name}": it is not active`);
    if (!this.d.engine.runOnDemand(name)) throw new ValidationError(`cannot run the event rule "${name}"`);
  }

  tick(nowMs: number): Promise<number> { return this.d.engine.tick(nowMs); }

  idpLogin(e: IdpLoginEvent): Promise<IdpLoginOutcome> { return this.d.engine.idpLogin(e); }

  /**
   * Dump restore (loaddata): actions then rules, validated as through the
   * API; mode 1 keeps existing objects, 0 and 2 replace them. Encrypted
   * secrets are kept as dumped; no provider actions are fired (internal).
   */
  async restore(actions: unknown[], rules: unknown[], mode: number): Promise<void> {
    for (const [i, raw] of actions.entries()) {
      const a = await this.withSecret(atIndex(`event action ${i + 1}`, () => validateEventAction(raw, this.d.enabledCommands)));
      const existing = await this.d.store.getEventAction(a.name);
      if (existing && mode === 1) continue;
      if (existing) await this.d.store.updateEventAction(a); else await this.d.store.addEventAction(a);
    }
    const now = this.d.now();
    for (const [i, raw] of rules.entries()) {
      const r = await atIndexAsync(`event rule ${i + 1}`, () => this.validRule(raw));
      const existing = await this.d.store.getEventRule(r.name);
      if (existing && mode === 1) continue;
      const created = typeof (raw as { created_at?: unknown }).created_at === 'number' ? (raw as { created_at: number }).created_at : now;
      if (existing) await this.d.store.updateEventRule({ ...r, created_at: existing.created_at, updated_at: now });
      else await this.d.store.addEventRule({ ...r, created_at: created, updated_at: now });
    }
    await this.d.engine.reload();
  }
}
