/**
 * Reading secrets from the terminal without echo (raw mode), or one line at a
 * time from a pipe (`printf 'pw\npw\n' | sftpgo resetpwd ...`), so scripts and
 * humans both work. Ctrl-C / Ctrl-D at the prompt aborts with an error.
 */
import { createInterface } from 'node:readline';

export interface SecretReader {
  read(prompt: string): Promise<string>;
  close(): void;
}

const MAX_SECRET = 4096;

function ttyReader(input: NodeJS.ReadStream, output: NodeJS.WritableStream): SecretReader {
  // characters typed ahead of a prompt (both passwords at once) wait here for the next read
  let pending = '';
  return {
    read(prompt: string): Promise<string> {
      return new Promise((resolve, reject) => {
        let value = '';
        let done = false;
        const finish = (err?: Error): void => {
          done = true;
          input.off('data', onData);
          // raw mode stays on until close(): a second prompt must not open an echo window
          input.pause();
          output.write('\n');
          if (err) reject(err);
          else resolve(value);
        };
        const consume = (text: string): void => {
          const chars = [...text];
          for (let i = 0; i < chars.length; i++) {
            const ch = chars[i];
            if (ch === '\r' || ch === '\n') {
              // a CRLF pair is one Enter
              const next = ch === '\r' && chars[i + 1] === '\n' ? i + 2 : i + 1;
              pending = chars.slice(next).join('');
              return finish();
            }
            if (ch === '\u0003' || ch === '\u0004') return finish(new Error('aborted'));
            if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
            else if (value.length < MAX_SECRET) value += ch;
          }
        };
        const onData = (chunk: Buffer): void => consume(chunk.toString('utf8'));
        // no echo before the prompt shows: whatever is typed after it stays invisible
        input.setRawMode(true);
        output.write(prompt);
        const early = pending;
        pending = '';
        consume(early);
        if (done) return;
        input.resume();
        input.on('data', onData);
      });
    },
    close(): void {
      if (input.isRaw) input.setRawMode(false);
      input.pause();
    },
  };
}

function pipeReader(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): SecretReader {
  const rl = createInterface({ input, terminal: false });
  const lines: string[] = [];
  const waiting: ((l: string | undefined) => void)[] = [];
  let ended = false;
  rl.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  return {
    async read(prompt: string): Promise<string> {
      output.write(prompt);
      const line = lines.length > 0 ? lines.shift() : ended ? undefined : await new Promise<string | undefined>((r) => waiting.push(r));
      output.write('\n');
      if (line === undefined) throw new Error('no input: end of file at the password prompt');
      return line.replace(/\r$/, '');
    },
    close(): void {
      rl.close();
    },
  };
}

export function secretReader(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stdout): SecretReader {
  return input.isTTY ? ttyReader(input, output) : pipeReader(input, output);
}
