/** `http`, `command`, `kms`, `mfa` and `smtp` sections (SFTPGo defaults). */
import { bool, int, nat, oneOf, str, strList, structList, type SchemaTree } from './helpers';

export function httpClientSchema(): SchemaTree {
  return {
    timeout: nat(20),
    retry_wait_min: nat(2),
    retry_wait_max: nat(30),
    retry_max: nat(3),
    ca_certificates: strList(),
    certificates: structList({ cert: str(), key: str() }),
    skip_tls_verify: bool(false),
    headers: structList({ key: str(), value: str(), url: str() }),
  };
}

export function commandSchema(): SchemaTree {
  return {
    timeout: int(30, 1, 300),
    env: strList(),
    commands: structList({ path: str(), timeout: int(30, 0, 300), env: strList(), args: strList(), hook: str() }),
  };
}

export function kmsSchema(): SchemaTree {
  return {
    secrets: { url: str(), master_key: { ...str(), sensitive: true }, master_key_path: str() },
  };
}

export function mfaSchema(): SchemaTree {
  return {
    totp: structList(
      { name: str('Default'), issuer: str('SFTPGo'), algo: oneOf('sha1', ['sha1', 'sha256', 'sha512']) },
      [{}],
    ),
  };
}

