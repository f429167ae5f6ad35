/**
 * Event manager pages (manage_event_rules, as SFTPGo): event actions and
 * event rules listed, added, edited and deleted, on-demand rules run. Every
 * save goes through ctx.eventManager, the port behind /api/v2/eventactions
 * and /api/v2/eventrules: same validation, same secret handling, same
 * provider events; a refused save re-renders the form with the message.
 */
import type { FastifyReply } from 'fastify';
import { FsError } from '../../../common/errors';
import type { EventExecutor } from '../../../common/events';
import { TRIGGER, type EventAction, type EventRule } from '../../../dataprovider/event-models';
import { isValidationError } from '../../../dataprovider/validation';
import { actionTypeName } from '../../../events/validate-action';
import { ACTION_TYPE_CHOICES, actionForRender, actionFromForm, FS_ACTION_CHOICES, HTTP_METHOD_CHOICES, newAction } from '../event-action-form';
import { newRule, PATTERN_LISTS, RULE_FORM_CHOICES, ruleForRender, ruleFromForm } from '../event-rule-form';
import type { Form } from '../form';
import { paginate } from '../listing';
import type { WebApp, WebRequest } from '../webapp';

const PERMS = ['manage_event_rules'] as const;
const TRIGGER_NAMES = new Map<number, string>(RULE_FORM_CHOICES.triggers);

/** Errors a user can fix in the form (validation, duplicate or vanished names); the rest is a server error page. */
const isFormError = (e: unknown): e is Error => isValidationError(e) || (e instanceof FsError && e.kind !== 'Generic' && e.kind !== 'Unsupported');

type Mode = 'add' | 'edit';

/** One kind of event object (actions or rules) as the pages need it. */
interface Kind<T extends { name: string }, I> {
  /** "event action": messages; `path`: /<path>s lists, /<path> adds, /<path>/:name edits */
  what: string;
  path: string;
  get(name: string): Promise<T | undefined>;
  add(input: I, by: EventExecutor): Promise<T>;
  update(name: string, input: I, by: EventExecutor): Promise<unknown>;
  del(name: string, by: EventExecutor): Promise<void>;
  fromForm(form: Form, name?: string): I;
  /** the posted values in the stored shape, for a refused save */
  forRender(input: I, stored: T | undefined): T;
  empty(): T;
  render(r: WebRequest, mode: Mode, obj: T, error?: string, status?: number): Promise<FastifyReply>;
}

function capitalized(s: string): string { return s.charAt(0).toUpperCase() + s.slice(1); }

/** The add, edit and delete routes of one kind; a refused save comes back in its form with a 400. */
function registerCrud<T extends { name: string }, I>(w: WebApp, k: Kind<T, I>): void {
  const notFound = (r: WebRequest, name: string) => w.errorPage(r.reply, 404, 'Not found', `${capitalized(k.what)} "${name}" does not exist.`, r.admin, r.page.csrf);
  const list = `/${k.path}s`;
  const save = async (r: WebRequest, mode: Mode, form: Form, existing: T | undefined) => {
    const input = k.fromForm(form, existing?.name);
    try {
      const name = existing ? (await k.update(existing.name, input, r.executor), existing.name) : (await k.add(input, r.executor)).name;
      return w.done(r, list, `${capitalized(k.what)} "${name}" ${mode === 'add' ? 'added' : 'updated'}.`);
    } catch (e) {
      if (isFormError(e)) return k.render(r, mode, k.forRender(input, existing), e.message, 400);
      throw e;
    }
  };
  w.get(`/${k.path}`, PERMS, async (r) => k.render(r, 'add', k.empty()));
  w.post(`/${k.path}`, PERMS, async (r, _p, form) => save(r, 'add', form, undefined));
  w.get<{ name: string }>(`/${k.path}/:name`, PERMS, async (r, p) => {
    const obj = await k.get(p.name);
    return obj ? k.render(r, 'edit', obj) : notFound(r, p.name);
  });
  w.post<{ name: string }>(`/${k.path}/:name`, PERMS, async (r, p, form) => {
    const existing = await k.get(p.name);
    return existing ? save(r, 'edit', form, existing) : notFound(r, p.name);
  });
  w.post<{ name: string }>(`/${k.path}/:name/delete`, PERMS, async (r, p) => {
    try {
      await k.del(p.name, r.executor);
    } catch (e) {
      // still used by rules, or already gone: said on the list
      if (isValidationError(e) || e instanceof FsError) return w.done(r, list, e.message, 'error');
      throw e;
    }
    return w.done(r, list, `${capitalized(k.what)} "${p.name}" deleted.`);
  });
}

