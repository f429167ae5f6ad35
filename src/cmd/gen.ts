/** `sftpgo gen completion <shell>` and `sftpgo gen man [-d dir]`. */
import { getVersionInfo } from '../service/version';
import { parseFlags, usage, UsageError, type CommandTable } from './args';
import { completionScript, GEN_SUBCOMMANDS, SHELLS } from './gen-completion';
import { writeManPages } from './gen-man';

export function runGen(argv: string[], commands: CommandTable, out: (s: string) => void): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    out(['Generate shell completion scripts and man pages', '', 'Usage:\n  sftpgo gen [command]', '', 'Available Commands:',
      ...Object.entries(GEN_SUBCOMMANDS).map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`)].join('\n'));
    return sub === undefined ? 1 : 0;
  }
  if (sub === 'completion') {
    const [shell, ...extra] = rest;
    if (shell === undefined || shell === '-h' || shell === '--help') {
      out(`${GEN_SUBCOMMANDS.completion.summary}\n\nUsage:\n  sftpgo gen completion ${SHELLS.join('|')}\n\nbash: source <(sftpgo gen completion bash)\nzsh:  sftpgo gen completion zsh > "\${fpath[1]}/_sftpgo"\nfish: sftpgo gen completion fish > ~/.config/fish/completions/sftpgo.fish`);
      return shell === undefined ? 1 : 0;
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unsupported shell "${shell}": use ${SHELLS.join(', ')}`);
    process.stdout.write(completionScript(shell, commands));
    return 0;
  }
  if (sub === 'man') {
    const spec = GEN_SUBCOMMANDS.man;
    if (rest.includes('-h') || rest.includes('--help')) {
      out(usage('gen man', spec.summary, spec.flags));
      return 0;
    }
    const f = parseFlags(rest, spec.flags, {});
    const v = getVersionInfo();
    const date = (v.build_date || new Date().toISOString()).slice(0, 10);
    const dir = String(f.dir);
    const files = writeManPages(dir, commands, { date, source: `SFTPGo-ts ${v.version}` });
    out(`${files.length} man pages written to ${dir}`);
    return 0;
  }
  throw new UsageError(`unknown command "${sub}" for "sftpgo gen"`);
}
