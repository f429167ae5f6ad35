/**
 * sftpd.keyboard_interactive_auth_hook, as SFTPGo runs it.
 * Program: started with SFTPGO_AUTHD_USERNAME, SFTPGO_AUTHD_IP and
 * SFTPGO_AUTHD_PASSWORD (the stored hash); it prints one JSON line per round
 * `{instruction, questions, echos, check_password, auth_result}`, we ask the
 * client and write the answers to its stdin, one per line. HTTP: numbered
 * POST steps `{request_id, step, username, ip, password, answers, questions}`
 * answered with the same JSON as the program's lines. check_password 1 means
 * the single answer is the user's password (verified by the server, the hook
 * gets "OK"), 2 a TOTP code checked by the server. auth_result 1 = success,
 * any other non-zero value = failure. The whole flow has a deadline (60 s
 * unless a `command.commands` entry sets another), after which the program is
 * killed and the login refused.
 */
import { randomBytes } from 'node:crypto';
import type { User } from '../dataprovider/models';
import { parseHookTarget, programSettings } from './command-config';
import { HookExecutor, parseJsonObject } from './executor';
import { startProgram, type StartedProgram } from './program';
import { HOOK_SENDER, HookError, MAX_HOOK_RESPONSE_BYTES, type HookName } from './types';

const HOOK: HookName = 'keyboard_interactive';
const SENDER = HOOK_SENDER[HOOK];
export const KEYBOARD_INTERACTIVE_DEADLINE_MS = 60_000;
/** an HTTP hook cannot keep a client in an endless dialogue */
const MAX_HTTP_STEPS = 50;

export type KiChallenge = (instruction: string, questions: string[], echos: boolean[]) => Promise<string[]>;

export interface KiContext {
  /** the user as stored (its password hash is passed to the hook, as SFTPGo does) */
  user: User;
  ip: string;
  /** asks the SSH client one round of questions */
  challenge: KiChallenge;
  /** check_password 1: the server's full password check (conditions, check-password hook, hash) */
  checkPassword(answer: string): Promise<boolean>;
  /** check_password 2: the user's TOTP; undefined when the user has no TOTP for SSH */
  checkTotp?: (answer: string) => Promise<boolean>;
  /** overrides the 60 s deadline (tests) */
  deadlineMs?: number;
}

interface Round { instruction: string; questions: string[]; echos: boolean[]; checkPassword: number; authResult: number }

function parseRound(line: Buffer | string): Round {
  const o = parseJsonObject(HOOK, Buffer.isBuffer(line) ? line : Buffer.from(line));
  const int = (v: unknown, name: string): number => {
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new HookError(HOOK, 'bad-response', `${SENDER}: "${name}" must be an integer`);
    return v;
  };
  const strs = (v: unknown, name: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HookError(HOOK, 'bad-response', `${SENDER}: "${name}" must be a list of strings`);
    return v as string[];
  };
  const echos = o.echos === undefined || o.echos === null ? [] : o.echos;
  if (!Array.isArray(echos) || !echos.every((x) => typeof x === 'boolean')) throw new HookError(HOOK, 'bad-response', `${SENDER}: "echos" must be a list of booleans`);
  const instruction = o.instruction ?? '';
  if (typeof instruction !== 'string') throw new HookError(HOOK, 'bad-response', `${SENDER}: "instruction" must be a string`);
  return {
    instruction, questions: strs(o.questions, 'questions'), echos: echos as boolean[],
    checkPassword: int(o.check_password, 'check_password'), authResult: int(o.auth_result, 'auth_result'),
  };
}

/** SFTPGo KeyboardAuthResponse.Validate, applied when auth_result is 0. */
function validateRound(r: Round): void {
  if (r.questions.length === 0) throw new HookError(HOOK, 'bad-response', `${SENDER}: the response does not contain questions`);
  if (r.questions.length !== r.echos.length) {
    throw new HookError(HOOK, 'bad-response', `${SENDER}: ${r.questions.length} questions but ${r.echos.length} echos`);
  }
}

/** Asks the client and applies check_password; the answers returned are what the hook receives. */
async function answerRound(ctx: KiContext, r: Round): Promise<string[]> {
  const answers = await ctx.challenge(r.instruction, r.questions, r.echos);
  if (answers.length !== r.questions.length) {
    throw new HookError(HOOK, 'bad-response', `${SENDER}: the client sent ${answers.length} answers to ${r.questions.length} questions`);
  }
  if (answers.length === 1 && r.checkPassword > 0) {
    if (r.checkPassword === 2) {
      if (!ctx.checkTotp) throw new HookError(HOOK, 'bad-response', `${SENDER}: TOTP check requested but TOTP is not enabled for SSH for this user`);
      if (!(await ctx.checkTotp(answers[0] ?? ''))) throw new HookError(HOOK, 'bad-response', `${SENDER}: invalid TOTP passcode`);
    } else if (!(await ctx.checkPassword(answers[0] ?? ''))) {
      throw new HookError(HOOK, 'bad-response', `${SENDER}: password check requested by the hook failed`);
    }
    return ['OK'];
  }
  return answers;
}

