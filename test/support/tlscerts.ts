/**
 * A test PKI made with the openssl binary in a temp dir: a CA, a server
 * certificate (self-signed, and one signed by the CA), client certificates signed by the CA (CommonName = the given
 * names), one of them revoked in a CRL, and a client certificate from a CA the
 * server does not trust. EC P-256 keys (fast to generate).
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  crl: string;
  serverCert: string;
  serverKey: string;
  /** a server certificate signed by the CA, for 127.0.0.1 only (IP SAN): "localhost" does not match it */
  caSignedServer: { cert: string; key: string };
  /** the untrusted CA's certificate */
  otherCaCert: string;
  /** cert and key paths per client name (CN) */
  clients: Record<string, { cert: string; key: string }>;
  /** signed by the trusted CA, then revoked in `crl` */
  revoked: { cert: string; key: string };
  /** signed by another CA */
  stranger: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { cwd: dir, timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${stderr}`)); else resolve();
    });
    child.on('error', () => undefined);
  });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function selfSigned(dir: string, name: string, cn: string, ca: boolean): Promise<void> {
  const ext = ca ? ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'] : ['-addext', 'subjectAltName=IP:127.0.0.1'];
  await openssl(dir, ['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=${cn}`, ...ext, '-keyout', `${name}.key`, '-out', `${name}.pem`]);
}

async function signed(dir: string, name: string, cn: string, ca: string, san?: string): Promise<{ cert: string; key: string }> {
  const ext = san ? ['-addext', `subjectAltName=${san}`] : [];
  await openssl(dir, ['req', ...EC, '-subj', `/CN=${cn}`, ...ext, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2',
    ...(san ? ['-copy_extensions', 'copy'] : []), '-out', `${name}.pem`]);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

export async function makePki(dir: string, clientNames: string[]): Promise<TestPki> {
  await fsp.mkdir(dir, { recursive: true });
  await selfSigned(dir, 'ca', 'sftpgo-ts test CA', true);
  await selfSigned(dir, 'other-ca', 'untrusted CA', true);
  await selfSigned(dir, 'server', '127.0.0.1', false);
  const caSignedServer = await signed(dir, 'server-by-ca', '127.0.0.1', 'ca', 'IP:127.0.0.1');
  const clients: TestPki['clients'] = {};
  for (const n of clientNames) clients[n] = await signed(dir, `client-${n}`, n, 'ca');
  const revoked = await signed(dir, 'client-revoked', clientNames[0] ?? 'revoked', 'ca');
  const stranger = await signed(dir, 'client-stranger', clientNames[0] ?? 'stranger', 'other-ca');
  await fsp.writeFile(path.join(dir, 'index.txt'), '');
  await fsp.writeFile(path.join(dir, 'crlnumber'), '01\n');
  await fsp.writeFile(path.join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = test_ca', '[ test_ca ]', `database = ${path.join(dir, 'index.txt')}`,
    `crlnumber = ${path.join(dir, 'crlnumber')}`, `certificate = ${path.join(dir, 'ca.pem')}`,
    `private_key = ${path.join(dir, 'ca.key')}`, 'default_md = sha256', 'default_crl_days = 2', '',
  ].join('\n'));
  await openssl(dir, ['ca', '-config', 'ca.cnf', '-revoke', 'client-revoked.pem']);
  await openssl(dir, ['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem']);
  return {
    dir, caCert: path.join(dir, 'ca.pem'), crl: path.join(dir, 'crl.pem'),
    serverCert: path.join(dir, 'server.pem'), serverKey: path.join(dir, 'server.key'), caSignedServer,
    otherCaCert: path.join(dir, 'other-ca.pem'), clients, revoked, stranger,
  };
}
