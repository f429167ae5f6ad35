/**
 * SSH key generation through ssh2's utils, checked: ssh2 1.17 emits an
 * unparsable ed25519 key about once in 400 (mscdex/ssh2#1390, #1513; measured
 * here: 7 of 3000). A host key like that would make a first start fail, so
 * every generated pair is parsed back and regenerated when it does not parse.
 */
import { utils } from 'ssh2';

export type SshKeyType = 'rsa' | 'ecdsa' | 'ed25519';
export interface SshKeyPair { private: string; public: string }
export interface SshKeyOptions { bits?: number; comment?: string }

const MAX_ATTEMPTS = 10;

function parses(kp: SshKeyPair): boolean {
  return !(utils.parseKey(kp.private) instanceof Error) && !(utils.parseKey(kp.public) instanceof Error);
}

function genOpts(type: SshKeyType, opts: SshKeyOptions): { bits?: number; comment?: string } {
  const bits = opts.bits ?? (type === 'rsa' ? 4096 : type === 'ecdsa' ? 256 : undefined);
  return { ...(bits === undefined ? {} : { bits }), ...(opts.comment === undefined ? {} : { comment: opts.comment }) };
}

/** Async (a 4096-bit RSA key takes seconds: never block the event loop in the server). */
export async function generateSshKeyPair(type: SshKeyType, opts: SshKeyOptions = {}): Promise<SshKeyPair> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const kp = await new Promise<SshKeyPair>((resolve, reject) => {
      utils.generateKeyPair(type, genOpts(type, opts), (err, pair) => (err ? reject(err) : resolve(pair)));
    });
    if (parses(kp)) return kp;
  }
  throw new Error(`could not generate a valid ${type} key in ${MAX_ATTEMPTS} attempts`);
}

/** Sync variant for tools and tests. */
export function generateSshKeyPairSync(type: SshKeyType, opts: SshKeyOptions = {}): SshKeyPair {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const kp = utils.generateKeyPairSync(type, genOpts(type, opts));
    if (parses(kp)) return kp;
  }
  throw new Error(`could not generate a valid ${type} key in ${MAX_ATTEMPTS} attempts`);
}
