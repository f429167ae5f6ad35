/**
 * Splits an SSH `exec` command line into words the way a POSIX shell would
 * for plain words and quoting (OpenSSH's scp quotes paths with spaces), with
 * no expansion of any kind: `$`, globs and `~` stay literal, so nothing the
 * client sends is ever interpreted.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
      continue;
    }
    inWord = true;
    if (c === '\'') {
      const end = line.indexOf('\'', i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i]!;
        if (d === '"') { closed = true; i++; break; }
        // inside double quotes a backslash only escapes these characters
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1]!)) { cur += line[i + 1]; i += 2; continue; }
        cur += d;
        i++;
      }
      if (!closed) throw new Error('unterminated double quote');
    } else if (c === '\\') {
      if (i + 1 < n) cur += line[i + 1];
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
