/**
 * The event rule form → SFTPGo's event rule JSON: trigger, the conditions
 * of that trigger, schedules (with this server's minute field) and the
 * actions with their order and relation options. As for actions, the
 * validator behind /api/v2/eventrules decides; this only reads fields.
 */
import { FS_ACTIONS } from '../../common/events';
import { TRIGGER, type ConditionPattern, type EventRule, type RuleAction } from '../../dataprovider/event-models';
import { PROVIDER_EVENTS, PROVIDER_OBJECTS, RULE_PROTOCOLS } from '../../events/validate-rule';
import type { Form } from './form';

/** The triggers the API accepts (the others are refused by name). */
export const TRIGGER_CHOICES: readonly [number, string][] = [
  [TRIGGER.fsEvent, 'Filesystem events'], [TRIGGER.providerEvent, 'Provider events'], [TRIGGER.schedule, 'Schedule'],
  [TRIGGER.ipBlocked, 'IP blocked'], [TRIGGER.onDemand, 'On demand'], [TRIGGER.idpLogin, 'Identity Provider login'],
];

/** SFTPGo's idp_login_event values. */
export const IDP_LOGIN_EVENT_CHOICES: readonly [number, string][] = [[0, 'Any'], [1, 'User login'], [2, 'Admin login']];

/** SFTPGo's event statuses for filesystem events. */
export const EVENT_STATUS_CHOICES: readonly [number, string][] = [[1, 'OK'], [2, 'Failed'], [3, 'Quota exceeded']];

export const RULE_FORM_CHOICES = {
  triggers: TRIGGER_CHOICES, fsEvents: FS_ACTIONS, providerEvents: PROVIDER_EVENTS, providerObjects: PROVIDER_OBJECTS,
  protocols: RULE_PROTOCOLS, statuses: EVENT_STATUS_CHOICES, idpLoginEvents: IDP_LOGIN_EVENT_CHOICES,
};

/** The pattern lists of the conditions: form row prefix → JSON key. */
export const PATTERN_LISTS: readonly [string, 'names' | 'group_names' | 'role_names' | 'fs_paths', string][] = [
  ['cond_name', 'names', 'Names (users, or the object for provider events)'], ['cond_group', 'group_names', 'Group names'],
  ['cond_role', 'role_names', 'Role names'], ['cond_path', 'fs_paths', 'Filesystem paths'],
];

export type RuleInput = Record<string, unknown> & { name: string };

function patterns(form: Form, prefix: string): ConditionPattern[] {
  return form.rows(prefix, 'pattern')
    .map((i) => ({ pattern: form.str(`${prefix}_${i}_pattern`), inverse_match: form.has(`${prefix}_${i}_inverse`) }))
    .filter((p) => p.pattern !== '');
}

function int(form: Form, name: string): number | string | undefined {
  const raw = form.str(name);
  if (raw === '') return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

function actions(form: Form): Record<string, unknown>[] {
  return form.rows('act', 'name').map((i) => ({
    name: form.str(`act_${i}_name`),
    order: int(form, `act_${i}_order`),
    relation_options: {
      is_failure_action: form.has(`act_${i}_is_failure_action`),
      stop_on_failure: form.has(`act_${i}_stop_on_failure`),
      execute_sync: form.has(`act_${i}_execute_sync`),
    },
  })).filter((a) => a.name !== '');
}

/** Bytes, with the form's KB/MB/GB suffixes; text that is no size goes to the validator as typed (its error names the field). */
function size(form: Form, name: string): number | string {
  try {
    return form.size(name, name);
  } catch {
    return form.str(name);
  }
}

/** The posted rule; `name` is the stored one when editing. */
export function ruleFromForm(form: Form, name?: string): RuleInput {
  const options: Record<string, unknown> = {
    names: patterns(form, 'cond_name'), group_names: patterns(form, 'cond_group'), role_names: patterns(form, 'cond_role'),
    fs_paths: patterns(form, 'cond_path'), protocols: form.all('protocols'), provider_objects: form.all('provider_objects'),
    min_size: size(form, 'min_size'), max_size: size(form, 'max_size'),
    event_statuses: form.all('event_statuses').map(Number), concurrent_execution: form.has('concurrent_execution'),
  };
  const schedules = form.rows('sched', 'hour').map((i) => ({
    minute: form.str(`sched_${i}_minute`) || '0', hour: form.str(`sched_${i}_hour`), day_of_week: form.str(`sched_${i}_day_of_week`),
    day_of_month: form.str(`sched_${i}_day_of_month`), month: form.str(`sched_${i}_month`),
  })).filter((s) => [s.hour, s.day_of_week, s.day_of_month, s.month].some((v) => v !== ''));
  const trigger = int(form, 'trigger');
  // the select's value only means something for that trigger (the validator keeps it there alone)
  const idp = trigger === TRIGGER.idpLogin ? { idp_login_event: int(form, 'idp_login_event') ?? 0 } : {};
  return {
    name: name ?? form.str('name'), description: form.str('description'), status: form.str('status') === '0' ? 0 : 1,
    trigger,
    conditions: { fs_events: form.all('fs_events'), provider_events: form.all('provider_events'), schedules, ...idp, options },
    actions: actions(form),
  };
}

export function newRule(): EventRule {
  return {
    id: 0, name: '', status: 1, description: '', created_at: 0, updated_at: 0, trigger: TRIGGER.fsEvent,
    conditions: { fs_events: [], options: {} }, actions: [],
  };
}

/** The posted values in the stored shape, to re-render a refused form. */
export function ruleForRender(input: RuleInput): EventRule {
  const base = newRule();
  const cond = (input.conditions ?? base.conditions) as EventRule['conditions'];
  return {
    ...base, name: input.name, description: typeof input.description === 'string' ? input.description : '',
    status: input.status === 0 ? 0 : 1, trigger: typeof input.trigger === 'number' ? input.trigger : base.trigger,
    conditions: cond, actions: (input.actions ?? []) as RuleAction[],
  };
}
