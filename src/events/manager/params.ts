/**
 * EventParams: what a rule execution knows about the event that fired it,
 * and SFTPGo's placeholders over it ({{.VirtualPath}}, {{.ObjectName}}...,
 * replaced literally, as Go's strings.Replacer; escape mode 1 JSON-escapes
 * string values for bodies, 2 HTML-escapes them for HTML emails).
 */
import path from 'node:path';

export interface EventParams {
  /** the user (or admin/object name for provider events) */
  name: string;
  groups: string[];
  event: string;
  status: number;
  virtualPath: string;
  fsPath: string;
  virtualTargetPath: string;
  fsTargetPath: string;
  objectName: string;
  objectType: string;
  extension: string;
  fileSize: number;
  elapsed: number;
  protocol: string;
  ip: string;
  role: string;
  email: string;
  timestamp: number;
  sessionId: string;
  /** the provider object (secrets removed) as JSON, for {{.ObjectData}} */
  objectData?: string;
  errors: string[];
  /** data retention results, for {{.RetentionReports}} */
  retentionReport?: string;
  /** IDP logins: the string custom fields of the ID token, for {{.IDPField<name>}} */
  idpFields?: Record<string, string>;
}

export function emptyParams(event: string, nowMs: number): EventParams {
  return {
    name: '', groups: [], event, status: 1, virtualPath: '', fsPath: '', virtualTargetPath: '', fsTargetPath: '', objectName: '',
    objectType: '', extension: '', fileSize: 0, elapsed: 0, protocol: '', ip: '', role: '', email: '', timestamp: nowMs,
    sessionId: '', errors: [],
  };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function jsonEscape(s: string): string {
  const j = JSON.stringify(s);
  return j.slice(1, -1);
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** Go's url.QueryEscape: spaces become "+". */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The placeholder → value table (SFTPGo getStringReplacements). */
export function replacements(p: EventParams, escapeMode: 0 | 1 | 2, localTime: boolean): [string, string][] {
  const esc = (v: string): string => (escapeMode === 1 ? jsonEscape(v) : escapeMode === 2 ? htmlEscape(v) : v);
  const d = new Date(p.timestamp);
  const f = localTime
    ? { y: d.getFullYear(), mo: d.getMonth() + 1, da: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds() }
    : { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, da: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
  const dateTime = `${pad(f.y, 4)}-${pad(f.mo)}-${pad(f.da)}T${pad(f.h)}:${pad(f.mi)}:${pad(f.s)}.${pad(d.getUTCMilliseconds(), 3)}`;
  const out: [string, string][] = [
    ['{{.Name}}', esc(p.name)], ['{{.Event}}', p.event], ['{{.Status}}', String(p.status)],
    ['{{.VirtualPath}}', esc(p.virtualPath)], ['{{.EscapedVirtualPath}}', esc(queryEscape(p.virtualPath))],
    ['{{.FsPath}}', esc(p.fsPath)], ['{{.VirtualTargetPath}}', esc(p.virtualTargetPath)], ['{{.FsTargetPath}}', esc(p.fsTargetPath)],
    ['{{.ObjectName}}', esc(p.objectName)], ['{{.ObjectBaseName}}', esc(p.extension ? p.objectName.slice(0, -p.extension.length) : p.objectName)],
    ['{{.ObjectType}}', p.objectType], ['{{.FileSize}}', String(p.fileSize)], ['{{.Elapsed}}', String(p.elapsed)],
    ['{{.Protocol}}', p.protocol], ['{{.IP}}', p.ip], ['{{.Role}}', esc(p.role)], ['{{.Email}}', esc(p.email)],
    ['{{.Timestamp}}', (BigInt(Math.trunc(p.timestamp)) * 1_000_000n).toString()], ['{{.DateTime}}', dateTime],
    ['{{.Year}}', dateTime.slice(0, 4)], ['{{.Month}}', dateTime.slice(5, 7)], ['{{.Day}}', dateTime.slice(8, 10)],
    ['{{.Hour}}', dateTime.slice(11, 13)], ['{{.Minute}}', dateTime.slice(14, 16)],
    ['{{.StatusString}}', p.status === 1 ? 'OK' : 'KO'], ['{{.UID}}', esc(p.sessionId)], ['{{.Ext}}', esc(p.extension)],
  ];
  if (p.virtualPath !== '') out.push(['{{.VirtualDirPath}}', esc(path.posix.dirname(p.virtualPath))]);
  if (p.virtualTargetPath !== '') {
    out.push(['{{.VirtualTargetDirPath}}', esc(path.posix.dirname(p.virtualTargetPath))], ['{{.TargetName}}', esc(path.posix.basename(p.virtualTargetPath))]);
  }
  out.push(['{{.ErrorString}}', esc(p.errors.join(', '))]);
  out.push(['{{.ObjectData}}', p.objectData ?? '{}'], ['{{.ObjectDataString}}', p.objectData ? jsonEscape(p.objectData) : '']);
  out.push(['{{.RetentionReports}}', p.retentionReport ?? ''], ['{{.Metadata}}', '{}'], ['{{.MetadataString}}', '']);
  for (const [k, v] of Object.entries(p.idpFields ?? {})) out.push([`{{.IDPField${k}}}`, esc(v)]);
  return out;
}

/** Go's strings.NewReplacer: one left-to-right pass, the first (earliest listed) match at each position wins. */
export function replacePlaceholders(input: string, table: [string, string][]): string {
  if (!input.includes('{{.')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    const j = input.indexOf('{{.', i);
    if (j < 0) { out += input.slice(i); break; }
    out += input.slice(i, j);
    const hit = table.find(([k]) => input.startsWith(k, j));
    if (hit) { out += hit[1]; i = j + hit[0].length; } else { out += '{{.'; i = j + 3; }
  }
  return out;
}
