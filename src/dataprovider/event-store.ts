/**
 * Persistence of event actions and rules (memory here, SQL in
 * sql/events.ts). Rules reference actions by name; a referenced action
 * cannot be deleted. Validation happens above (src/events).
 */
import { FsError } from '../common/errors';
import type { EventAction, EventRule, RuleAction } from './event-models';

export type NewEventAction = Omit<EventAction, 'id' | 'rules'>;
export type NewEventRule = Omit<EventRule, 'id'>;

export interface EventObjectStore {
  listEventActions(): Promise<EventAction[]>;
  getEventAction(name: string): Promise<EventAction | undefined>;
  addEventAction(a: NewEventAction): Promise<EventAction>;
  updateEventAction(a: NewEventAction): Promise<EventAction>;
  /** Throws FsError('Generic') naming the rules when the action is still used. */
  deleteEventAction(name: string): Promise<void>;
  listEventRules(): Promise<EventRule[]>;
  getEventRule(name: string): Promise<EventRule | undefined>;
  addEventRule(r: NewEventRule): Promise<EventRule>;
  updateEventRule(r: NewEventRule): Promise<EventRule>;
  deleteEventRule(name: string): Promise<void>;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Stored form of a rule's action reference. */
export function ruleActionRef(a: RuleAction): RuleAction {
  return { name: a.name, order: a.order, relation_options: { ...a.relation_options } };
}

export class MemoryEventStore implements EventObjectStore {
  private readonly actions = new Map<string, EventAction>();
  private readonly rules = new Map<string, EventRule>();
  private nextId = 1;

  private usedBy(action: string): string[] {
    return [...this.rules.values()].filter((r) => r.actions.some((a) => a.name === action)).map((r) => r.name).sort();
  }

  async listEventActions(): Promise<EventAction[]> {
    return [...this.actions.values()].sort((a, b) => a.name.localeCompare(b.name)).map((a) => ({ ...clone(a), rules: this.usedBy(a.name) }));
  }
  async getEventAction(name: string): Promise<EventAction | undefined> {
    const a = this.actions.get(name);
    return a ? { ...clone(a), rules: this.usedBy(name) } : undefined;
  }
  async addEventAction(a: NewEventAction): Promise<EventAction> {
    if (this.actions.has(a.name)) throw new FsError('AlreadyExists', `event action "${a.name}" already exists`);
    const stored = { ...clone(a), id: this.nextId++ };
    this.actions.set(a.name, stored);
    return clone(stored);
  }
  async updateEventAction(a: NewEventAction): Promise<EventAction> {
    const old = this.actions.get(a.name);
    if (!old) throw new FsError('NotFound', `event action "${a.name}" does not exist`);
    const stored = { ...clone(a), id: old.id };
    this.actions.set(a.name, stored);
    return clone(stored);
  }
  async deleteEventAction(name: string): Promise<void> {
    if (!this.actions.has(name)) throw new FsError('NotFound', `event action "${name}" does not exist`);
    const rules = this.usedBy(name);
    if (rules.length > 0) throw new FsError('Generic', `event action "${name}" is referenced by the rules: ${rules.join(', ')}`);
    this.actions.delete(name);
  }
  async listEventRules(): Promise<EventRule[]> {
    return [...this.rules.values()].sort((a, b) => a.name.localeCompare(b.name)).map(clone);
  }
  async getEventRule(name: string): Promise<EventRule | undefined> {
    const r = this.rules.get(name);
    return r ? clone(r) : undefined;
  }
  private checkActions(r: NewEventRule): void {
    for (const a of r.actions) if (!this.actions.has(a.name)) throw new FsError('NotFound', `event action "${a.name}" does not exist`);
  }
  async addEventRule(r: NewEventRule): Promise<EventRule> {
    if (this.rules.has(r.name)) throw new FsError('AlreadyExists', `event rule "${r.name}" already exists`);
    this.checkActions(r);
    const stored = { ...clone(r), actions: r.actions.map(ruleActionRef), id: this.nextId++ };
    this.rules.set(r.name, stored);
    return clone(stored);
  }
  async updateEventRule(r: NewEventRule): Promise<EventRule> {
    const old = this.rules.get(r.name);
    if (!old) throw new FsError('NotFound', `event rule "${r.name}" does not exist`);
    this.checkActions(r);
    const stored = { ...clone(r), actions: r.actions.map(ruleActionRef), id: old.id, created_at: old.created_at };
    this.rules.set(r.name, stored);
    return clone(stored);
  }
  async deleteEventRule(name: string): Promise<void> {
    if (!this.rules.delete(name)) throw new FsError('NotFound', `event rule "${name}" does not exist`);
  }
}
