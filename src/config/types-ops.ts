/** Types of the sections described in schema/ops.ts (SFTPGo names). */

export interface SmtpConfig {
  host: string;
  port: number;
  from: string;
  user: string;
  password: string;
  /** 0 plain, 1 login, 2 CRAM-MD5, 3 OAuth2 */
  auth_type: number;
  /** 0 none, 1 implicit TLS, 2 STARTTLS */
  encryption: number;
  domain: string;
  templates_path: string;
  debug: number;
  oauth2: { provider: number; tenant: string; client_id: string; client_secret: string; refresh_token: string };
}

export interface AcmeConfig {
  domains: string[];
  email: string;
  key_type: string;
  certs_path: string;
  ca_endpoint: string;
  renew_days: number;
  http01_challenge: { port: number; proxy_header: string; webroot: string };
  tls_alpn01_challenge: { port: number };
}

export interface PluginConfig {
  type: string;
  notifier_options: {
    fs_events: string[];
    provider_events: string[];
    provider_objects: string[];
    log_events: number[];
    retry_max_time: number;
    retry_queue_max_size: number;
  };
  kms_options: { scheme: string; encrypted_status: string };
  auth_options: { scope: number };
  cmd: string;
  args: string[];
  sha256sum: string;
  auto_mtls: boolean;
  env_prefix: string;
  env_vars: string[];
}

export interface BrandingConfig {
  name: string;
  short_name: string;
  favicon_path: string;
  logo_path: string;
  disclaimer_name: string;
  disclaimer_path: string;
  default_css: string[];
  extra_css: string[];
}

/**
 * Always present after loadConfig; optional in the type so bindings built by
 * hand (tests, portable mode) need not spell out blocks this server refuses.
 */
export interface HttpdBindingExtras {
  oidc?: {
    client_id: string;
    client_secret: string;
    client_secret_file: string;
    config_url: string;
    redirect_base_url: string;
    scopes: string[];
    username_field: string;
    role_field: string;
    implicit_roles: boolean;
    custom_fields: string[];
    insecure_skip_signature_check: boolean;
    debug: boolean;
  };
  security?: {
    enabled: boolean;
    allowed_hosts: string[];
    allowed_hosts_are_regex: boolean;
    hosts_proxy_headers: string[];
    https_redirect: boolean;
    https_host: string;
    https_proxy_headers: { key: string; value: string }[];
    sts_seconds: number;
    sts_include_subdomains: boolean;
    sts_preload: boolean;
    content_type_nosniff: boolean;
    content_security_policy: string;
    permissions_policy: string;
    cross_origin_opener_policy: string;
    cross_origin_resource_policy: string;
    cross_origin_embedder_policy: string;
    referrer_policy: string;
    cache_control: string;
  };
  branding?: { web_admin: BrandingConfig; web_client: BrandingConfig };
}
