/**
 * DARE 2.0 (minio/sio) packages as SFTPGo's CryptFs writes them, after its
 * own 33-byte file header (version 0x10 + a 32-byte random nonce; the file
 * key is HKDF-SHA256(passphrase, salt = that nonce, no info)). Each package:
 * a 16-byte header (version 0x20, cipher id, payload length - 1 as uint16
 * LE, a 12-byte stream nonce whose top bit flags the final package), the
 * payload sealed with AES-256-GCM or ChaCha20-Poly1305 (nonce: the header's
 * with its last 4 bytes XORed with the package sequence number; additional
 * data: the first 4 header bytes) and its 16-byte tag. Every package but the
 * last carries exactly 64 KiB; an empty file has no package at all.
 */
import { createCipheriv, createDecipheriv, hkdf, randomBytes } from 'node:crypto';
import { FsError } from '../../common/errors';

export const FILE_VERSION = 0x10;
export const FILE_NONCE_SIZE = 32;
export const FILE_HEADER_SIZE = 1 + FILE_NONCE_SIZE;
export const DARE_VERSION = 0x20;
export const HEADER_SIZE = 16;
export const TAG_SIZE = 16;
export const MAX_PAYLOAD = 64 * 1024;
export const MAX_PACKAGE = HEADER_SIZE + MAX_PAYLOAD + TAG_SIZE;
const AES_256_GCM = 0;
const CHACHA20_POLY1305 = 1;

/** SFTPGo's per-file key. */
export function deriveFileKey(passphrase: string, fileNonce: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    hkdf('sha256', Buffer.from(passphrase), fileNonce, Buffer.alloc(0), 32, (err, key) => (err ? reject(err) : resolve(Buffer.from(key))));
  });
}

export function newFileHeader(): { header: Buffer; nonce: Buffer } {
  const nonce = randomBytes(FILE_NONCE_SIZE);
  return { header: Buffer.concat([Buffer.from([FILE_VERSION]), nonce]), nonce };
}

/** The file nonce from a file's first 33 bytes. */
export function parseFileHeader(h: Buffer): Buffer {
  if (h.length < FILE_HEADER_SIZE) throw new FsError('Generic', 'encrypted file: truncated header');
  if (h[0] !== FILE_VERSION) throw new FsError('Generic', `encrypted file: unsupported encryption version ${h[0]}`);
  return h.subarray(1, FILE_HEADER_SIZE);
}

/** sio DecryptedSize over the bytes after the file header; undefined for an impossible size. */
export function plainSize(encryptedBody: number): number | undefined {
  const full = Math.floor(encryptedBody / MAX_PACKAGE);
  const rest = encryptedBody % MAX_PACKAGE;
  if (rest > 0 && rest <= HEADER_SIZE + TAG_SIZE) return undefined;
  return full * MAX_PAYLOAD + (rest > 0 ? rest - HEADER_SIZE - TAG_SIZE : 0);
}

/** The on-disk size of a file holding `plain` bytes (header included). */
export function encryptedFileSize(plain: number): number {
  const full = Math.floor(plain / MAX_PAYLOAD);
  const rest = plain % MAX_PAYLOAD;
  return FILE_HEADER_SIZE + full * MAX_PACKAGE + (rest > 0 ? rest + HEADER_SIZE + TAG_SIZE : 0);
}

function packageNonce(header: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(header.subarray(4, HEADER_SIZE));
  nonce.writeUInt32LE((nonce.readUInt32LE(8) ^ seq) >>> 0, 8);
  return nonce;
}

/** Seals one package of a stream (AES-256-GCM, as sio picks on hardware with AES). */
export function sealPackage(key: Buffer, streamNonce: Buffer, seq: number, payload: Buffer, final: boolean): Buffer {
  if (payload.length === 0 || payload.length > MAX_PAYLOAD) throw new FsError('Generic', 'DARE: invalid payload size');
  const header = Buffer.alloc(HEADER_SIZE);
  header[0] = DARE_VERSION;
  header[1] = AES_256_GCM;
  header.writeUInt16LE(payload.length - 1, 2);
  streamNonce.copy(header, 4, 0, 12);
  header[4] = final ? (header[4] as number) | 0x80 : (header[4] as number) & 0x7f;
  const c = createCipheriv('aes-256-gcm', key, packageNonce(header, seq), { authTagLength: TAG_SIZE });
  c.setAAD(header.subarray(0, 4));
  return Buffer.concat([header, c.update(payload), c.final(), c.getAuthTag()]);
}

/**
 * Opens the package `seq` of a stream. `isLast` says whether the package
 * must be the final one (a truncated or extended file fails here).
 */
export function openPackage(key: Buffer, pkg: Buffer, seq: number, isLast: boolean): Buffer {
  if (pkg.length <= HEADER_SIZE + TAG_SIZE) throw new FsError('Generic', 'DARE: invalid package size');
  const header = pkg.subarray(0, HEADER_SIZE);
  if (header[0] !== DARE_VERSION) throw new FsError('Generic', `DARE: unsupported version ${header[0]}`);
  const length = header.readUInt16LE(2) + 1;
  if (HEADER_SIZE + length + TAG_SIZE !== pkg.length) throw new FsError('Generic', 'DARE: invalid payload size');
  const final = ((header[4] as number) & 0x80) !== 0;
  if (final !== isLast || (!final && length !== MAX_PAYLOAD)) throw new FsError('Generic', 'DARE: unexpected package layout (truncated or modified file)');
  if (header[1] !== AES_256_GCM && header[1] !== CHACHA20_POLY1305) throw new FsError('Generic', `DARE: unsupported cipher ${header[1]}`);
  const nonce = packageNonce(header, seq);
  const d = header[1] === AES_256_GCM
    ? createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_SIZE })
    : createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  d.setAAD(header.subarray(0, 4), { plaintextLength: length });
  d.setAuthTag(pkg.subarray(HEADER_SIZE + length));
  try {
    return Buffer.concat([d.update(pkg.subarray(HEADER_SIZE, HEADER_SIZE + length)), d.final()]);
  } catch {
    throw new FsError('Generic', 'DARE: authentication failed (wrong passphrase or modified file)');
  }
}
