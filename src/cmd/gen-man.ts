/**
 * `sftpgo gen man [-d dir]`: one roff man page per command (section 1, as
 * SFTPGo's cobra generator names them: sftpgo.1, sftpgo-serve.1,
 * sftpgo-gen-man.1 ...), written from the command table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandTable, FlagSpec } from './args';
import { GEN_SUBCOMMANDS } from './gen-completion';

interface Page {
  /** command words after "sftpgo" */
  words: string[];
  summary: string;
  flags: FlagSpec[];
  children: string[];
}

/** roff text: backslashes and dashes escaped, non-ASCII as \[uXXXX], a leading dot or quote neutralised. */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${(c.codePointAt(0) ?? 0x3f).toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function pageName(words: string[]): string {
  return ['sftpgo', ...words].join('-');
}

function flagDefault(f: FlagSpec): string {
  if (f.type === 'bool') return f.default === true ? 'true' : '';
  if (Array.isArray(f.default)) return f.default.length > 0 ? f.default.join(',') : '';
  return String(f.default) === '' ? '' : String(f.default);
}

function renderFlag(f: FlagSpec): string {
  const names = [...(f.short ? [`\\fB\\-${roff(f.short)}\\fP`] : []), `\\fB\\-\\-${roff(f.name)}\\fP`].join(', ');
  const value = f.type === 'bool' ? '' : `=\\fI${f.type === 'int' ? 'int' : 'string'}\\fP`;
  const extras: string[] = [];
  const d = flagDefault(f);
  if (d !== '') extras.push(`default ${d}`);
  if (f.env) extras.push(`env ${f.env}`);
  if (f.type === 'list') extras.push('repeatable');
  const tail = extras.length > 0 ? ` (${extras.join(', ')})` : '';
  return `.TP\n${names}${value}\n${roff(f.help + tail)}`;
}

function render(p: Page, header: { date: string; source: string }): string {
  const name = pageName(p.words);
  const lines = [
    `.TH "${name.toUpperCase()}" "1" "${header.date}" "${roff(header.source)}" "SFTPGo Manual"`,
    '.nh',
    '.ad l',
    '.SH NAME',
    `${roff(name)} \\- ${roff(p.summary)}`,
    '.SH SYNOPSIS',
    `\\fB${roff(['sftpgo', ...p.words].join(' '))}\\fP ${p.children.length > 0 ? '[command]' : '[flags]'}`,
    '.SH DESCRIPTION',
    roff(p.summary),
  ];
  if (p.flags.length > 0) {
    lines.push('.SH OPTIONS');
    for (const f of p.flags) lines.push(renderFlag(f));
  }
  lines.push('.TP', '\\fB\\-h\\fP, \\fB\\-\\-help\\fP', 'help for this command');
  const seeAlso = [
    ...(p.words.length > 0 ? [pageName(p.words.slice(0, -1))] : []),
    ...p.children.map((c) => pageName([...p.words, c])),
  ];
  if (seeAlso.length > 0) {
    lines.push('.SH SEE ALSO', seeAlso.map((s) => `\\fB${roff(s)}(1)\\fP`).join(', '));
  }
  return `${lines.join('\n')}\n`;
}

export function manPages(commands: CommandTable, header: { date: string; source: string }): Map<string, string> {
  const pages: Page[] = [
    { words: [], summary: 'SFTP, FTP/S and WebDAV server (SFTPGo compatible)', flags: [], children: [...Object.keys(commands), 'gen'] },
    ...Object.entries(commands).map(([name, c]) => ({ words: [name], summary: c.summary, flags: c.flags, children: [] })),
    { words: ['gen'], summary: 'Generate shell completion scripts and man pages', flags: [], children: Object.keys(GEN_SUBCOMMANDS) },
    ...Object.entries(GEN_SUBCOMMANDS).map(([name, c]) => ({ words: ['gen', name], summary: c.summary, flags: c.flags, children: [] })),
  ];
  return new Map(pages.map((p) => [`${pageName(p.words)}.1`, render(p, header)]));
}

/** Writes every page into `dir` (created when missing); returns the file names written. */
export function writeManPages(dir: string, commands: CommandTable, header: { date: string; source: string }): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of manPages(commands, header)) {
    fs.writeFileSync(path.join(dir, file), text);
    written.push(file);
  }
  return written;
}
