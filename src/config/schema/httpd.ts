/** `httpd` and `telemetry` sections (SFTPGo defaults). */
import { httpdBindingExtras } from './ops';
import { bool, int, nat, port, str, strList, structList, type SchemaTree } from './helpers';

export function corsSchema(): SchemaTree {
  return {
    enabled: bool(false),
    allowed_origins: strList(),
    allowed_methods: strList(),
    allowed_headers: strList(),
    exposed_headers: strList(),
    allow_credentials: bool(false),
    max_age: nat(0),
    options_passthrough: bool(false),
    options_success_status: nat(0),
    allow_private_network: bool(false),
  };
}

const httpdBinding: SchemaTree = {
  port: port(0),
  address: str(),
  enable_web_admin: bool(true),
  enable_web_client: bool(true),
  enable_rest_api: bool(true),
  enabled_login_methods: nat(0),
  disabled_login_methods: nat(0),
  enable_https: bool(false),
  certificate_file: str(),
  certificate_key_file: str(),
  min_tls_version: int(12, 10, 13),
  client_auth_type: int(0, 0, 2),
  tls_cipher_suites: strList(),
  tls_protocols: strList(),
  proxy_mode: int(0, 0, 1),
  proxy_allowed: strList(),
  client_ip_proxy_header: str(),
  client_ip_header_depth: nat(0),
  hide_login_url: nat(0),
  render_openapi: bool(true),
  base_url: str(),
  languages: strList(['en']),
  ...httpdBindingExtras(),
};

export function httpdSchema(): SchemaTree {
  return {
    bindings: structList(httpdBinding, [{ port: 8080 }]),
    templates_path: str('templates'),
    static_files_path: str('static'),
    openapi_path: str('openapi'),
    web_root: str(),
    certificate_file: str(),
    certificate_key_file: str(),
    ca_certificates: strList(),
    ca_revocation_lists: strList(),
    signing_passphrase: { ...str(), sensitive: true },
    signing_passphrase_file: str(),
    token_validation: nat(0),
    cookie_lifetime: int(20, 0, 720),
    share_cookie_lifetime: int(120, 0, 720),
    jwt_lifetime: int(20, 0, 720),
    max_upload_file_size: nat(0),
    cors: corsSchema(),
    setup: { installation_code: { ...str(), sensitive: true }, installation_code_hint: str('Installation code') },
    hide_support_link: bool(false),
  };
}

export function telemetrySchema(): SchemaTree {
  return {
    bind_port: port(0),
    bind_address: str('127.0.0.1'),
    enable_profiler: bool(false),
    auth_user_file: str(),
    certificate_file: str(),
    certificate_key_file: str(),
    min_tls_version: int(12, 10, 13),
    tls_cipher_suites: strList(),
    tls_protocols: strList(),
  };
}
