/**
 * `acme`, `smtp` and `plugins` sections and the httpd binding's `oidc`,
 * `security` and `branding` blocks (SFTPGo defaults). They are in the schema
 * so an SFTPGo config loads and names them precisely: the ones this server
 * does not implement are refused when set (see ../unsupported.ts), never
 * silently dropped as unknown keys.
 */
import { bool, int, intList, nat, port, str, strList, structList, type SchemaTree } from './helpers';

export function acmeSchema(): SchemaTree {
  return {
    domains: strList(),
    email: str(),
    key_type: str('4096'),
    certs_path: str('certs'),
    ca_endpoint: str('https://acme-v02.api.letsencrypt.org/directory'),
    renew_days: nat(30),
    http01_challenge: { port: port(80), proxy_header: str(), webroot: str() },
    tls_alpn01_challenge: { port: port(0) },
  };
}

export function smtpSchema(): SchemaTree {
  return {
    host: str(),
    port: int(587, 1, 65535),
    from: str(),
    user: str(),
    password: { ...str(), sensitive: true },
    // 0 plain, 1 login, 2 CRAM-MD5, 3 OAuth2
    auth_type: int(0, 0, 3),
    // 0 none, 1 implicit TLS, 2 STARTTLS
    encryption: int(0, 0, 2),
    domain: str(),
    templates_path: str('templates'),
    debug: int(0, 0, 1),
    oauth2: {
      provider: int(0, 0, 1),
      tenant: str(),
      client_id: str(),
      client_secret: { ...str(), sensitive: true },
      refresh_token: { ...str(), sensitive: true },
    },
  };
}

export function pluginsSchema(): SchemaTree {
  return {
    plugins: structList({
      type: str(),
      notifier_options: {
        fs_events: strList(),
        provider_events: strList(),
        provider_objects: strList(),
        log_events: intList(),
        retry_max_time: nat(0),
        retry_queue_max_size: nat(0),
      },
      kms_options: { scheme: str(), encrypted_status: str() },
      auth_options: { scope: nat(0) },
      cmd: str(),
      args: strList(),
      sha256sum: str(),
      auto_mtls: bool(false),
      env_prefix: str(),
      env_vars: strList(),
    }),
  };
}

function brandingSchema(): SchemaTree {
  return {
    name: str(),
    short_name: str(),
    favicon_path: str(),
    logo_path: str(),
    disclaimer_name: str(),
    disclaimer_path: str(),
    default_css: strList(),
    extra_css: strList(),
  };
}

/** Blocks of each httpd binding beyond the ones httpd.ts describes. */
export function httpdBindingExtras(): SchemaTree {
  return {
    oidc: {
      client_id: str(),
      client_secret: { ...str(), sensitive: true },
      client_secret_file: str(),
      config_url: str(),
      redirect_base_url: str(),
      scopes: strList(['openid', 'profile', 'email']),
      username_field: str(),
      role_field: str(),
      implicit_roles: bool(false),
      custom_fields: strList(),
      insecure_skip_signature_check: bool(false),
      debug: bool(false),
    },
    security: {
      enabled: bool(false),
      allowed_hosts: strList(),
      allowed_hosts_are_regex: bool(false),
      hosts_proxy_headers: strList(),
      https_redirect: bool(false),
      https_host: str(),
      https_proxy_headers: structList({ key: str(), value: str() }),
      sts_seconds: nat(0),
      sts_include_subdomains: bool(false),
      sts_preload: bool(false),
      content_type_nosniff: bool(false),
      content_security_policy: str(),
      permissions_policy: str(),
      cross_origin_opener_policy: str(),
      cross_origin_resource_policy: str(),
      cross_origin_embedder_policy: str(),
      referrer_policy: str(),
      cache_control: str(),
    },
    branding: { web_admin: brandingSchema(), web_client: brandingSchema() },
  };
}
