/**
 * `sftpgo portable -S [-C]` announced with multicast DNS, seen by a real
 * DNS-SD browser (python3-zeroconf). Everything runs in two network
 * namespaces the test creates (server in one, browser and client in the
 * other, joined by a veth pair), so no multicast packet reaches a real
 * network. SFTP, FTP and WebDAV are each announced under their DNS-SD type.
 * With -C the browser gets the account from the TXT record and
 * OpenSSH's sftp logs in with it at the advertised address and port; the
 * shutdown's goodbye removes the service from the browser; without -C only
 * the version is published.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { getVersionInfo } from '../../../src/service/version';
import { createNsPair, netnsUnavailable, type NsPair } from '../../support/netns';
import { startPortable } from '../../support/portable';
import { run } from '../sftpd/openssh';

const BROWSER = path.resolve(__dirname, '../../../../test/support/mdns-browse.py');
const EVENT_TIMEOUT_MS = 30_000;

interface BrowseEvent { event: string; name?: string; port?: number; addresses?: string[]; txt?: Record<string, string | null> }

class Browser {
  private readonly events: BrowseEvent[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<unknown>;

  constructor(readonly child: ChildProcess) {
    this.exited = once(child, 'exit');
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.events.push(JSON.parse(l) as BrowseEvent);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** the first event (already seen or to come) matching `pred`, bounded */
  async next(pred: (e: BrowseEvent) => boolean, what: string): Promise<BrowseEvent> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${EVENT_TIMEOUT_MS} ms; events: ${JSON.stringify(this.events)}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => { this.waiters.push(resolve); timer = setTimeout(resolve, left); });
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}

const unavailable = netnsUnavailable();

describe('portable mode advertised with multicast DNS', { skip: unavailable }, () => {
  let ns: NsPair;
  let dir: string;
  let browser: Browser;

  before(async () => {
    ns = createNsPair('mdns');
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-mdns-'));
    await fsp.writeFile(path.join(dir, 'hello.txt'), 'found by mDNS\n');
    const child = spawn(ns.exec(ns.b)[0], [...ns.exec(ns.b).slice(1), '/usr/bin/python3', BROWSER, '_sftp-ssh._tcp.local.,_ftp._tcp.local.,_http._tcp.local.', '120'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    browser = new Browser(child);
    await browser.next((e) => e.event === 'browsing', 'browser start');
  });
  after(async () => {
    await browser?.stop();
    ns?.remove();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  test('-S -C: _sftp-ssh._tcp, _ftp._tcp and _http._tcp with version, user and password; sftp logs in with them; goodbye on shutdown', async (t) => {
    const p = await startPortable({ cwd: dir, wrapper: ns.exec(ns.a), args: ['-d', dir, '-s', '40022', '--ftpd-port', '40021', '--webdav-port', '40080',
      '-u', 'mdnsuser', '-p', 'mdns-secret-pw', '-S', '-C', '-L', 'debug'] });
    t.after(() => p.stop());
    assert.ok(p.lines.includes('Advertised via multicast DNS: SFTP, FTP, WebDAV (with the credentials)'), p.lines.join('\n'));
    const txt = { version: getVersionInfo().version, user: 'mdnsuser', password: 'mdns-secret-pw' };
    for (const [type, port] of [['_ftp._tcp.local.', 40021], ['_http._tcp.local.', 40080]] as const) {
      const other = await browser.next((e) => e.event === 'added' && e.name === `SFTPGo portable ${port}.${type}`, `${type} announcement`);
      assert.equal(other.port, port);
      assert.deepEqual(other.txt, txt);
    }
    const added = await browser.next((e) => e.event === 'added' && e.name === 'SFTPGo portable 40022._sftp-ssh._tcp.local.', 'announcement');
    assert.equal(added.port, 40022);
    // the veth's IPv4 address (plus its IPv6 link-local one); loopback is never announced
    assert.ok(added.addresses?.includes(ns.addrA), JSON.stringify(added));
    assert.ok(!added.addresses?.some((a) => a.startsWith('127.')), JSON.stringify(added));
    assert.deepEqual(added.txt, txt);

    const addr = ns.addrA;
    const r = await run(ns.exec(ns.b)[0], [...ns.exec(ns.b).slice(1), 'sshpass', '-e', 'sftp', '-P', String(added.port), '-F', '/dev/null',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no',
      '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1', '-o', 'BatchMode=no', '-b', '-', `${added.txt?.user}@${addr}`],
    { env: { ...process.env, SSHPASS: String(added.txt?.password) }, input: `get hello.txt ${path.join(dir, 'fetched.txt')}\n` });
    assert.equal(r.status, 0, r.stderr + p.stderr());
    assert.equal(await fsp.readFile(path.join(dir, 'fetched.txt'), 'utf8'), 'found by mDNS\n');

    assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
    await browser.next((e) => e.event === 'removed' && e.name === 'SFTPGo portable 40022._sftp-ssh._tcp.local.', 'goodbye');
    assert.match(p.stderr(), /unregistering the multicast DNS services/);
  });

  test('-S alone: only the version in the TXT record; the password is never logged', async (t) => {
    const p = await startPortable({ cwd: dir, wrapper: ns.exec(ns.a), args: ['-d', dir, '-s', '40023', '-u', 'quiet', '-p', 'not-published-pw', '-S', '-L', 'debug'] });
    t.after(() => p.stop());
    const added = await browser.next((e) => e.event === 'added' && e.name === 'SFTPGo portable 40023._sftp-ssh._tcp.local.', 'announcement');
    assert.deepEqual(added.txt, { version: getVersionInfo().version });
    assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
    assert.ok(!p.stderr().includes('not-published-pw'));
  });

  test('-C without -S is a usage error', async () => {
    await assert.rejects(startPortable({ cwd: dir, args: ['-d', dir, '-C'] }), /--advertise-credentials needs --advertise-service/);
  });
});

if (unavailable) test(`portable mDNS test skipped: ${unavailable}`, { skip: unavailable }, () => undefined);
