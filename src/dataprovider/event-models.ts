/**
 * SFTPGo's event manager objects as its REST API and dumps carry them
 * (dataprovider/eventrule.go): event actions and event rules. Only the shape
 * lives here; validation and execution are in src/events.
 */

/** SFTPGo's action types (ActionType* constants). */
export const ACTION_TYPE = {
  http: 1, command: 2, email: 3, backup: 4, userQuotaReset: 5, folderQuotaReset: 6, transferQuotaReset: 7,
  dataRetention: 8, filesystem: 9, passwordExpiration: 11, userExpiration: 12, idpAccountCheck: 13,
  userInactivity: 14, rotateLogs: 15,
} as const;

/** SFTPGo's trigger types (EventTrigger* constants). */
export const TRIGGER = { fsEvent: 1, providerEvent: 2, schedule: 3, ipBlocked: 4, certificate: 5, onDemand: 6, idpLogin: 7 } as const;

/** SFTPGo's filesystem action types (FilesystemAction* constants). */
export const FS_ACTION = { rename: 1, delete: 2, mkdirs: 3, exist: 4, compress: 5, copy: 6 } as const;

export interface KeyValue { key: string; value: string }

/** A stored secret in SFTPGo's layout (kms). */
export interface StoredSecret { status: string; payload: string; key?: string; additional_data?: string; mode?: number }

export interface HttpPart { name: string; filepath?: string; headers?: KeyValue[]; body?: string }

export interface HttpActionConfig {
  endpoint?: string;
  username?: string;
  password?: StoredSecret;
  headers?: KeyValue[];
  timeout?: number;
  skip_tls_verify?: boolean;
  method?: string;
  query_parameters?: KeyValue[];
  body?: string;
  parts?: HttpPart[];
}

export interface CommandActionConfig { cmd?: string; args?: string[]; timeout?: number; env_vars?: KeyValue[] }

export interface EmailActionConfig {
  recipients?: string[];
  bcc?: string[];
  subject?: string;
  body?: string;
  attachments?: string[];
  /** 0 text/plain, 1 text/html */
  content_type?: number;
}

export interface FolderRetention { path: string; retention: number; delete_empty_dirs?: boolean }

export interface RenameConfig extends KeyValue { update_modtime?: boolean }

export interface FsActionConfig {
  type?: number;
  renames?: RenameConfig[];
  mkdirs?: string[];
  deletes?: string[];
  exist?: string[];
  copy?: KeyValue[];
  compress: { name?: string; paths?: string[] };
}

export interface EventActionOptions {
  http_config: HttpActionConfig;
  cmd_config: CommandActionConfig;
  email_config: EmailActionConfig;
  retention_config: { folders?: FolderRetention[] };
  fs_config: FsActionConfig;
  pwd_expiration_config: { threshold?: number };
  user_inactivity_config: { disable_threshold?: number; delete_threshold?: number };
  idp_config: { mode?: number; template_user?: string; template_admin?: string };
}

export interface EventAction {
  id: number;
  name: string;
  description?: string;
  type: number;
  options: EventActionOptions;
  /** names of the rules using this action (output only) */
  rules?: string[];
}

export interface ConditionPattern { pattern: string; inverse_match?: boolean }

export interface ConditionOptions {
  names?: ConditionPattern[];
  group_names?: ConditionPattern[];
  role_names?: ConditionPattern[];
  fs_paths?: ConditionPattern[];
  protocols?: string[];
  provider_objects?: string[];
  min_size?: number;
  max_size?: number;
  event_statuses?: number[];
  concurrent_execution?: boolean;
}

/** SFTPGo's schedule (cron fields, minute 0); `minute` is this server's extension, "0" when absent. */
export interface Schedule { hour: string; day_of_week: string; day_of_month: string; month: string; minute?: string }

export interface EventConditions {
  fs_events?: string[];
  provider_events?: string[];
  schedules?: Schedule[];
  idp_login_event?: number;
  options: ConditionOptions;
}

export interface RuleActionOptions { is_failure_action: boolean; stop_on_failure: boolean; execute_sync: boolean }

/** An action as a rule references it (`name` + relation options; the rest filled in on output). */
export interface RuleAction extends Partial<Omit<EventAction, 'name'>> {
  name: string;
  order?: number;
  relation_options: RuleActionOptions;
}

export interface EventRule {
  id: number;
  name: string;
  /** 1 active, 0 inactive */
  status: number;
  description?: string;
  created_at: number;
  updated_at: number;
  trigger: number;
  conditions: EventConditions;
  actions: RuleAction[];
}
