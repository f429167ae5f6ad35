/**
 * The bench's attacker, run as its own process: FTP logins that fail, each
 * connection speaking for a different source address through a PROXY v1
 * header (the server trusts 127.0.0.1 as its proxy), as fast as it can with
 * `concurrency` connections in flight.
 *
 * node flood.js <port> <first address index> <addresses> <tries per address> <user|*> <concurrency>
 * user '*' logs in as an unknown user per address. Prints one JSON line:
 * {failed, refused, ms}.
 */
import * as net from 'node:net';
import { proxyV1 } from '../../src/perimeter/proxy-header';

const [port, first, count, tries, user, concurrency] = process.argv.slice(2).map((a, i) => (i === 4 ? a : Number(a))) as
  [number, number, number, number, string, number];

function addressOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

let failed = 0;
let refused = 0;

/** One source: `tries` USER/PASS on one control connection; resolves when the server answers the last or closes. */
function attack(i: number): Promise<void> {
  const ip = addressOf(i);
  const name = user === '*' ? `nobody-${i}` : user;
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    let done = 0;
    const end = (): void => { s.destroy(); resolve(); };
    s.setTimeout(30_000, end);
    s.on('error', end);
    s.on('close', () => { if (done < tries) refused++; resolve(); });
    s.on('connect', () => s.write(proxyV1({ ip, port: 40000 + (i % 20000) }, { ip: '127.0.0.1', port })));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith('220 ')) s.write(`USER ${name}\r\n`);
        else if (line.startsWith('331 ')) s.write('PASS wrong-password\r\n');
        else if (line.startsWith('530 ')) {
          failed++;
          done++;
          if (done >= tries) { s.end('QUIT\r\n'); return; }
          s.write(`USER ${name}\r\n`);
        } else if (/^\d{3} /.test(line)) { end(); return; }
      }
    });
  });
}

async function main(): Promise<void> {
  const start = process.hrtime.bigint();
  let next = first;
  const last = first + count;
  const worker = async (): Promise<void> => {
    while (next < last) await attack(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(JSON.stringify({ failed, refused, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
}

void main();
