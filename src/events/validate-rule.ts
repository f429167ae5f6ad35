/**
 * Validation of event rules (SFTPGo EventRule.validate): trigger, conditions
 * for that trigger (the rest cleared, as SFTPGo does), schedules, actions
 * and their relation options. Triggers this server cannot fire are refused
 * by name with a 400 rather than stored and never run.
 */
import { FS_ACTIONS } from '../common/events';
import { ACTION_TYPE, TRIGGER, type ConditionPattern, type EventConditions, type EventRule, type RuleAction, type Schedule } from '../dataprovider/event-models';
import { asObj, isObj, optBool, optInt, optString, optStringArray, ValidationError, type Obj } from '../dataprovider/validation-core';
import { parseSchedule } from './manager/cron';
import { actionTypeName, validateName } from './validate-action';

/** the values rules accept (the web admin's forms offer these) */
export const PROVIDER_EVENTS = ['add', 'update', 'delete'];
export const RULE_PROTOCOLS = ['SFTP', 'SCP', 'SSH', 'FTP', 'DAV', 'HTTP', 'HTTPShare', 'OIDC'];
export const PROVIDER_OBJECTS = ['user', 'folder', 'group', 'admin', 'api_key', 'share', 'event_rule', 'event_action'];
const MANDATORY_SYNC = ['pre-upload', 'pre-download', 'pre-delete'];
const ALLOWED_SYNC = ['upload', 'pre-upload', 'pre-download', 'pre-delete'];

/** Actions about users or folders: an IP blocked event has none (SFTPGo checkIPBlockedAndCertificateActions; refused on save here). */
const NO_OBJECT_ACTIONS: ReadonlySet<number> = new Set([
  ACTION_TYPE.userQuotaReset, ACTION_TYPE.folderQuotaReset, ACTION_TYPE.transferQuotaReset, ACTION_TYPE.dataRetention,
  ACTION_TYPE.filesystem, ACTION_TYPE.passwordExpiration, ACTION_TYPE.userExpiration,
]);

const REFUSED_TRIGGERS: Record<number, string> = {
  [TRIGGER.certificate]: 'the "certificate renewal" trigger needs ACME, which this server does not include',
};

function patterns(o: Obj, key: string): ConditionPattern[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError(`conditions.options.${key} must be an array`);
  return v.map((x, i) => {
    const p = asObj(x, `${key}[${i}]`);
    const pattern = (optString(p, 'pattern', `${key}[${i}].pattern`) ?? '').trim();
    if (pattern === '') throw new ValidationError('empty condition pattern not allowed');
    return { pattern, inverse_match: optBool(p, 'inverse_match') ?? false };
  });
}

function subset(o: Obj, key: string, allowed: readonly string[], what: string): string[] {
  const list = optStringArray(o, key, key) ?? [];
  for (const v of list) if (!allowed.includes(v)) throw new ValidationError(`unsupported ${what}: "${v}"`);
  return [...new Set(list)];
}

function schedules(o: Obj): Schedule[] {
  const raw = Array.isArray(o.schedules) ? o.schedules : [];
  if (raw.length === 0) throw new ValidationError('at least one schedule is required');
  return raw.map((x, i) => {
    const s = asObj(x, `schedules[${i}]`);
    const out: Schedule = {
      hour: optString(s, 'hour') ?? '', day_of_week: optString(s, 'day_of_week') ?? '',
      day_of_month: optString(s, 'day_of_month') ?? '', month: optString(s, 'month') ?? '',
      ...(optString(s, 'minute') !== undefined ? { minute: optString(s, 'minute') } : {}),
    };
    try {
      parseSchedule(out);
    } catch (e) {
      throw new ValidationError(`invalid schedule, hour: "${out.hour}", day of month: "${out.day_of_month}", month: "${out.month}", day of week: "${out.day_of_week}": ${(e as Error).message}`);
    }
    return out;
  });
}

function conditions(raw: unknown, trigger: number): EventConditions {
  const c = isObj(raw) ? raw : {};
  const opts = isObj(c.options) ? c.options : {};
  const min = optInt(opts, 'min_size', 0, Number.MAX_SAFE_INTEGER, 'min_size') ?? 0;
  const max = optInt(opts, 'max_size', 0, Number.MAX_SAFE_INTEGER, 'max_size') ?? 0;
  if (min > 0 && max > 0 && max <= min) throw new ValidationError(`invalid max file size ${max}, it is lesser or equal than min file size ${min}`);
  const statuses = (Array.isArray(opts.event_statuses) ? opts.event_statuses : []).map((s) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 3) throw new ValidationError(`invalid event_status ${String(s)}`);
    return s;
  });
  const names = patterns(opts, 'names');
  const groups = patterns(opts, 'group_names');
  const roles = patterns(opts, 'role_names');
  const base = { names, group_names: groups, role_names: roles };
  switch (trigger) {
    case TRIGGER.fsEvent: {
      const fsEvents = subset(c, 'fs_events', FS_ACTIONS, 'fs event');
      if (fsEvents.length === 0) throw new ValidationError('at least one filesystem event is required');
      return {
        fs_events: fsEvents,
        options: { ...base, fs_paths: patterns(opts, 'fs_paths'), protocols: subset(opts, 'protocols', RULE_PROTOCOLS, 'rule condition protocol'), min_size: min, max_size: max, event_statuses: statuses },
      };
    }
    case TRIGGER.providerEvent: {
      const events = subset(c, 'provider_events', PROVIDER_EVENTS, 'provider event');
      if (events.length === 0) throw new ValidationError('at least one provider event is required');
      return { provider_events: events, options: { ...base, provider_objects: subset(opts, 'provider_objects', PROVIDER_OBJECTS, 'provider object') } };
    }
    // concurrent_execution: run on every node of a shared provider (SFTPGo keeps it for schedules)
    case TRIGGER.schedule: return { schedules: schedules(c), options: optBool(opts, 'concurrent_execution') === true ? { ...base, concurrent_execution: true } : base };
    // SFTPGo clears every condition of an IP blocked rule
    case TRIGGER.ipBlocked: return { options: {} };
    case TRIGGER.idpLogin: {
      const idp = optInt(c, 'idp_login_event', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'idp_login_event') ?? 0;
      if (idp < 0 || idp > 2) throw new ValidationError(`invalid Identity Provider login event ${idp}`);
      return { idp_login_event: idp, options: { names } };
    }
    default: return { options: base };
  }
}

