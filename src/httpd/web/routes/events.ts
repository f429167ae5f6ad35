/**
 * Event manager pages (manage_event_rules, as SFTPGo): event actions and
 * event rules listed, added, edited and deleted, on-demand rules run. Every
 * save goes through ctx.eventManager, the port behind /api/v2/eventactions
 * and /api/v2/eventrules: same validation, same secret handling, same
 * provider events; a refused save re-renders the form with the message.
 */
import { FsError } from '../../../common/errors';
import { TRIGGER, type EventAction, type EventRule } from '../../../dataprovider/event-models';
import { isValidationError } from '../../../dataprovider/validation';
import { actionTypeName } from '../../../events/validate-action';
import {
  ACTION_TYPE_CHOICES, actionForRender, actionFromForm, FS_ACTION_CHOICES, HTTP_METHOD_CHOICES, newAction, type ActionInput,
} from '../event-action-form';
import { newRule, PATTERN_LISTS, RULE_FORM_CHOICES, ruleForRender, ruleFromForm, type RuleInput } from '../event-rule-form';
import { paginate } from '../listing';
import type { WebApp, WebRequest } from '../webapp';

const PERMS = ['manage_event_rules'] as const;
const TRIGGER_NAMES = new Map<number, string>(RULE_FORM_CHOICES.triggers);

/** Errors a user can fix in the form (validation, duplicate or vanished names); the rest is a server error page. */
const isFormError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic' && e.kind !== 'Unsupported');

