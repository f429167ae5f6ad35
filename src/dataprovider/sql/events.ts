/**
 * Event actions and rules in SQL (SFTPGo's events_actions, events_rules and
 * rules_actions_mapping tables). Options, conditions and relation options
 * are JSON text. The functions take a SqlContext like users.ts/folders.ts,
 * so the backend can call them inside its dump transaction.
 */
import { FsError } from '../../common/errors';
import type { EventAction, EventActionOptions, EventConditions, EventRule, RuleAction, RuleActionOptions } from '../event-models';
import type { EventObjectStore, NewEventAction, NewEventRule } from '../event-store';
import type { Row } from './dialect';
import { json, num, type SqlContext, str } from './context';

function actionFromRow(r: Row, rules: string[]): EventAction {
  return {
    id: num(r.id), name: str(r.name), description: str(r.description), type: num(r.type),
    options: json<EventActionOptions>(r.options, {} as EventActionOptions), rules,
  };
}

async function rulesByAction(ctx: SqlContext): Promise<Map<number, string[]>> {
  const rows = await ctx.all(`SELECT m.action_id, r.name FROM ${ctx.t('rules_actions_mapping')} m
    INNER JOIN ${ctx.t('events_rules')} r ON m.rule_id = r.id ORDER BY r.name`);
  const out = new Map<number, string[]>();
  for (const row of rows) out.set(num(row.action_id), [...(out.get(num(row.action_id)) ?? []), str(row.name)]);
  return out;
}

export async function listEventActions(ctx: SqlContext): Promise<EventAction[]> {
  const used = await rulesByAction(ctx);
  return (await ctx.all(`SELECT * FROM ${ctx.t('events_actions')} ORDER BY name ASC`)).map((r) => actionFromRow(r, used.get(num(r.id)) ?? []));
}

async function actionId(ctx: SqlContext, name: string): Promise<number> {
  const r = await ctx.get(`SELECT id FROM ${ctx.t('events_actions')} WHERE name = ?`, [name]);
  if (!r) throw new FsError('NotFound', `event action "${name}" does not exist`);
  return num(r.id);
}

async function rulesWithActions(ctx: SqlContext, rows: Row[]): Promise<EventRule[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => num(r.id));
  const maps = await ctx.all(`SELECT m.rule_id, m.${ctx.dialect.quote('order')} AS ord, m.options, a.name FROM ${ctx.t('rules_actions_mapping')} m
    INNER JOIN ${ctx.t('events_actions')} a ON m.action_id = a.id WHERE m.rule_id IN (${ids.map(() => '?').join(', ')})
    ORDER BY m.${ctx.dialect.quote('order')} ASC`, ids);
  const byRule = new Map<number, RuleAction[]>();
  for (const m of maps) {
    const ref: RuleAction = {
      name: str(m.name), order: num(m.ord),
      relation_options: json<RuleActionOptions>(m.options, { is_failure_action: false, stop_on_failure: false, execute_sync: false }),
    };
    byRule.set(num(m.rule_id), [...(byRule.get(num(m.rule_id)) ?? []), ref]);
  }
  return rows.map((r) => ({
    id: num(r.id), name: str(r.name), status: num(r.status), description: str(r.description),
    created_at: num(r.created_at), updated_at: num(r.updated_at), trigger: num(r.trigger),
    conditions: json<EventConditions>(r.conditions, { options: {} }), actions: byRule.get(num(r.id)) ?? [],
  }));
}

export async function listEventRules(ctx: SqlContext): Promise<EventRule[]> {
  return rulesWithActions(ctx, await ctx.all(`SELECT * FROM ${ctx.t('events_rules')} ORDER BY name ASC`));
}

