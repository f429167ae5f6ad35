/**
 * The events row: many small-file uploads over one OpenSSH sftp session to
 * two instances of our server started alike, one without actions and one
 * with an asynchronous `upload` action posting every upload to an HTTP
 * receiver in the bench process. The goal (issue 13) is to stay within 10 %
 * of the run without actions. Besides the upload rate (wall clock, noisy on
 * a shared machine) the row reports each server's CPU time per upload
 * (user + system from /proc, which other load barely moves). The row also
 * checks that every upload was really posted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ratioRow, sshArgs, type Row } from './rows';
import type { Ours } from './servers';
import { median, timed } from './util';

const FILES = Number(process.env.BENCH_EVENT_FILES ?? 300);
const FILE_SIZE = 4096;
const CLOCK_TICKS_PER_MS = 100 / 1000;

/** user + system CPU time of a process, ms (Linux /proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms) */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_MS;
}

export async function eventsRow(start: (name: string, env: Record<string, string>) => Promise<Ours>, key: string, dir: string, rounds: number): Promise<Row[]> {
  let posted = 0;
  let waiter: (() => void) | undefined;
  let connections = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posted++;
      res.end();
      if (waiter && posted >= FILES * rounds) waiter();
    });
  });
  receiver.on('connection', () => { connections++; });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  try {
    const servers = new Map<string, Ours>([
      ['plain', await start('sftpgo-events-plain', {})],
      ['actions', await start('sftpgo-events', {
        SFTPGO_COMMON__ACTIONS__EXECUTE_ON: 'upload', SFTPGO_COMMON__ACTIONS__HOOK: `http://127.0.0.1:${port}/upload`,
      })],
    ]);
    const src = join(dir, 'event-files');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < FILES; i++) writeFileSync(join(src, `f${i}.bin`), Buffer.alloc(FILE_SIZE, i % 256));
    const rate = new Map<string, number[]>([['plain', []], ['actions', []]]);
    const cpu = new Map<string, number[]>([['plain', []], ['actions', []]]);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['plain', 'actions'] : ['actions', 'plain'];
      for (const name of order) {
        const ours = servers.get(name)!;
        const ep = ours.sftp;
        const batch = [`-mkdir ev${r}`, ...Array.from({ length: FILES }, (_, i) => `put ${join(src, `f${i}.bin`)} ev${r}/f${i}.bin`)].join('\n') + '\n';
        const before = cpuMs(ours.proc.pid);
        const ms = await timed('sftp', [...sshArgs(ep, key), '-b', '-', `${ep.user}@127.0.0.1`], { input: batch });
        if (name === 'actions' && posted < FILES * (r + 1)) {
          // the asynchronous posts of this round belong to its CPU time: wait for them (bounded)
          await new Promise<void>((resolve) => {
            const check = setInterval(() => { if (posted >= FILES * (r + 1)) { clearInterval(check); resolve(); } }, 20);
            setTimeout(() => { clearInterval(check); resolve(); }, 60_000).unref();
          });
        }
        cpu.get(name)?.push((cpuMs(ours.proc.pid) - before) / FILES);
        rate.get(name)?.push(FILES / (ms / 1000));
      }
    }
    if (posted < FILES * rounds) {
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 60_000).unref();
      });
    }
    if (posted < FILES * rounds) throw new Error(`events row: ${posted} of ${FILES * rounds} uploads were posted`);
    for (const s of servers.values()) s.proc.kill('SIGTERM');
    return [
      ratioRow(`SFTP ${FILES} x 4 KiB uploads, async upload HTTP action, files/s (${connections} receiver connections)`,
        median(rate.get('actions') ?? []), median(rate.get('plain') ?? []), 'no actions', 0.9),
      ratioRow(`  same, server CPU ms per upload (user+sys)`,
        median(cpu.get('actions') ?? []), median(cpu.get('plain') ?? []), 'no actions', 0.9, true),
    ];
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