export function registerEventPages(w: WebApp): void {
  const { ctx, views } = w;
  const em = ctx.eventManager;
  const notFound = (r: WebRequest, what: string, name: string) => w.errorPage(r.reply, 404, 'Not found', `${what} "${name}" does not exist.`, r.admin, r.page.csrf);

  // ---- actions
  const renderAction = (r: WebRequest, mode: 'add' | 'edit', action: EventAction, error?: string, status = 200) => {
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    return views.send(r.reply, 'eventaction', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add event action' : `Edit event action ${action.name}`, nav: 'eventactions', mode, action,
      formAction: mode === 'add' ? '/web/admin/eventaction' : `/web/admin/eventaction/${encodeURIComponent(action.name)}`,
      types: ACTION_TYPE_CHOICES, fsTypes: FS_ACTION_CHOICES, methods: HTTP_METHOD_CHOICES,
      enabledCommands: ctx.config.common.event_manager.enabled_commands,
    }, status);
  };

  w.get('/eventactions', PERMS, async (r, _p, query) => {
    const list = paginate<EventAction>(await em.listActions(), query, (a) => `${a.name} ${a.description ?? ''} ${actionTypeName(a.type)}`, {
      name: (a) => a.name, type: (a) => actionTypeName(a.type),
    }, 'name');
    return views.send(r.reply, 'eventactions', r.page, { title: 'Event actions', nav: 'eventactions', list, typeName: actionTypeName });
  });

  w.get('/eventaction', PERMS, async (r) => renderAction(r, 'add', newAction()));

  w.post('/eventaction', PERMS, async (r, _p, form) => {
    const input: ActionInput = actionFromForm(form);
    try {
      const a = await em.addAction(input, r.executor);
      return w.done(r, '/eventactions', `Event action "${a.name}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderAction(r, 'add', actionForRender(input, undefined), e.message, 400);
      throw e;
    }
  });

  w.get<{ name: string }>('/eventaction/:name', PERMS, async (r, p) => {
    const a = await em.getAction(p.name);
    return a ? renderAction(r, 'edit', a) : notFound(r, 'Event action', p.name);
  });

  w.post<{ name: string }>('/eventaction/:name', PERMS, async (r, p, form) => {
    const existing = await em.getAction(p.name);
    if (!existing) return notFound(r, 'Event action', p.name);
    const input = actionFromForm(form, existing.name);
    try {
      await em.updateAction(existing.name, input, r.executor);
      return w.done(r, '/eventactions', `Event action "${existing.name}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderAction(r, 'edit', actionForRender(input, existing), e.message, 400);
      throw e;
    }
  });

  w.post<{ name: string }>('/eventaction/:name/delete', PERMS, async (r, p) => {
    try {
      await em.deleteAction(p.name, r.executor);
    } catch (e) {
      // still used by rules, or already gone: said on the list
      if (isValidationError(e) || e instanceof FsError) return w.done(r, '/eventactions', e.message, 'error');
      throw e;
    }
    return w.done(r, '/eventactions', `Event action "${p.name}" deleted.`);
  });

  // ---- rules
  const renderRule = async (r: WebRequest, mode: 'add' | 'edit', rule: EventRule, error?: string, status = 200) => {
    const flash = error ? { kind: 'error', text: error } : r.page.flash;
    const actions = (await em.listActions()).map((a) => ({ name: a.name, type: actionTypeName(a.type) }));
    return views.send(r.reply, 'eventrule', { ...r.page, flash }, {
      title: mode === 'add' ? 'Add event rule' : `Edit event rule ${rule.name}`, nav: 'eventrules', mode, rule, actions,
      formAction: mode === 'add' ? '/web/admin/eventrule' : `/web/admin/eventrule/${encodeURIComponent(rule.name)}`,
      choices: RULE_FORM_CHOICES, patternLists: PATTERN_LISTS,
    }, status);
  };

  w.get('/eventrules', PERMS, async (r, _p, query) => {
    const list = paginate<EventRule>(await em.listRules(), query, (x) => `${x.name} ${x.description ?? ''} ${x.actions.map((a) => a.name).join(' ')}`, {
      name: (x) => x.name, status: (x) => x.status, trigger: (x) => x.trigger,
    }, 'name');
    return views.send(r.reply, 'eventrules', r.page, {
      title: 'Event rules', nav: 'eventrules', list, triggerName: (t: number) => TRIGGER_NAMES.get(t) ?? `trigger ${t}`, onDemand: TRIGGER.onDemand,
    });
  });

  w.get('/eventrule', PERMS, async (r) => renderRule(r, 'add', newRule()));

  w.post('/eventrule', PERMS, async (r, _p, form) => {
    const input: RuleInput = ruleFromForm(form);
    try {
      const rule = await em.addRule(input, r.executor);
      return w.done(r, '/eventrules', `Event rule "${rule.name}" added.`);
    } catch (e) {
      if (isFormError(e)) return renderRule(r, 'add', ruleForRender(input), e.message, 400);
      throw e;
    }
  });

  w.get<{ name: string }>('/eventrule/:name', PERMS, async (r, p) => {
    const rule = await em.getRule(p.name);
    return rule ? renderRule(r, 'edit', rule) : notFound(r, 'Event rule', p.name);
  });

  w.post<{ name: string }>('/eventrule/:name', PERMS, async (r, p, form) => {
    const existing = await em.getRule(p.name);
    if (!existing) return notFound(r, 'Event rule', p.name);
    const input = ruleFromForm(form, existing.name);
    try {
      await em.updateRule(existing.name, input, r.executor);
      return w.done(r, '/eventrules', `Event rule "${existing.name}" updated.`);
    } catch (e) {
      if (isFormError(e)) return renderRule(r, 'edit', ruleForRender(input), e.message, 400);
      throw e;
    }
  });

  w.post<{ name: string }>('/eventrule/:name/delete', PERMS, async (r, p) => {
    try {
      await em.deleteRule(p.name, r.executor);
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) return w.done(r, '/eventrules', e.message, 'error');
      throw e;
    }
    return w.done(r, '/eventrules', `Event rule "${p.name}" deleted.`);
  });

  w.post<{ name: string }>('/eventrule/:name/run', PERMS, async (r, p) => {
    try {
      await em.runRule(p.name);
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) return w.done(r, '/eventrules', e.message, 'error');
      throw e;
    }
    ctx.logger.info('httpd', `event rule "${p.name}" started from the web admin`, { executor: r.admin.username });
    return w.done(r, '/eventrules', `Event rule "${p.name}" started.`);
  });
}
