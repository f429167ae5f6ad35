/**
 * Where a JSON text first goes wrong. Node's JSON.parse message often gives
 * no position ("Unexpected token '}', ... is not valid JSON"), and an admin
 * needs a line and column to fix a hand-edited sftpgo.json. Called only after
 * JSON.parse has failed, so speed does not matter; depth is bounded.
 */

export interface TextPosition { line: number; column: number; what: string }

class Locator {
  pos = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    while (/[ \t\r\n]/.test(this.s[this.pos] ?? '')) this.pos++;
  }

  private stop(what: string): never {
    throw new LocatedError(what, this.pos);
  }

  value(depth: number): void {
    if (depth > 512) this.stop('nested too deeply');
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') return this.container('}', depth, true);
    if (c === '[') return this.container(']', depth, false);
    if (c === '"') return this.string();
    const lit = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!lit) this.stop(c === undefined ? 'unexpected end of file' : `unexpected ${JSON.stringify(c)}`);
    this.pos += lit[0].length;
  }

  private container(close: string, depth: number, isObject: boolean): void {
    this.pos++;
    this.ws();
    if (this.s[this.pos] === close) {
      this.pos++;
      return;
    }
    for (;;) {
      if (isObject) {
        this.ws();
        if (this.s[this.pos] !== '"') this.stop('expected a quoted key');
        this.string();
        this.ws();
        if (this.s[this.pos] !== ':') this.stop('expected ":"');
        this.pos++;
      }
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === close) {
        this.pos++;
        return;
      }
      this.stop(c === undefined ? `unexpected end of file, expected "${close}"` : `expected "," or "${close}"`);
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) this.stop('unterminated string');
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c < ' ') this.stop('control character in string');
      this.pos += c === '\\' ? 2 : 1;
    }
  }

  document(): void {
    this.value(0);
    this.ws();
    if (this.pos < this.s.length) this.stop('unexpected text after the end of the document');
  }
}

class LocatedError extends Error {
  constructor(readonly what: string, readonly offset: number) {
    super(what);
  }
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** The first syntax problem of a JSON text, or undefined when the locator finds none. */
export function locateJsonError(text: string): TextPosition | undefined {
  try {
    new Locator(text).document();
    return undefined;
  } catch (err) {
    if (!(err instanceof LocatedError)) throw err;
    return { ...lineColumnAt(text, err.offset), what: err.what };
  }
}