async function writeMappings(ctx: SqlContext, ruleId: number, actions: RuleAction[]): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('rules_actions_mapping')} WHERE rule_id = ?`, [ruleId]);
  for (const a of actions) {
    await ctx.run(`INSERT INTO ${ctx.t('rules_actions_mapping')} (rule_id, action_id, ${ctx.dialect.quote('order')}, options) VALUES (?, ?, ?, ?)`,
      [ruleId, await actionId(ctx, a.name), a.order ?? 0, JSON.stringify(a.relation_options)]);
  }
}

/** The store over a backend's serialized (`op`) and transactional (`atomic`) runners. */
export function sqlEventStore(
  op: <T>(fn: (ctx: SqlContext) => Promise<T>) => Promise<T>,
  atomic: <T>(fn: (ctx: SqlContext) => Promise<T>) => Promise<T>,
): EventObjectStore {
  const getAction = async (ctx: SqlContext, name: string): Promise<EventAction | undefined> =>
    (await listEventActions(ctx)).find((a) => a.name === name);
  const getRule = async (ctx: SqlContext, name: string): Promise<EventRule | undefined> =>
    (await rulesWithActions(ctx, await ctx.all(`SELECT * FROM ${ctx.t('events_rules')} WHERE name = ?`, [name])))[0];
  return {
    listEventActions: () => op(listEventActions),
    getEventAction: (name) => op((c) => getAction(c, name)),
    addEventAction: (a: NewEventAction) => atomic(async (c) => {
      await c.write(`event action "${a.name}"`, `INSERT INTO ${c.t('events_actions')} (name, description, type, options) VALUES (?, ?, ?, ?)`,
        [a.name, a.description ?? '', a.type, JSON.stringify(a.options)]);
      return (await getAction(c, a.name)) as EventAction;
    }),
    updateEventAction: (a: NewEventAction) => atomic(async (c) => {
      const r = await c.run(`UPDATE ${c.t('events_actions')} SET description = ?, type = ?, options = ? WHERE name = ?`,
        [a.description ?? '', a.type, JSON.stringify(a.options), a.name]);
      if (r.changes === 0) throw new FsError('NotFound', `event action "${a.name}" does not exist`);
      return (await getAction(c, a.name)) as EventAction;
    }),
    deleteEventAction: (name) => atomic(async (c) => {
      const a = await getAction(c, name);
      if (!a) throw new FsError('NotFound', `event action "${name}" does not exist`);
      if ((a.rules ?? []).length > 0) throw new FsError('Generic', `event action "${name}" is referenced by the rules: ${(a.rules ?? []).join(', ')}`);
      await c.run(`DELETE FROM ${c.t('events_actions')} WHERE id = ?`, [a.id]);
    }),
    listEventRules: () => op(listEventRules),
    getEventRule: (name) => op((c) => getRule(c, name)),
    addEventRule: (r: NewEventRule) => atomic(async (c) => {
      await c.write(`event rule "${r.name}"`, `INSERT INTO ${c.t('events_rules')} (name, status, description, created_at, updated_at, ${c.dialect.quote('trigger')}, conditions)
        VALUES (?, ?, ?, ?, ?, ?, ?)`, [r.name, r.status, r.description ?? '', r.created_at, r.updated_at, r.trigger, JSON.stringify(r.conditions)]);
      // the id by name, not lastInsertId: portable to drivers without it (PostgreSQL)
      const row = await c.get(`SELECT id FROM ${c.t('events_rules')} WHERE name = ?`, [r.name]);
      await writeMappings(c, num(row?.id), r.actions);
      return (await getRule(c, r.name)) as EventRule;
    }),
    updateEventRule: (r: NewEventRule) => atomic(async (c) => {
      const old = await c.get(`SELECT id FROM ${c.t('events_rules')} WHERE name = ?`, [r.name]);
      if (!old) throw new FsError('NotFound', `event rule "${r.name}" does not exist`);
      await c.run(`UPDATE ${c.t('events_rules')} SET status = ?, description = ?, updated_at = ?, ${c.dialect.quote('trigger')} = ?, conditions = ? WHERE id = ?`,
        [r.status, r.description ?? '', r.updated_at, r.trigger, JSON.stringify(r.conditions), num(old.id)]);
      await writeMappings(c, num(old.id), r.actions);
      return (await getRule(c, r.name)) as EventRule;
    }),
    deleteEventRule: (name) => atomic(async (c) => {
      const old = await c.get(`SELECT id FROM ${c.t('events_rules')} WHERE name = ?`, [name]);
      if (!old) throw new FsError('NotFound', `event rule "${name}" does not exist`);
      await c.run(`DELETE FROM ${c.t('rules_actions_mapping')} WHERE rule_id = ?`, [num(old.id)]);
      await c.run(`DELETE FROM ${c.t('events_rules')} WHERE id = ?`, [num(old.id)]);
      // its schedule lock row goes with it (as SFTPGo's): a new rule of that name starts unclaimed
      await c.run(`DELETE FROM ${c.t('tasks')} WHERE name = ?`, [name]);
    }),
  };
}
