/**
 * A parser for the HCL that SFTPGo (viper, HashiCorp HCL v1) reads as
 * `sftpgo.hcl`: attributes `key = value` (or `key: value`), blocks
 * `key { ... }` and `key "label" { ... }`, strings with escapes, heredocs,
 * numbers, booleans, lists and inline objects, `#`, `//` and block comments.
 * Configuration only: no expressions or functions; `${...}` stays literal as
 * in HCL v1.
 *
 * Why our own: the hcl2-parser package (HCL2 compiled with GopherJS) turns a
 * bare reference `port = x` into the string "${x}" and reports errors as an
 * empty object, so a typo could neither be located nor refused.
 *
 * As in HCL v1, every block becomes a list of objects (`sftpd { }` →
 * `sftpd: [{...}]`, repeated blocks append); the loader folds lists into
 * sections by the schema (../formats/index.ts).
 */

export type HclValue = string | number | boolean | null | HclValue[] | HclObject;
export interface HclObject { [key: string]: HclValue }

export class HclSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = 'HclSyntaxError';
  }
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.-]/;
const MAX_DEPTH = 64;

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parseFile(): HclObject {
    const body = this.parseBody(0, false);
    return body;
  }

  private fail(msg: string, at = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.src.length; i++) {
      if (this.src[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    throw new HclSyntaxError(msg, line, at - lineStart + 1);
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  /** Skips blanks and comments; newlines too unless `stopAtNewline`. */
  private skip(stopAtNewline = false): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !stopAtNewline)) {
        this.pos++;
      } else if (c === '#' || (c === '/' && this.src[this.pos + 1] === '/')) {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  /** Items until `}` (nested) or the end of input (top level). */
  private parseBody(depth: number, nested: boolean): HclObject {
    if (depth > MAX_DEPTH) this.fail('blocks nested too deeply');
    const out: HclObject = {};
    for (;;) {
      this.skip();
      const c = this.peek();
      if (c === '') {
        if (nested) this.fail('unexpected end of file: missing "}"');
        return out;
      }
      if (c === '}') {
        if (!nested) this.fail('unexpected "}"');
        this.pos++;
        return out;
      }
      if (c === ',' && nested) {
        this.pos++;
        continue;
      }
      this.parseItem(out, depth);
    }
  }

  private parseItem(out: HclObject, depth: number): void {
    const keyAt = this.pos;
    const key = this.parseKey();
    this.skip(true);
    const c = this.peek();
    if (c === '=' || c === ':') {
      this.pos++;
      this.skip(true);
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`duplicate key "${key}"`, keyAt);
      out[key] = this.parseValue(depth + 1);
      return;
    }
    const labels: string[] = [];
    while (this.peek() === '"' || IDENT_START.test(this.peek())) {
      labels.push(this.parseKey());
      this.skip(true);
    }
    if (this.peek() !== '{') this.fail(`expected "=" or "{" after "${key}"`);
    this.pos++;
    let block: HclValue = this.parseBody(depth + 1, true);
    // `a "b" { }` nests as a = [{ b = [{ ... }] }], the HCL v1 shape
    for (let i = labels.length - 1; i >= 0; i--) block = { [labels[i]]: [block] };
    const prev = out[key];
    if (prev === undefined) out[key] = [block];
    else if (Array.isArray(prev)) prev.push(block);
    else this.fail(`"${key}" is both an attribute and a block`, keyAt);
  }

  private parseKey(): string {
    const c = this.peek();
    if (c === '"') return this.parseString();
    if (!IDENT_START.test(c)) this.fail(c === '' ? 'unexpected end of file: expected a key' : `expected a key, found "${c}"`);
    const start = this.pos;
    while (IDENT_PART.test(this.peek())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private parseValue(depth: number): HclValue {
    if (depth > MAX_DEPTH) this.fail('values nested too deeply');
    const c = this.peek();
    if (c === '"') return this.parseString();
    if (c === '<' && this.src.startsWith('<<', this.pos)) return this.parseHeredoc();
    if (c === '[') return this.parseList(depth);
    if (c === '{') {
      this.pos++;
      return this.parseBody(depth, true);
    }
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
    if (IDENT_START.test(c)) {
      const start = this.pos;
      while (IDENT_PART.test(this.peek())) this.pos++;
      const word = this.src.slice(start, this.pos);
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      this.fail(`expected a value, found "${word}" (strings need double quotes)`, start);
    }
    this.fail(c === '' || c === '\n' ? 'expected a value' : `expected a value, found "${c}"`);
  }

  private parseList(depth: number): HclValue[] {
    this.pos++;
    const out: HclValue[] = [];
    for (;;) {
      this.skip();
      if (this.peek() === ']') {
        this.pos++;
        return out;
      }
      out.push(this.parseValue(depth + 1));
      this.skip();
      const c = this.peek();
      if (c === ',') this.pos++;
      else if (c !== ']') this.fail(c === '' ? 'unexpected end of file: missing "]"' : `expected "," or "]", found "${c}"`);
    }
  }

  private parseNumber(): number {
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    if (IDENT_PART.test(this.peek())) this.fail(`invalid number "${m[0]}${this.peek()}"`);
    return Number(m[0]);
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated string', start);
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.src[this.pos++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e];
      } else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) this.fail('invalid unicode escape', this.pos - 2);
        out += String.fromCodePoint(parseInt(hex, 16));
        this.pos += len;
      } else {
        this.fail(`invalid escape "\\${e ?? ''}"`, this.pos - 2);
      }
    }
  }

  private parseHeredoc(): string {
    const start = this.pos;
    const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(this.src.slice(this.pos, this.pos + 256));
    if (!m) this.fail('invalid heredoc: expected <<MARKER and a newline');
    this.pos += m[0].length;
    const lines: string[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`unterminated heredoc, missing ${m[2]}`, start);
      let end = this.src.indexOf('\n', this.pos);
      if (end < 0) end = this.src.length;
      const line = this.src.slice(this.pos, end).replace(/\r$/, '');
      this.pos = Math.min(end + 1, this.src.length);
      if (line.trim() === m[2]) break;
      lines.push(line);
    }
    if (m[1] === '-') {
      const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
      const cut = indents.length > 0 ? Math.min(...indents) : 0;
      return lines.map((l) => l.slice(cut)).join('\n') + '\n';
    }
    return lines.join('\n') + '\n';
  }
}

/** Parses HCL text; throws HclSyntaxError with the 1-based line and column of the problem. */
export function parseHcl(text: string): HclObject {
  return new Parser(text).parseFile();
}
