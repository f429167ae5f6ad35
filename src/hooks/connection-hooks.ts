/**
 * common.post_connect_hook, common.post_disconnect_hook and
 * common.startup_hook as SFTPGo runs them (internal/common/common.go).
 * Post-connect gates a new connection: program exit 0 or HTTP 200 accepts,
 * anything else (including an invalid hook, a timeout, an unreachable URL)
 * refuses. Post-disconnect and startup are notifications: they never throw,
 * failures are logged. HTTP forms are GETs with the retrying client.
 */
import { HookExecutor } from './executor';
import { HOOK_SENDER, type HookName } from './types';

/** SFTPGo runs the post-disconnect hook for these protocols only (disconnHookProtocols). */
export const POST_DISCONNECT_PROTOCOLS: readonly string[] = ['SFTP', 'SCP', 'SSH', 'FTP'];

/** Resolves true to accept, false to refuse (the reason is logged with the hook's sender). */
export async function checkPostConnect(ex: HookExecutor, target: string, ip: string, protocol: string): Promise<boolean> {
  const hook: HookName = 'post_connect';
  try {
    const answer = await ex.call({
      hook, target,
      vars: { SFTPGO_CONNECTION_IP: ip, SFTPGO_CONNECTION_PROTOCOL: protocol },
      http: { method: 'GET', query: { ip, protocol }, retry: true },
    });
    if (answer.kind === 'http' && answer.response.status !== 200) {
      ex.logger.warn(HOOK_SENDER[hook], `connection from ip "${ip}" denied, post connect hook response code: ${answer.response.status}`, { protocol });
      return false;
    }
    return true;
  } catch (err) {
    ex.logger.warn(HOOK_SENDER[hook], `connection from ip "${ip}" denied: ${(err as Error).message}`, { protocol });
    return false;
  }
}

export interface DisconnectEvent { ip: string; protocol: string; username: string; connectionId: string; durationMs: number }

export async function notifyPostDisconnect(ex: HookExecutor, target: string, e: DisconnectEvent): Promise<void> {
  const hook: HookName = 'post_disconnect';
  if (!POST_DISCONNECT_PROTOCOLS.includes(e.protocol)) return;
  const duration = String(Math.max(0, Math.floor(e.durationMs)));
  const started = Date.now();
  try {
    const answer = await ex.call({
      hook, target,
      vars: {
        SFTPGO_CONNECTION_IP: e.ip, SFTPGO_CONNECTION_USERNAME: e.username,
        SFTPGO_CONNECTION_DURATION: duration, SFTPGO_CONNECTION_PROTOCOL: e.protocol,
      },
      http: { method: 'GET', query: { ip: e.ip, protocol: e.protocol, username: e.username, connection_duration: duration }, retry: true },
    });
    ex.logger.debug(HOOK_SENDER[hook], 'post disconnect hook executed', {
      connection_id: e.connectionId, elapsed_ms: Date.now() - started,
      response_code: answer.kind === 'http' ? answer.response.status : undefined,
    });
  } catch (err) {
    ex.logger.warn(HOOK_SENDER[hook], `post disconnect hook failed: ${(err as Error).message}`, { connection_id: e.connectionId });
  }
}

/** SFTPGo starts it in the background once services are started; its outcome never stops the server. */
export async function runStartupHook(ex: HookExecutor, target: string): Promise<void> {
  const hook: HookName = 'startup';
  const started = Date.now();
  try {
    const answer = await ex.call({ hook, target, vars: {}, http: { method: 'GET', retry: true } });
    ex.logger.info(HOOK_SENDER[hook], 'startup hook executed', {
      elapsed_ms: Date.now() - started, response_code: answer.kind === 'http' ? answer.response.status : undefined,
    });
  } catch (err) {
    ex.logger.warn(HOOK_SENDER[hook], `startup hook failed: ${(err as Error).message}`);
  }
}
