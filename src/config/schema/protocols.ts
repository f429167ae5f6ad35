/** `sftpd`, `ftpd` and `webdavd` sections (SFTPGo defaults). */
import { bool, int, nat, port, str, strList, structList, type SchemaTree } from './helpers';
import { corsSchema } from './httpd';

const sftpdBinding: SchemaTree = { port: port(0), address: str(), apply_proxy_config: bool(true) };

export function sftpdSchema(): SchemaTree {
  return {
    bindings: structList(sftpdBinding, [{ port: 2022 }]),
    max_auth_tries: nat(0),
    host_keys: strList(),
    host_certificates: strList(),
    host_key_algorithms: strList(),
    kex_algorithms: strList(),
    ciphers: strList(),
    macs: strList(),
    public_key_algorithms: strList(),
    trusted_user_ca_keys: strList(),
    revoked_user_certs_file: str(),
    opkssh_path: str(),
    opkssh_checksum: str(),
    login_banner_file: str(),
    enabled_ssh_commands: strList(['md5sum', 'sha1sum', 'sha256sum', 'cd', 'pwd', 'scp']),
    keyboard_interactive_authentication: bool(true),
    keyboard_interactive_auth_hook: str(),
    password_authentication: bool(true),
  };
}

const ftpdBinding: SchemaTree = {
  port: port(0),
  address: str(),
  apply_proxy_config: bool(true),
  tls_mode: int(0, 0, 2),
  certificate_file: str(),
  certificate_key_file: str(),
  min_tls_version: int(12, 10, 13),
  force_passive_ip: str(),
  passive_ip_overrides: structList({ networks: strList(), ip: str() }),
  passive_host: str(),
  client_auth_type: int(0, 0, 2),
  tls_cipher_suites: strList(),
  passive_connections_security: int(0, 0, 1),
  active_connections_security: int(0, 0, 1),
  ignore_ascii_transfer_type: int(0, 0, 1),
  debug: bool(false),
};

export function ftpdSchema(): SchemaTree {
  return {
    bindings: structList(ftpdBinding, [{}]),
    banner_file: str(),
    active_transfers_port_non_20: bool(true),
    passive_port_range: { start: port(50000), end: port(50100) },
    disable_active_mode: bool(false),
    enable_site: bool(false),
    hash_support: int(0, 0, 1),
    combine_support: int(0, 0, 1),
    certificate_file: str(),
    certificate_key_file: str(),
    ca_certificates: strList(),
    ca_revocation_lists: strList(),
  };
}

const webdavdBinding: SchemaTree = {
  port: port(0),
  address: str(),
  enable_https: bool(false),
  certificate_file: str(),
  certificate_key_file: str(),
  min_tls_version: int(12, 10, 13),
  client_auth_type: int(0, 0, 2),
  tls_cipher_suites: strList(),
  tls_protocols: strList(),
  prefix: str(),
  proxy_mode: int(0, 0, 1),
  proxy_allowed: strList(),
  client_ip_proxy_header: str(),
  client_ip_header_depth: nat(0),
  disable_www_auth_header: bool(false),
};

export function webdavdSchema(): SchemaTree {
  return {
    bindings: structList(webdavdBinding, [{}]),
    certificate_file: str(),
    certificate_key_file: str(),
    ca_certificates: strList(),
    ca_revocation_lists: strList(),
    cors: corsSchema(),
    cache: {
      users: { expiration_time: nat(0), max_size: nat(50) },
      mime_types: {
        enabled: bool(true),
        max_size: nat(1000),
        custom_mappings: structList({ ext: str(), mime: str() }),
      },
    },
  };
}
