/** `common` section (SFTPGo defaults). */
import { bool, int, nat, oneOf, str, strList, structList, type SchemaTree } from './helpers';

const rateLimiter: SchemaTree = {
  average: nat(0),
  period: nat(1000),
  burst: nat(1),
  type: int(2, 1, 2),
  protocols: strList(['SSH', 'FTP', 'DAV', 'HTTP']),
  generate_defender_events: bool(false),
  entries_soft_limit: nat(100),
  entries_hard_limit: nat(150),
};

export function commonSchema(): SchemaTree {
  return {
    idle_timeout: nat(15),
    /** sftpgo-ts: worker processes of `serve` (0 = one per core with a shared provider, 1 otherwise) */
    workers: int(0, 0, 1024),
    upload_mode: nat(0),
    actions: { execute_on: strList(), execute_sync: strList(), hook: str() },
    setstat_mode: int(0, 0, 2),
    rename_mode: int(0, 0, 1),
    symlink_mode: nat(0),
    resume_max_size: nat(0),
    secret_min_entropy: nat(80),
    proxy_protocol: int(0, 0, 2),
    proxy_allowed: strList(),
    proxy_skipped: strList(),
    startup_hook: str(),
    post_connect_hook: str(),
    post_disconnect_hook: str(),
    max_total_connections: nat(0),
    max_per_host_connections: nat(20),
    allowlist_status: int(0, 0, 1),
    allow_self_connections: int(0, 0, 1),
    umask: str(),
    server_version: oneOf('', ['', 'short']),
    tz: oneOf('', ['', 'local']),
    metadata: { read: int(0, 0, 1) },
    defender: {
      enabled: bool(false),
      driver: oneOf('memory', ['memory', 'provider']),
      ban_time: nat(30),
      ban_time_increment: nat(50),
      threshold: nat(15),
      score_invalid: nat(2),
      score_valid: nat(1),
      score_limit_exceeded: nat(3),
      score_no_auth: nat(0),
      observation_time: nat(30),
      entries_soft_limit: nat(100),
      entries_hard_limit: nat(150),
      login_delay: { success: nat(0), password_failed: nat(1000) },
    },
    rate_limiters: structList(rateLimiter, [{}]),
    event_manager: { enabled_commands: strList() },
  };
}
