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
/** an HTTP hook or a plugin cannot keep a client in an endless dialogue */
const MAX_STEPS = 50;

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

/** One answer of the dialogue: SFTPGo's KeyboardAuthResponse. */
export interface KiRound { instruction: string; questions: string[]; echos: boolean[]; checkPassword: number; authResult: number }

function parseRound(line: Buffer | string): KiRound {
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

/** How a dialogue failure is reported (the hook's HookError, the auth plugin's own error). */
export type KiFailure = (message: string) => Error;

const hookFailure: KiFailure = (message) => new HookError(HOOK, 'bad-response', `${SENDER}: ${message}`);

/** SFTPGo KeyboardAuthResponse.Validate, applied when auth_result is 0. */
function validateRound(r: KiRound, fail: KiFailure): void {
  if (r.questions.length === 0) throw fail('the response does not contain questions');
  if (r.questions.length !== r.echos.length) throw fail(`${r.questions.length} questions but ${r.echos.length} echos`);
}

/** Asks the client and applies check_password; the answers returned are what the hook receives. */
async function answerRound(ctx: KiContext, r: KiRound, fail: KiFailure): Promise<string[]> {
  const answers = await ctx.challenge(r.instruction, r.questions, r.echos);
  if (answers.length !== r.questions.length) throw fail(`the client sent ${answers.length} answers to ${r.questions.length} questions`);
  if (answers.length === 1 && r.checkPassword > 0) {
    if (r.checkPassword === 2) {
      if (!ctx.checkTotp) throw fail('TOTP check requested but TOTP is not enabled for SSH for this user');
      if (!(await ctx.checkTotp(answers[0] ?? ''))) throw fail('invalid TOTP passcode');
    } else if (!(await ctx.checkPassword(answers[0] ?? ''))) {
      throw fail('the password check it asked for failed');
    }
    return ['OK'];
  }
  return answers;
}

/** One request of a step dialogue (SFTPGo KeyboardAuthRequest): the HTTP hook's JSON body, the auth plugin's message. */
export interface KiStepRequest {
  requestId: string;
  step: number;
  username: string;
  /** sent with the first step only, as SFTPGo does */
  ip?: string;
  /** the stored password hash */
  password: string;
  answers?: string[];
  questions?: string[];
}

/**
 * SFTPGo's step dialogue (HTTP hook, auth plugin): step 1 carries the user
 * and IP, every later step the previous questions and the client's answers,
 * until a non-zero auth_result. Bounded in steps; the caller bounds it in time.
 */
export async function runKeyboardSteps(send: (req: KiStepRequest) => Promise<KiRound>, ctx: KiContext, fail: KiFailure): Promise<number> {
  const requestId = randomBytes(10).toString('hex');
  const base = { requestId, username: ctx.user.username, password: ctx.user.password ?? '' };
  let req: KiStepRequest = { ...base, step: 1, ip: ctx.ip };
  for (let step = 1; step <= MAX_STEPS; step++) {
    const round = await send(req);
    if (round.authResult !== 0) return round.authResult;
    validateRound(round, fail);
    const answers = await answerRound(ctx, round, fail);
    req = { ...base, step: step + 1, answers, questions: round.questions };
  }
  throw fail(`no auth_result after ${MAX_STEPS} steps`);
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
      validateRound(round, hookFailure);
      const answers = await Promise.race([answerRound(ctx, round, hookFailure), killed]);
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

function runHttp(ex: HookExecutor, url: string, ctx: KiContext): Promise<number> {
  return runKeyboardSteps(async (req) => {
    const json: Record<string, unknown> = {
      request_id: req.requestId, step: req.step, username: req.username, ip: req.ip, password: req.password,
      answers: req.answers, questions: req.questions,
    };
    const body = JSON.stringify(Object.fromEntries(Object.entries(json).filter(([, v]) => v !== '' && v !== undefined)));
    const res = await ex.deps.http.send({ hook: HOOK, method: 'POST', url, body, retry: false });
    if (res.status !== 200) throw new HookError(HOOK, 'http-status', `${SENDER}: HTTP status ${res.status}, expected 200`);
    return parseRound(res.body);
  }, ctx, hookFailure);
}

export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error = () => new HookError(HOOK, 'timeout', `${SENDER}: no result within ${ms / 1000} s`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
