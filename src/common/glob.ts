/**
 * Go's path.Match semantics ("*" and "?" never match "/", "[...]" classes
 * with "^" negation, "\\" escapes), used for permission paths and file
 * patterns exactly as SFTPGo does. A malformed pattern yields undefined.
 */
function escapeRe(c: string, inClass = false): string {
  if (inClass && c === '-') return '\\-';
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? '\\' + c : c;
}

function compile(pattern: string): RegExp | null {
  let re = '^';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '*') { re += '[^/]*'; i++; continue; }
    if (c === '?') { re += '[^/]'; i++; continue; }
    if (c === '\\') {
      if (i + 1 >= pattern.length) return null;
      re += escapeRe(pattern[i + 1] as string); i += 2; continue;
    }
    if (c === '[') {
      i++;
      let cls = '[';
      if (pattern[i] === '^') { cls += '^'; i++; }
      let n = 0;
      for (;;) {
        if (i >= pattern.length) return null;
        let ch = pattern[i] as string;
        if (ch === ']' && n > 0) { i++; break; }
        if (ch === '\\') { i++; if (i >= pattern.length) return null; ch = pattern[i] as string; }
        i++;
        cls += escapeRe(ch, true);
        if (pattern[i] === '-' && pattern[i + 1] !== undefined && pattern[i + 1] !== ']') {
          let hi = pattern[i + 1] as string;
          i += 2;
          if (hi === '\\') { if (i >= pattern.length) return null; hi = pattern[i] as string; i++; }
          if (hi < ch) return null;
          cls += '-' + escapeRe(hi, true);
        }
        n++;
      }
      // a class never matches the separator, as in Go
      re += `(?!/)${cls}]`;
      continue;
    }
    re += escapeRe(c);
    i++;
  }
  try { return new RegExp(re + '$', 'su'); } catch { return null; }
}

/** true/false, or undefined when the pattern is malformed (Go's ErrBadPattern). */
export function globMatch(pattern: string, name: string): boolean | undefined {
  // no cache on purpose: patterns are short and module state is banned
  const re = compile(pattern);
  return re === null ? undefined : re.test(name);
}
