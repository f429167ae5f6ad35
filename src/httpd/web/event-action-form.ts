/**
 * The event action form → SFTPGo's event action JSON. This only reads
 * fields: every rule (required values, ranges, allowed commands) is the
 * event manager's validator, the same one behind /api/v2/eventactions, and
 * its message is shown in the form. Only the chosen type's options are sent.
 */
import { ACTION_TYPE, FS_ACTION, type EventAction, type KeyValue } from '../../dataprovider/event-models';
import { actionTypeName, SUPPORTED_ACTION_TYPES } from '../../events/validate-action';
import type { Form } from './form';
import { REDACTED } from './storage-form';

/** The types the API accepts, as [number, label] for the type select. */
export const ACTION_TYPE_CHOICES: readonly [number, string][] = [...SUPPORTED_ACTION_TYPES].sort((a, b) => a - b).map((t) => [t, actionTypeName(t)]);

export const FS_ACTION_CHOICES: readonly [number, string][] = [
  [FS_ACTION.rename, 'Rename'], [FS_ACTION.delete, 'Delete'], [FS_ACTION.mkdirs, 'Create directories'],
  [FS_ACTION.exist, 'Check existence'], [FS_ACTION.compress, 'Compress paths (zip)'], [FS_ACTION.copy, 'Copy'],
];

export const HTTP_METHOD_CHOICES = ['POST', 'GET', 'PUT', 'DELETE'] as const;

/** What the form posts for an action: SFTPGo's JSON, loosely typed (the validator types it). */
export type ActionInput = Record<string, unknown> & { name: string };

/** One value per line, blank lines dropped. */
function lines(form: Form, name: string): string[] {
  return form.str(name, false).split('\n').map((s) => s.trim()).filter((s) => s !== '');
}

/** Key/value rows `<prefix>_<n>_key` / `_value`; rows with both empty are dropped, half-filled ones reach the validator. */
function keyValues(form: Form, prefix: string): KeyValue[] {
  const out: KeyValue[] = [];
  for (const i of form.rows(prefix, 'key')) {
    const key = form.str(`${prefix}_${i}_key`);
    const value = form.str(`${prefix}_${i}_value`, false);
    if (key !== '' || value !== '') out.push({ key, value });
  }
  return out;
}

/** `Header: value` lines (multipart part headers). */
function headerLines(text: string): KeyValue[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const colon = l.indexOf(':');
    return colon < 0 ? { key: l, value: '' } : { key: l.slice(0, colon).trim(), value: l.slice(colon + 1).trim() };
  });
}

