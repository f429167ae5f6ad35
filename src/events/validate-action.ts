/**
 * Validation of event actions (SFTPGo BaseEventAction.validate): untrusted
 * JSON in, a normalized EventAction out, or a ValidationError (HTTP 400)
 * naming the field. Action types this server does not run are refused by
 * name, so a rule never stores something that would silently do nothing.
 */
import path from 'node:path';
import { ACTION_TYPE, FS_ACTION, type EventAction, type EventActionOptions, type FsActionConfig, type HttpActionConfig, type KeyValue } from '../dataprovider/event-models';
import {
  asObj, isObj, optBool, optInt, optObj, optString, optStringArray, ValidationError, type Obj,
} from '../dataprovider/validation-core';

/** The action types this server executes. */
export const SUPPORTED_ACTION_TYPES: ReadonlySet<number> = new Set([
  ACTION_TYPE.http, ACTION_TYPE.command, ACTION_TYPE.email, ACTION_TYPE.dataRetention, ACTION_TYPE.filesystem,
  ACTION_TYPE.backup, ACTION_TYPE.transferQuotaReset, ACTION_TYPE.rotateLogs, ACTION_TYPE.userInactivity,
  ACTION_TYPE.userQuotaReset, ACTION_TYPE.folderQuotaReset, ACTION_TYPE.passwordExpiration, ACTION_TYPE.userExpiration,
  ACTION_TYPE.idpAccountCheck,
]);

const ACTION_TYPE_NAMES: Record<number, string> = {
  1: 'HTTP', 2: 'Command', 3: 'Email', 4: 'Backup', 5: 'User quota reset', 6: 'Folder quota reset', 7: 'Transfer quota reset',
  8: 'Data retention check', 9: 'Filesystem', 11: 'Password expiration check', 12: 'User expiration check',
  13: 'Identity Provider account check', 14: 'User inactivity check', 15: 'Rotate log file',
};

export function actionTypeName(t: number): string { return ACTION_TYPE_NAMES[t] ?? `type ${t}`; }

const NAME_RE = /^[a-zA-Z0-9\-_.~]+$/;
const HTTP_METHODS = ['POST', 'GET', 'PUT', 'DELETE'];

