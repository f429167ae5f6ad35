#!/usr/bin/env -S node --max-semi-space-size=4 --no-memory-reducer --initial-old-space-size=128
/**
 * The `sftpgo` command line: serve, portable, initprovider, resetprovider,
 * revertprovider, resetpwd, smtptest, importusers, ping, gen (completion, man), version. Errors are one line on stderr and a non-zero exit code.
 */
// Each command's module is loaded when that command runs (src/util/lazy.ts has
// the rule): `--version`, `--help`, `gen` and `ping` never load the server,
// its storage SDKs or database drivers. Only light modules are imported here.
import { ConfigError, loadConfig, readEnvDir } from '../config';
import { getVersionInfo, versionString } from '../service/version';
import { parseFlags, usage, UsageError, type CommandTable, type FlagSpec } from './args';
import { configFlags, logFlags, runtimeFrom, serveExtraFlags } from './runtime';
import { healthzUrl, ping } from './ping';
import { secretReader } from './prompt';
import { runGen } from './gen';
import { importUsersFlags } from './importusers-flags';
import { PORTABLE_FLAGS, portableOptions } from './portable-flags';

/**
 * Loads a command module that builds the service (and so ssh2): the padding
 * pool goes first, since it must run before anything loads ssh2 (see
 * ../sftpd/ssh2-padding).
 */
function withSsh2Padding<T>(load: () => T): T {
  require('../sftpd/ssh2-padding');
  return load();
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

const serveFlags = [...configFlags, ...logFlags('sftpgo.log'), ...serveExtraFlags];
const providerFlags = [...configFlags, ...logFlags('sftpgo.log')];
const pingFlags = [...configFlags];
const resetFlags: FlagSpec[] = [...providerFlags, { name: 'force', type: 'bool', default: false, help: 'confirm that all data is deleted' }];
const revertFlags: FlagSpec[] = [...providerFlags,
  { name: 'to-version', type: 'int', default: -1, help: 'schema version to go back to; -1 = one version back' }];
const resetPwdFlags: FlagSpec[] = [...configFlags, { name: 'admin', type: 'string', default: '', help: 'administrator username whose password to reset (required)' }];
const smtpTestFlags: FlagSpec[] = [...configFlags, { name: 'recipient', type: 'string', default: '', help: 'email address to send the test e-mail to (required)' }];

const COMMANDS: CommandTable = {
  serve: { summary: 'Start the SFTPGo service', flags: serveFlags },
  portable: { summary: 'Serve a single directory/account', flags: PORTABLE_FLAGS },
  initprovider: { summary: 'Initialize and/or update the configured data provider', flags: providerFlags },
  resetprovider: { summary: 'Reset the configured data provider, any data will be lost', flags: resetFlags },
  revertprovider: { summary: 'Revert the configured data provider to a previous version', flags: revertFlags },
  resetpwd: { summary: 'Reset the password for the specified administrator', flags: resetPwdFlags },
  smtptest: { summary: 'Test the SMTP configuration', flags: smtpTestFlags },
  importusers: { summary: 'Import Linux users (/etc/passwd and /etc/shadow) through the REST API', flags: importUsersFlags },
  ping: { summary: 'Check the health of the running service (GET /healthz)', flags: pingFlags },
  version: { summary: 'Print version information', flags: [] },
};

function topUsage(): string {
  const lines = ['Usage:\n  sftpgo [command]', '', 'Available Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  lines.push(`  ${'gen'.padEnd(14)} Generate shell completion scripts (gen completion bash|zsh|fish) and man pages (gen man)`);
  lines.push('', 'Flags:\n  -h, --help      help for sftpgo\n  -v, --version   version for sftpgo');
  return lines.join('\n');
}

/**
 * SFTPGo loads `<config dir>/env.d/*.env` into the process environment
 * without overriding variables already set, so hooks and
 * SFTPGO_DEFAULT_ADMIN_* see them too.
 */
function applyEnvDir(configDir: string): void {
  for (const [k, v] of Object.entries(readEnvDir(configDir, () => undefined))) {
    if (process.env[k] === undefined) process.env[k] = v;
  }
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    out(topUsage());
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '-v' || cmd === '--version' || cmd === 'version') {
    const v = getVersionInfo();
    out(`SFTPGo-ts ${versionString(v)}`);
    return 0;
  }
  if (cmd === 'gen') return runGen(rest, COMMANDS, out);
  const spec = COMMANDS[cmd];
  if (!spec) throw new UsageError(`unknown command "${cmd}" for "sftpgo"`);
  if (rest.includes('-h') || rest.includes('--help')) {
    out(usage(cmd, spec.summary, spec.flags));
    return 0;
  }
  const f = parseFlags(rest, spec.flags, process.env);
  if (cmd !== 'portable' && f['config-dir'] !== undefined) applyEnvDir(String(f['config-dir'] ?? '.'));
  switch (cmd) {
    case 'serve': {
      const { serve } = withSsh2Padding(() => require('./serve') as typeof import('./serve'));
      return serve(runtimeFrom(f));
    }
    case 'initprovider': {
      const { initProvider } = withSsh2Padding(() => require('./provider') as typeof import('./provider'));
      return initProvider(runtimeFrom(f), out);
    }
    case 'resetprovider': {
      const { resetProvider } = withSsh2Padding(() => require('./provider') as typeof import('./provider'));
      return resetProvider(runtimeFrom(f), f.force === true, out);
    }
    case 'revertprovider': {
      const { revertProvider } = withSsh2Padding(() => require('./provider') as typeof import('./provider'));
      return revertProvider(runtimeFrom(f), Number(f['to-version']), out);
    }
    case 'resetpwd': {
      const { resetAdminPassword } = withSsh2Padding(() => require('./resetpwd') as typeof import('./resetpwd'));
      return resetAdminPassword(runtimeFrom({ ...f, 'log-file-path': '', 'log-level': 'info' }), String(f.admin), secretReader(), out);
    }
    case 'smtptest': {
      const { smtpTest } = require('./smtptest') as typeof import('./smtptest');
      return smtpTest(runtimeFrom(f), String(f.recipient), out, (s) => process.stderr.write(`${s}\n`));
    }
    case 'importusers': {
      const { importUsers } = require('./importusers') as typeof import('./importusers');
      return importUsers(f, secretReader(process.stdin, process.stderr), out);
    }
    case 'ping': {
      const rt = runtimeFrom(f);
      const url = healthzUrl(loadConfig({ configDir: rt.configDir, configFile: rt.configFile }));
      await ping(url);
      out('OK');
      return 0;
    }
    case 'portable': {
      const options = portableOptions(f);
      const { portable } = withSsh2Padding(() => require('./portable') as typeof import('./portable'));
      return portable(options, out);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const prefix = e instanceof ConfigError ? 'configuration error' : e instanceof UsageError ? 'usage error' : 'error';
    process.stderr.write(`sftpgo: ${prefix}: ${e.message.split('\n')[0]}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