export function registerEventPages(w: WebApp): void {
  const { ctx, views } = w;
  const em = ctx.eventManager;
  const formPage = (r: WebRequest, error: string | undefined) => ({ ...r.page, flash: error ? { kind: 'error', text: error } : r.page.flash });

  w.get('/eventactions', PERMS, async (r, _p, query) => {
    const list = paginate<EventAction>(await em.listActions(), query, (a) => `${a.name} ${a.description ?? ''} ${actionTypeName(a.type)}`, {
      name: (a) => a.name, type: (a) => actionTypeName(a.type),
    }, 'name');
    return views.send(r.reply, 'eventactions', r.page, { title: 'Event actions', nav: 'eventactions', list, typeName: actionTypeName });
  });

  registerCrud(w, {
    what: 'event action', path: 'eventaction',
    get: (n) => em.getAction(n), add: (i, by) => em.addAction(i, by), update: (n, i, by) => em.updateAction(n, i, by), del: (n, by) => em.deleteAction(n, by),
    fromForm: actionFromForm, forRender: actionForRender, empty: newAction,
    render: async (r, mode, action, error, status = 200) => views.send(r.reply, 'eventaction', formPage(r, error), {
      title: mode === 'add' ? 'Add event action' : `Edit event action ${action.name}`, nav: 'eventactions', mode, action,
      formAction: mode === 'add' ? '/web/admin/eventaction' : `/web/admin/eventaction/${encodeURIComponent(action.name)}`,
      types: ACTION_TYPE_CHOICES, fsTypes: FS_ACTION_CHOICES, methods: HTTP_METHOD_CHOICES, enabledCommands: ctx.config.common.event_manager.enabled_commands,
    }, status),
  });

  w.get('/eventrules', PERMS, async (r, _p, query) => {
    const list = paginate<EventRule>(await em.listRules(), query, (x) => `${x.name} ${x.description ?? ''} ${x.actions.map((a) => a.name).join(' ')}`, {
      name: (x) => x.name, status: (x) => x.status, trigger: (x) => x.trigger,
    }, 'name');
    return views.send(r.reply, 'eventrules', r.page, {
      title: 'Event rules', nav: 'eventrules', list, triggerName: (t: number) => TRIGGER_NAMES.get(t) ?? `trigger ${t}`, onDemand: TRIGGER.onDemand,
    });
  });

  registerCrud(w, {
    what: 'event rule', path: 'eventrule',
    get: (n) => em.getRule(n), add: (i, by) => em.addRule(i, by), update: (n, i, by) => em.updateRule(n, i, by), del: (n, by) => em.deleteRule(n, by),
    fromForm: ruleFromForm, forRender: (input) => ruleForRender(input), empty: newRule,
    render: async (r, mode, rule, error, status = 200) => {
      const actions = (await em.listActions()).map((a) => ({ name: a.name, type: actionTypeName(a.type) }));
      return views.send(r.reply, 'eventrule', formPage(r, error), {
        title: mode === 'add' ? 'Add event rule' : `Edit event rule ${rule.name}`, nav: 'eventrules', mode, rule, actions,
        formAction: mode === 'add' ? '/web/admin/eventrule' : `/web/admin/eventrule/${encodeURIComponent(rule.name)}`,
        choices: RULE_FORM_CHOICES, patternLists: PATTERN_LISTS,
      }, status);
    },
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
