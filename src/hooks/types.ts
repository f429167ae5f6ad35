/**
 * Shared vocabulary of the hook layer: the hook names SFTPGo uses in the
 * `command.commands[].hook` field, where a hook points (program or URL) and
 * the one error type every hook failure becomes. A HookError message is safe
 * to log: it never carries a password, the environment or a request body.
 */

/** SFTPGo's hook names (command.commands[].hook). */
export type HookName =
  | 'fs_actions' | 'provider_actions' | 'startup' | 'post_connect' | 'post_disconnect'
  | 'check_password' | 'pre_login' | 'post_login' | 'external_auth' | 'keyboard_interactive';

export const HOOK_NAMES: readonly HookName[] = [
  'fs_actions', 'provider_actions', 'startup', 'post_connect', 'post_disconnect',
  'check_password', 'pre_login', 'post_login', 'external_auth', 'keyboard_interactive',
];

/** The log sender of each hook, as SFTPGo names them in its log lines. */
export const HOOK_SENDER: Record<HookName, string> = {
  fs_actions: 'fs_actions_hook',
  provider_actions: 'provider_actions_hook',
  startup: 'startup_hook',
  post_connect: 'post_connect_hook',
  post_disconnect: 'post_disconnect_hook',
  check_password: 'check_password_hook',
  pre_login: 'pre_login_hook',
  post_login: 'post_login_hook',
  external_auth: 'external_auth_hook',
  keyboard_interactive: 'keyboard_interactive_auth_hook',
};

/** SFTPGo: a hook value starting with "http" is a URL, anything else must be an absolute program path. */
export type HookTarget = { kind: 'http'; url: string } | { kind: 'program'; path: string };

export type HookFailure =
  | 'timeout' | 'exit' | 'spawn' | 'output-too-large' | 'bad-json' | 'bad-response'
  | 'http-status' | 'http-error' | 'invalid-hook';

export class HookError extends Error {
  constructor(readonly hook: HookName, readonly failure: HookFailure, message: string) {
    super(message);
    this.name = 'HookError';
  }
}

/** SFTPGo reads at most 1 MiB of a hook response (maxHookResponseSize). */
export const MAX_HOOK_RESPONSE_BYTES = 1024 * 1024;

/** Login protocols as hooks see them (SFTPGO_*_PROTOCOL). */
export type HookProtocol = 'SSH' | 'FTP' | 'DAV' | 'HTTP' | 'OIDC' | 'HTTPShare' | 'SFTP' | 'SCP';

/** SFTPGo treats exactly "", "\n" and "\r\n" as an empty answer; any other whitespace is parsed (and fails). */
export function isEmptyResponse(body: Buffer): boolean {
  const s = body.toString('utf8');
  return s === '' || s === '\n' || s === '\r\n';
}