/** Runs the configured hook; resolves with SFTPGo's auth result (1 = success), rejects with a HookError. */
export async function runKeyboardInteractiveHook(ex: HookExecutor, targetValue: string, ctx: KiContext): Promise<number> {
  const target = parseHookTarget(targetValue);
  if (!target) throw new HookError(HOOK, 'invalid-hook', `${SENDER}: "${targetValue}" is neither an http(s) URL nor an absolute path`);
  if (target.kind === 'http') return withDeadline(runHttp(ex, target.url, ctx), ctx.deadlineMs ?? KEYBOARD_INTERACTIVE_DEADLINE_MS);
  const settings = programSettings(ex.deps.command, target.path, HOOK, ctx.deadlineMs ?? KEYBOARD_INTERACTIVE_DEADLINE_MS);
  const started = startProgram({
    hook: HOOK, program: target.path, settings, logger: ex.logger,
    vars: { SFTPGO_AUTHD_USERNAME: ctx.user.username, SFTPGO_AUTHD_IP: ctx.ip, SFTPGO_AUTHD_PASSWORD: ctx.user.password ?? '' },
  }, true);
  return runProgramDialogue(started, ctx);
}

async function runProgramDialogue(started: StartedProgram, ctx: KiContext): Promise<number> {
  const lines = lineQueue(started);
  // settles only when the program is killed (deadline, abort): a client that never answers cannot hold the login
  const killed = started.done.then(() => new Promise<never>(() => undefined));
  killed.catch(() => undefined);
  try {
    for (;;) {
      const line = await lines.next();
      if (line === undefined) {
        await started.done; // rethrows the deadline/kill error, if that is why stdout closed
        return 0; // the program ended without an auth_result: failure
      }
      if (line.trim() === '') continue;
      const round = parseRound(line);
      if (round.authResult !== 0) return round.authResult;
      validateRound(round);
      const answers = await Promise.race([answerRound(ctx, round), killed]);
      started.child.stdin?.write(answers.map((a) => `${a}\n`).join(''));
    }
  } catch (err) {
    const e = err instanceof HookError ? err : new HookError(HOOK, 'bad-response', `${SENDER}: ${(err as Error).message}`);
    started.abort('bad-response', e.message);
    throw e;
  } finally {
    started.child.stdin?.end();
    started.done.catch(() => undefined);
  }
}

/** Splits the program's stdout into lines, each at most 1 MiB (a longer one kills the program). */
function lineQueue(started: StartedProgram): { next(): Promise<string | undefined> } {
  const ready: string[] = [];
  let closed = false;
  let waiter: (() => void) | undefined;
  let pending = '';
  const wake = (): void => { const w = waiter; waiter = undefined; w?.(); };
  const out = started.child.stdout;
  out?.setEncoding('utf8');
  out?.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    if (pending.length > MAX_HOOK_RESPONSE_BYTES) {
      started.abort('output-too-large', `a line longer than ${MAX_HOOK_RESPONSE_BYTES} bytes, killed`);
      pending = '';
    }
    ready.push(...parts.map((p) => p.replace(/\r$/, '')));
    wake();
  });
  const close = (): void => {
    if (closed) return;
    if (pending !== '') ready.push(pending);
    pending = '';
    closed = true;
    wake();
  };
  out?.on('end', close);
  out?.on('close', close);
  return {
    async next(): Promise<string | undefined> {
      for (;;) {
        const l = ready.shift();
        if (l !== undefined) return l;
        if (closed) return undefined;
        await new Promise<void>((r) => { waiter = r; });
      }
    },
  };
}

async function runHttp(ex: HookExecutor, url: string, ctx: KiContext): Promise<number> {
  const requestId = randomBytes(10).toString('hex');
  let req: Record<string, unknown> = {
    request_id: requestId, step: 1, username: ctx.user.username, ip: ctx.ip, password: ctx.user.password ?? '',
  };
  for (let step = 1; step <= MAX_HTTP_STEPS; step++) {
    const body = JSON.stringify(Object.fromEntries(Object.entries(req).filter(([, v]) => v !== '' && v !== undefined)));
    const res = await ex.deps.http.send({ hook: HOOK, method: 'POST', url, body, retry: false });
    if (res.status !== 200) throw new HookError(HOOK, 'http-status', `${SENDER}: HTTP status ${res.status}, expected 200`);
    const round = parseRound(res.body);
    if (round.authResult !== 0) return round.authResult;
    validateRound(round);
    const answers = await answerRound(ctx, round);
    // SFTPGo sends the ip only with the first step
    req = { request_id: requestId, step: step + 1, username: ctx.user.username, password: ctx.user.password ?? '', answers, questions: round.questions };
  }
  throw new HookError(HOOK, 'bad-response', `${SENDER}: no auth_result after ${MAX_HTTP_STEPS} steps`);
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HookError(HOOK, 'timeout', `${SENDER}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
