/**
 * The events row: many small-file uploads over one OpenSSH sftp session to
 * our server as is, and to a second instance with an asynchronous `upload`
 * action posting every upload to an HTTP receiver in the bench process.
 * The goal (issue 13) is to stay within 10 % of the run without actions; the
 * row also checks that every upload was really posted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ratioRow, sshArgs, type Row } from './rows';
import type { Endpoint, Ours } from './servers';
import { median, timed } from './util';

const FILES = Number(process.env.BENCH_EVENT_FILES ?? 300);
const FILE_SIZE = 4096;

export async function eventsRow(
  plain: Endpoint, start: (env: Record<string, string>) => Promise<Ours>, key: string, dir: string, rounds: number,
): Promise<Row> {
  let posted = 0;
  let waiter: (() => void) | undefined;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posted++;
      res.end();
      if (waiter && posted >= FILES * rounds) waiter();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  try {
    const withActions = (await start({
      SFTPGO_COMMON__ACTIONS__EXECUTE_ON: 'upload', SFTPGO_COMMON__ACTIONS__HOOK: `http://127.0.0.1:${port}/upload`,
    })).sftp;
    const src = join(dir, 'event-files');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < FILES; i++) writeFileSync(join(src, `f${i}.bin`), Buffer.alloc(FILE_SIZE, i % 256));
    const rate = new Map<string, number[]>([['plain', []], ['actions', []]]);
    for (let r = 0; r < rounds; r++) {
      const order: [string, Endpoint][] = r % 2 === 0 ? [['plain', plain], ['actions', withActions]] : [['actions', withActions], ['plain', plain]];
      for (const [name, ep] of order) {
        const batch = [`-mkdir ev${r}`, ...Array.from({ length: FILES }, (_, i) => `put ${join(src, `f${i}.bin`)} ev${r}/f${i}.bin`)].join('\n') + '\n';
        const ms = await timed('sftp', [...sshArgs(ep, key), '-b', '-', `${ep.user}@127.0.0.1`], { input: batch });
        rate.get(name)?.push(FILES / (ms / 1000));
      }
    }
    // every upload is posted (asynchronously: wait, bounded)
    if (posted < FILES * rounds) {
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 60_000).unref();
      });
    }
    if (posted < FILES * rounds) throw new Error(`events row: ${posted} of ${FILES * rounds} uploads were posted`);
    const row = ratioRow(`SFTP ${FILES} x 4 KiB uploads, async upload HTTP action, files/s`,
      median(rate.get('actions') ?? []), median(rate.get('plain') ?? []), 'no actions', 0.9);
    return row;
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