/** What a rule needs to know about each referenced action. */
export type ActionLookup = (name: string) => { type: number } | undefined;

export function validateEventRule(input: unknown, lookup: ActionLookup): Omit<EventRule, 'id' | 'created_at' | 'updated_at'> {
  const o = asObj(input, 'event rule');
  const name = validateName(o, 'event rule');
  const status = optInt(o, 'status', 0, 1, 'status') ?? 0;
  const trigger = optInt(o, 'trigger', 0, 100, 'trigger') ?? 0;
  if (REFUSED_TRIGGERS[trigger]) throw new ValidationError(REFUSED_TRIGGERS[trigger]!);
  if (![TRIGGER.fsEvent, TRIGGER.providerEvent, TRIGGER.schedule, TRIGGER.ipBlocked, TRIGGER.onDemand, TRIGGER.idpLogin].includes(trigger as 1 | 2 | 3 | 4 | 6 | 7)) {
    throw new ValidationError(`invalid event rule trigger: ${trigger}`);
  }
  const cond = conditions(o.conditions, trigger);
  const rawActions = Array.isArray(o.actions) ? o.actions : [];
  if (rawActions.length === 0) throw new ValidationError('at least one action is required');
  const seenNames = new Set<string>();
  const seenOrders = new Set<number>();
  let failures = 0;
  let hasSync = false;
  let idpChecks = 0;
  let syncCount = 0;
  const actions: RuleAction[] = rawActions.map((x, idx) => {
    const a = asObj(x, `actions[${idx}]`);
    const actionName = optString(a, 'name', `actions[${idx}].name`) ?? '';
    if (actionName === '') throw new ValidationError(`invalid action at position ${idx}, name not specified`);
    if (seenNames.has(actionName)) throw new ValidationError(`duplicated action "${actionName}"`);
    const order = optInt(a, 'order', 0, 10_000, `actions[${idx}].order`) ?? idx + 1;
    if (seenOrders.has(order)) throw new ValidationError(`duplicated order ${order} for action "${actionName}"`);
    seenNames.add(actionName);
    seenOrders.add(order);
    const found = lookup(actionName);
    if (!found) throw new ValidationError(`action "${actionName}" does not exist`);
    if (trigger === TRIGGER.ipBlocked && NO_OBJECT_ACTIONS.has(found.type)) {
      throw new ValidationError(`action "${actionName}", type "${actionTypeName(found.type)}" is not supported for event trigger "IP blocked"`);
    }
    const ro = isObj(a.relation_options) ? a.relation_options : {};
    const relation = {
      is_failure_action: optBool(ro, 'is_failure_action') ?? false,
      stop_on_failure: optBool(ro, 'stop_on_failure') ?? false,
      execute_sync: optBool(ro, 'execute_sync') ?? false,
    };
    if (found.type === ACTION_TYPE.idpAccountCheck) {
      if (trigger !== TRIGGER.idpLogin) throw new ValidationError('IDP account check action is only supported for IDP login trigger');
      if (!relation.execute_sync) throw new ValidationError('IDP account check must be a sync action');
      idpChecks++;
    }
    if (relation.execute_sync && trigger !== TRIGGER.idpLogin) {
      const events = cond.fs_events ?? [];
      if (trigger !== TRIGGER.fsEvent || !events.every((e) => ALLOWED_SYNC.includes(e))) {
        throw new ValidationError(`sync execution is only supported for upload and pre-* events and Identity Provider logins`);
      }
    }
    if (relation.execute_sync && relation.is_failure_action) throw new ValidationError('sync execution is not supported for failure actions');
    if (relation.is_failure_action) failures++;
    if (relation.execute_sync) { hasSync = true; syncCount++; }
    return { name: actionName, order, relation_options: relation };
  });
  if (failures === actions.length) throw new ValidationError('at least a non-failure action is required');
  // SFTPGo: the account check decides the login, alone among the sync actions
  if (idpChecks > 0 && syncCount !== 1) throw new ValidationError('IDP account check must be the only sync action');
  if (!hasSync && trigger === TRIGGER.fsEvent) {
    const ev = (cond.fs_events ?? []).find((e) => MANDATORY_SYNC.includes(e));
    if (ev) throw new ValidationError(`event "${ev}" requires at least a sync action`);
  }
  actions.sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  return { name, status, description: optString(o, 'description') ?? '', trigger, conditions: cond, actions };
}
