/**
 * A raw SFTP client over an ssh2 `subsys('sftp')` channel: sends hand-built
 * packets (valid or not) and reads replies, for what the ssh2 SFTP client
 * cannot send (check-file, garbage).
 */
import type { Client, ClientChannel } from 'ssh2';
import { PacketFramer } from '../../../src/sftpd/sftp/framer';
import { PacketReader, PacketWriter } from '../../../src/sftpd/sftp/packet';
import { PKT } from '../../../src/sftpd/sftp/constants';

export interface RawReply { type: number; id: number; body: PacketReader }

export class RawSftp {
  private readonly framer = new PacketFramer(1024 * 1024);
  private readonly waiting = new Map<number, (r: RawReply) => void>();
  private versionWaiter?: (pkt: Buffer) => void;
  private nextId = 1;
  closed: Promise<void>;

  private constructor(readonly channel: ClientChannel) {
    let onClose!: () => void;
    this.closed = new Promise((resolve) => (onClose = resolve));
    channel.on('close', onClose);
    channel.on('error', () => undefined);
    channel.on('data', (d: Buffer) => {
      this.framer.push(d);
      for (let i = 0; i < 100000; i++) {
        const pkt = this.framer.next();
        if (!pkt) break;
        if (pkt[0] === PKT.VERSION) {
          this.versionWaiter?.(pkt);
          continue;
        }
        const id = pkt.readUInt32BE(1);
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.({ type: pkt[0]!, id, body: new PacketReader(pkt, 5) });
      }
    });
  }

  static open(c: Client): Promise<RawSftp> {
    return new Promise((resolve, reject) =>
      c.subsys('sftp', (err, ch) => (err ? reject(err) : resolve(new RawSftp(ch)))));
  }

  /** INIT → VERSION; returns the extension pairs. */
  init(): Promise<Map<string, string>> {
    return new Promise((resolve) => {
      this.versionWaiter = (pkt) => {
        const r = new PacketReader(pkt, 1);
        r.u32();
        const ext = new Map<string, string>();
        while (r.remaining > 0) ext.set(r.string(), r.string());
        resolve(ext);
      };
      this.channel.write(new PacketWriter(PKT.INIT, 3).finish());
    });
  }

  /** Sends a request built by `fill` (after the id) and waits for its reply. */
  request(type: number, fill: (w: PacketWriter) => void): Promise<RawReply> {
    const id = this.nextId++;
    const w = new PacketWriter(type, id, 256);
    fill(w);
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.channel.write(w.finish());
    });
  }

  writeRaw(buf: Buffer): void {
    this.channel.write(buf);
  }
}