/** SFTPGo util.CleanPath: always absolute, cleaned (placeholders are kept as text). */
export function cleanVpath(p: string): string {
  if (p.includes('\0')) throw new ValidationError('paths cannot contain NUL bytes');
  const cleaned = path.posix.normalize(`/${p.replace(/\\/g, '/')}`);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

export function validateName(o: Obj, what: string): string {
  const name = (optString(o, 'name') ?? '').trim();
  if (name === '') throw new ValidationError(`${what} name is mandatory`);
  if (!NAME_RE.test(name)) throw new ValidationError(`name "${name}" is not valid, the following characters are allowed: a-zA-Z0-9-_.~`);
  return name;
}

function keyValues(o: Obj, key: string, field: string): KeyValue[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError(`${field} must be an array`);
  return v.map((x, i) => {
    const kv = asObj(x, `${field}[${i}]`);
    const k = optString(kv, 'key', `${field}[${i}].key`) ?? '';
    const val = optString(kv, 'value', `${field}[${i}].value`) ?? '';
    if (k === '' || val === '') throw new ValidationError(`invalid ${field}: key and value are required`);
    return { key: k, value: val };
  });
}

function validateHttp(o: Obj): HttpActionConfig {
  const endpoint = (optString(o, 'endpoint', 'http_config.endpoint') ?? '').trim();
  if (endpoint === '') throw new ValidationError('HTTP endpoint is required');
  if (!/^https?:\/\/[^/?#]+/i.test(endpoint)) throw new ValidationError(`invalid HTTP endpoint schema: http and https are supported`);
  const timeout = optInt(o, 'timeout', 1, 180, 'http_config.timeout');
  if (timeout === undefined) throw new ValidationError('invalid HTTP timeout 0');
  const method = optString(o, 'method', 'http_config.method') ?? '';
  if (!HTTP_METHODS.includes(method)) throw new ValidationError(`unsupported HTTP method: ${method}`);
  const parts = (Array.isArray(o.parts) ? o.parts : []).map((x, i) => {
    const p = asObj(x, `http_config.parts[${i}]`);
    const name = optString(p, 'name', `parts[${i}].name`) ?? '';
    const filepath = optString(p, 'filepath', `parts[${i}].filepath`) ?? '';
    const body = optString(p, 'body', `parts[${i}].body`) ?? '';
    if (name === '') throw new ValidationError('HTTP part name is required');
    if ((filepath === '') === (body === '')) throw new ValidationError(`HTTP part "${name}": either a file path or a body is required`);
    return { name, ...(filepath ? { filepath: cleanVpath(filepath) } : { body }), headers: keyValues(p, 'headers', `parts[${i}].headers`) };
  });
  const body = optString(o, 'body', 'http_config.body') ?? '';
  if (parts.length > 0 && body !== '') throw new ValidationError('multipart requests require no body, the parts are the body');
  const password = optObj(o, 'password', 'http_config.password');
  return {
    endpoint, username: optString(o, 'username') ?? '', timeout, method, skip_tls_verify: optBool(o, 'skip_tls_verify') ?? false,
    headers: keyValues(o, 'headers', 'http_config.headers'), query_parameters: keyValues(o, 'query_parameters', 'http_config.query_parameters'),
    body, parts,
    ...(password && (optString(password, 'payload') ?? '') !== '' ? { password: { status: optString(password, 'status') ?? 'Plain', payload: optString(password, 'payload') ?? '', key: optString(password, 'key') ?? '', additional_data: optString(password, 'additional_data') ?? '' } } : {}),
  };
}

function validateCommand(o: Obj, enabledCommands: readonly string[]): EventActionOptions['cmd_config'] {
  const cmd = optString(o, 'cmd', 'cmd_config.cmd') ?? '';
  if (cmd === '' || !path.isAbsolute(cmd)) throw new ValidationError('command must be an absolute path');
  if (!enabledCommands.includes(cmd)) throw new ValidationError(`command "${cmd}" is not allowed (common.event_manager.enabled_commands)`);
  const timeout = optInt(o, 'timeout', 1, 120, 'cmd_config.timeout');
  if (timeout === undefined) throw new ValidationError('invalid command action timeout 0');
  const envVars = keyValues(o, 'env_vars', 'cmd_config.env_vars');
  for (const kv of envVars) {
    if (kv.value === '$' && kv.key.toUpperCase().startsWith('SFTPGO_')) throw new ValidationError(`the value of env var "${kv.key}" cannot be copied from the server`);
  }
  return { cmd, args: optStringArray(o, 'args', 'cmd_config.args') ?? [], timeout, env_vars: envVars };
}

function validateEmail(o: Obj): EventActionOptions['email_config'] {
  const recipients = (optStringArray(o, 'recipients', 'email_config.recipients') ?? []).map((r) => r.trim()).filter((r) => r !== '');
  if (recipients.length === 0) throw new ValidationError('at least one email recipient is required');
  const subject = optString(o, 'subject', 'email_config.subject') ?? '';
  const body = optString(o, 'body', 'email_config.body') ?? '';
  if (subject === '') throw new ValidationError('email subject is required');
  if (body === '') throw new ValidationError('email body is required');
  const contentType = optInt(o, 'content_type', 0, 1, 'email_config.content_type') ?? 0;
  const attachments = [...new Set((optStringArray(o, 'attachments', 'email_config.attachments') ?? []).map((a) => a.trim()).filter((a) => a !== '').map(cleanVpath))];
  return { recipients, bcc: (optStringArray(o, 'bcc') ?? []).filter((b) => b.trim() !== ''), subject, body, attachments, content_type: contentType };
}

function validateRetention(o: Obj): EventActionOptions['retention_config'] {
  const raw = Array.isArray(o.folders) ? o.folders : [];
  const seen = new Set<string>();
  let something = false;
  const folders = raw.map((x, i) => {
    const f = asObj(x, `retention_config.folders[${i}]`);
    const p = cleanVpath(optString(f, 'path', `folders[${i}].path`) ?? '');
    const retention = optInt(f, 'retention', 0, Number.MAX_SAFE_INTEGER, `folders[${i}].retention`) ?? 0;
    if (seen.has(p)) throw new ValidationError(`duplicated folder path "${p}"`);
    seen.add(p);
    if (retention > 0) something = true;
    return { path: p, retention, delete_empty_dirs: optBool(f, 'delete_empty_dirs') ?? false };
  });
  if (!something) throw new ValidationError('nothing to delete!');
  return { folders };
}

function pathList(o: Obj, key: string, what: string): string[] {
  const list = (optStringArray(o, key, `fs_config.${key}`) ?? []).map((p) => p.trim()).filter((p) => p !== '').map(cleanVpath);
  if (list.length === 0) throw new ValidationError(`no path to ${what} specified`);
  if (list.includes('/')) throw new ValidationError(`${what}: the root directory is not allowed`);
  return [...new Set(list)];
}

function pairs(o: Obj, key: string, what: string): KeyValue[] {
  const list = keyValues(o, key, `fs_config.${key}`).map((kv) => ({ key: cleanVpath(kv.key), value: cleanVpath(kv.value) }));
  if (list.length === 0) throw new ValidationError(`no path to ${what} specified`);
  for (const kv of list) {
    if (kv.key === '/' || kv.value === '/') throw new ValidationError(`${what}: the root directory is not allowed`);
    if (kv.key === kv.value) throw new ValidationError(`${what} source and target cannot be equal`);
  }
  return list;
}

function validateFs(o: Obj): FsActionConfig {
  const type = optInt(o, 'type', 1, 6, 'fs_config.type');
  const compress = { name: '', paths: [] as string[] };
  switch (type) {
    case FS_ACTION.rename: {
      const raw = Array.isArray(o.renames) ? o.renames : [];
      // update_modtime: SFTPGo's option to touch the renamed file
      const renames = pairs(o, 'renames', 'rename').map((kv, i) => (isObj(raw[i]) && raw[i].update_modtime === true ? { ...kv, update_modtime: true } : kv));
      return { type, renames, compress };
    }
    case FS_ACTION.delete: return { type, deletes: pathList(o, 'deletes', 'delete'), compress };
    case FS_ACTION.mkdirs: return { type, mkdirs: pathList(o, 'mkdirs', 'create'), compress };
    case FS_ACTION.exist: return { type, exist: pathList(o, 'exist', 'check for existence'), compress };
    case FS_ACTION.copy: return { type, copy: pairs(o, 'copy', 'copy'), compress };
    case FS_ACTION.compress: {
      const c = optObj(o, 'compress', 'fs_config.compress') ?? {};
      const name = cleanVpath((optString(c, 'name') ?? '').trim());
      if (name === '/') throw new ValidationError('archive name is mandatory');
      return { type, compress: { name, paths: pathList(c, 'paths', 'compress') } };
    }
    default: throw new ValidationError(`unsupported filesystem action type: ${type ?? 0}`);
  }
}

function validateInactivity(o: Obj): EventActionOptions['user_inactivity_config'] {
  const disable = Math.max(0, optInt(o, 'disable_threshold', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'disable_threshold') ?? 0);
  const del = Math.max(0, optInt(o, 'delete_threshold', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'delete_threshold') ?? 0);
  if (disable === 0 && del === 0) throw new ValidationError('at least a threshold must be defined');
  if (disable > 0 && del > 0 && del <= disable) throw new ValidationError(`deletion threshold ${del} must be greater than deactivation threshold: ${disable}`);
  return { disable_threshold: disable, delete_threshold: del };
}

const EMPTY_OPTIONS: EventActionOptions = {
  http_config: {}, cmd_config: {}, email_config: {}, retention_config: {}, fs_config: { compress: {} },
  pwd_expiration_config: {}, user_inactivity_config: {}, idp_config: {},
};

/** Validates an action; only the options of its type are kept (as SFTPGo). */
export function validateEventAction(input: unknown, enabledCommands: readonly string[]): Omit<EventAction, 'id'> {
  const o = asObj(input, 'event action');
  const name = validateName(o, 'event action');
  const type = optInt(o, 'type', 0, 100, 'type') ?? 0;
  if (!SUPPORTED_ACTION_TYPES.has(type)) {
    if (ACTION_TYPE_NAMES[type]) throw new ValidationError(`event action type ${type} (${actionTypeName(type)}) is not supported by this server`);
    throw new ValidationError(`unsupported action type: ${type}`);
  }
  const opts = isObj(o.options) ? o.options : {};
  const sub = (k: string): Obj => (isObj(opts[k]) ? opts[k] : {});
  const options: EventActionOptions = { ...EMPTY_OPTIONS, fs_config: { compress: {} } };
  switch (type) {
    case ACTION_TYPE.http: options.http_config = validateHttp(sub('http_config')); break;
    case ACTION_TYPE.command: options.cmd_config = validateCommand(sub('cmd_config'), enabledCommands); break;
    case ACTION_TYPE.email: options.email_config = validateEmail(sub('email_config')); break;
    case ACTION_TYPE.dataRetention: options.retention_config = validateRetention(sub('retention_config')); break;
    case ACTION_TYPE.filesystem: options.fs_config = validateFs(sub('fs_config')); break;
    case ACTION_TYPE.userInactivity: options.user_inactivity_config = validateInactivity(sub('user_inactivity_config')); break;
    case ACTION_TYPE.passwordExpiration: {
      const threshold = optInt(sub('pwd_expiration_config'), 'threshold', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'pwd_expiration_config.threshold') ?? 0;
      if (threshold <= 0) throw new ValidationError('threshold must be greater than 0');
      options.pwd_expiration_config = { threshold };
      break;
    }
    case ACTION_TYPE.idpAccountCheck: {
      const c = sub('idp_config');
      const mode = optInt(c, 'mode', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'idp_config.mode') ?? 0;
      if (mode < 0 || mode > 1) throw new ValidationError(`invalid account check mode: ${mode}`);
      const templateUser = optString(c, 'template_user', 'idp_config.template_user') ?? '';
      const templateAdmin = optString(c, 'template_admin', 'idp_config.template_admin') ?? '';
      if (templateUser === '' && templateAdmin === '') throw new ValidationError('at least a template must be set');
      options.idp_config = { mode, template_user: templateUser, template_admin: templateAdmin };
      break;
    }
    default: break; // backup, quota resets, rotate logs, user expiration check: no options
  }
  return { name, description: optString(o, 'description') ?? '', type, options };
}
