/** An ssh2 client SFTP session with a key, for the storage tests that need the status codes and messages OpenSSH's sftp does not print. */
import { Client, type SFTPWrapper } from 'ssh2';

export function sftpSession(port: number, username: string, privateKey: Buffer): Promise<{ conn: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn.on('error', reject);
    conn.on('ready', () => conn.sftp((err, sftp) => (err ? reject(err) : resolve({ conn, sftp }))));
    conn.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 30_000 });
  });
}
