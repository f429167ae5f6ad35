/**
 * The two "flat" config formats viper reads for SFTPGo: Java properties
 * (`sftpgo.properties`/`.props`/`.prop`) and dotenv (`sftpgo.env`/`.dotenv`).
 * Both give dotted keys (`sftpd.max_auth_tries = 3`, case-insensitive) with
 * string values; the loader converts each value by the schema, as for
 * SFTPGO_ env vars. A numeric segment indexes a list of structs
 * (`sftpd.bindings.0.port`), the same rule as `SFTPGO_SFTPD__BINDINGS__0__PORT`.
 */
import { parseEnvFile } from '../env';

export interface FlatLine { key: string; value: string; line: number }

export class FlatSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
    this.name = 'FlatSyntaxError';
  }
}

const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

/** Joins continuation lines (odd number of trailing backslashes), remembering where each logical line starts. */
function logicalLines(text: string): { text: string; line: number }[] {
  const physical = text.split(/\r\n|\r|\n/);
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < physical.length; i++) {
    const start = i + 1;
    let cur = physical[i].replace(/^[ \t\f]+/, '');
    if (cur === '' || cur.startsWith('#') || cur.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(cur) && i + 1 < physical.length) {
      cur = cur.slice(0, -1) + physical[++i].replace(/^[ \t\f]+/, '');
    }
    out.push({ text: cur, line: start });
  }
  return out;
}

function unescape(s: string, line: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined) break;
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new FlatSyntaxError(`invalid unicode escape "\\u${hex}"`, line);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += ESCAPES[e] ?? e;
    }
  }
  return out;
}

/** Java properties: `key=value`, `key: value` or `key value`; `#`/`!` comments; `\` continuations and escapes. */
export function parseProperties(text: string): FlatLine[] {
  const out: FlatLine[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    let i = 0;
    while (i < l.length && !'=: \t\f'.includes(l[i])) i += l[i] === '\\' ? 2 : 1;
    const key = unescape(l.slice(0, i), line);
    while (i < l.length && ' \t\f'.includes(l[i])) i++;
    if (l[i] === '=' || l[i] === ':') i++;
    while (i < l.length && ' \t\f'.includes(l[i])) i++;
    if (key === '') throw new FlatSyntaxError('empty key', line);
    out.push({ key, value: unescape(l.slice(i), line), line });
  }
  return out;
}

/** dotenv: `KEY=value` lines, `export `, quotes and `#` comments (the rules of env.d files). */
export function parseDotenv(text: string): FlatLine[] {
  const out: FlatLine[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const parsed = Object.entries(parseEnvFile(t));
    if (parsed.length === 0) throw new FlatSyntaxError('expected KEY=value', idx + 1);
    for (const [key, value] of parsed) out.push({ key, value, line: idx + 1 });
  });
  return out;
}
