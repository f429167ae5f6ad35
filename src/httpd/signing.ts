/**
 * `httpd.signing_passphrase` or the content of `signing_passphrase_file`
 * (relative to the config dir); '' means "random key per start" (SFTPGo: tokens
 * then die on restart). Shared by the REST API tokens and the web admin cookies.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ServerContext } from '../common/context';

export function signingPassphrase(ctx: ServerContext): string {
  const h = ctx.config.httpd;
  if (h.signing_passphrase) return h.signing_passphrase;
  if (!h.signing_passphrase_file) return '';
  const p = isAbsolute(h.signing_passphrase_file) ? h.signing_passphrase_file : resolve(ctx.runtime.configDir, h.signing_passphrase_file);
  return readFileSync(p, 'utf8').trim();
}