/** Numbers as typed: a bad one reaches the validator, which names the field. */
function num(form: Form, name: string): number | string | undefined {
  const raw = form.str(name);
  if (raw === '') return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

function httpConfig(form: Form): Record<string, unknown> {
  const parts = form.rows('http_part', 'name').map((i) => ({
    name: form.str(`http_part_${i}_name`),
    filepath: form.str(`http_part_${i}_filepath`),
    body: form.str(`http_part_${i}_body`, false),
    headers: headerLines(form.str(`http_part_${i}_headers`, false)),
  })).filter((p) => p.name !== '' || p.filepath !== '' || p.body !== '');
  const typed = form.str('http_password', false);
  // [**redacted**] (or empty): the stored password is kept by the event manager
  const password = typed.trim() !== '' && typed.trim() !== REDACTED ? { status: 'Plain', payload: typed } : undefined;
  return {
    endpoint: form.str('http_endpoint'), username: form.str('http_username'), ...(password ? { password } : {}),
    timeout: num(form, 'http_timeout'), method: form.str('http_method'), skip_tls_verify: form.has('http_skip_tls_verify'),
    headers: keyValues(form, 'http_header'), query_parameters: keyValues(form, 'http_query'),
    body: form.str('http_body', false), parts,
  };
}

function fsConfig(form: Form): Record<string, unknown> {
  const type = num(form, 'fs_type');
  const pairs = (prefix: string, withModtime: boolean): Record<string, unknown>[] => form.rows(prefix, 'key')
    .map((i) => ({
      key: form.str(`${prefix}_${i}_key`), value: form.str(`${prefix}_${i}_value`),
      ...(withModtime && form.has(`${prefix}_${i}_update_modtime`) ? { update_modtime: true } : {}),
    }))
    .filter((kv) => kv.key !== '' || kv.value !== '');
  switch (type) {
    case FS_ACTION.rename: return { type, renames: pairs('fs_rename', true) };
    case FS_ACTION.copy: return { type, copy: pairs('fs_copy', false) };
    case FS_ACTION.delete: return { type, deletes: lines(form, 'fs_deletes') };
    case FS_ACTION.mkdirs: return { type, mkdirs: lines(form, 'fs_mkdirs') };
    case FS_ACTION.exist: return { type, exist: lines(form, 'fs_exist') };
    case FS_ACTION.compress: return { type, compress: { name: form.str('fs_compress_name'), paths: lines(form, 'fs_compress_paths') } };
    default: return { type };
  }
}

/** The posted action; `name` is the stored one when editing. */
export function actionFromForm(form: Form, name?: string): ActionInput {
  const type = num(form, 'type');
  const options: Record<string, unknown> = {};
  switch (type) {
    case ACTION_TYPE.http: options.http_config = httpConfig(form); break;
    case ACTION_TYPE.command:
      options.cmd_config = { cmd: form.str('cmd_path'), args: lines(form, 'cmd_args'), timeout: num(form, 'cmd_timeout'), env_vars: keyValues(form, 'cmd_env') };
      break;
    case ACTION_TYPE.email:
      options.email_config = {
        recipients: form.csv('email_recipients'), bcc: form.csv('email_bcc'), subject: form.str('email_subject'),
        body: form.str('email_body', false), content_type: num(form, 'email_content_type') ?? 0, attachments: lines(form, 'email_attachments'),
      };
      break;
    case ACTION_TYPE.dataRetention:
      options.retention_config = {
        folders: form.rows('ret', 'path').map((i) => ({
          path: form.str(`ret_${i}_path`), retention: num(form, `ret_${i}_hours`) ?? 0, delete_empty_dirs: form.has(`ret_${i}_delete_empty_dirs`),
        })).filter((f) => f.path !== '' || f.retention !== 0),
      };
      break;
    case ACTION_TYPE.filesystem: options.fs_config = fsConfig(form); break;
    case ACTION_TYPE.userInactivity:
      options.user_inactivity_config = { disable_threshold: num(form, 'inactivity_disable') ?? 0, delete_threshold: num(form, 'inactivity_delete') ?? 0 };
      break;
    case ACTION_TYPE.passwordExpiration: options.pwd_expiration_config = { threshold: num(form, 'pwd_expiration_threshold') ?? 0 }; break;
    case ACTION_TYPE.idpAccountCheck:
      options.idp_config = {
        mode: num(form, 'idp_mode') ?? 0, template_user: form.str('idp_template_user', false), template_admin: form.str('idp_template_admin', false),
      };
      break;
    default: break; // backup, quota resets, user expiration check, log rotation: no options
  }
  return { name: name ?? form.str('name'), description: form.str('description'), type, options };
}

/** An empty action for the add form (HTTP, POST, 20 s: SFTPGo's form defaults). */
export function newAction(): EventAction {
  return {
    id: 0, name: '', description: '', type: ACTION_TYPE.http,
    options: {
      http_config: { method: 'POST', timeout: 20 }, cmd_config: { timeout: 20 }, email_config: {}, retention_config: {}, fs_config: { type: FS_ACTION.rename, compress: {} },
      pwd_expiration_config: {}, user_inactivity_config: {}, idp_config: {},
    },
  };
}

/**
 * What the form re-renders after a refused save: the posted values in the
 * stored shape (a typed password is never echoed: the validator saw it).
 */
export function actionForRender(input: ActionInput, stored: EventAction | undefined): EventAction {
  const base = newAction();
  const raw = (input.options ?? {}) as Record<string, unknown>;
  const pick = <K extends keyof EventAction['options']>(k: K): EventAction['options'][K] => (raw[k] ?? base.options[k]) as EventAction['options'][K];
  const http = { ...(pick('http_config') as Record<string, unknown>) };
  delete http.password;
  const storedPw = stored?.options.http_config.password;
  return {
    ...base, name: input.name, description: typeof input.description === 'string' ? input.description : '',
    type: typeof input.type === 'number' ? input.type : base.type,
    options: {
      ...base.options, http_config: { ...http, ...(storedPw ? { password: storedPw } : {}) }, cmd_config: pick('cmd_config'), email_config: pick('email_config'),
      retention_config: pick('retention_config'), fs_config: pick('fs_config'), user_inactivity_config: pick('user_inactivity_config'),
      pwd_expiration_config: pick('pwd_expiration_config'), idp_config: pick('idp_config'),
    },
  };
}
