/**
 * `sftpgo gen completion bash|zsh|fish`: shell completion scripts generated
 * from the command table, so a new command or flag is completed without
 * touching this file. Flags that take a path complete files or directories.
 */
import type { CommandTable, FlagSpec } from './args';

/** Subcommands of `gen`, completed like the top-level commands. */
export const GEN_SUBCOMMANDS: CommandTable = {
  completion: { summary: 'Generate the autocompletion script for bash, zsh or fish', flags: [] },
  man: { summary: 'Generate man pages for sftpgo', flags: [{ name: 'dir', short: 'd', type: 'string', default: 'man', help: 'the directory to write the man pages' }] },
};
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const DIR_FLAGS = new Set(['config-dir', 'directory', 'dir']);
const FILE_FLAGS = new Set(['config-file', 'log-file-path', 'loaddata-from']);

function takesValue(f: FlagSpec): boolean {
  return f.type !== 'bool';
}

function flagWords(flags: FlagSpec[]): string {
  return flags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]).join(' ');
}

function bashFlagPattern(flags: FlagSpec[]): string {
  return flags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]).join('|');
}

function bash(commands: CommandTable): string {
  const all = Object.values(commands).flatMap((c) => c.flags).concat(GEN_SUBCOMMANDS.man.flags);
  const unique = [...new Map(all.map((f) => [f.name, f])).values()];
  const dirs = unique.filter((f) => DIR_FLAGS.has(f.name));
  const files = unique.filter((f) => FILE_FLAGS.has(f.name));
  const values = unique.filter((f) => takesValue(f) && !DIR_FLAGS.has(f.name) && !FILE_FLAGS.has(f.name));
  const cases = Object.entries(commands)
    .map(([name, c]) => `    ${name}) words="${flagWords(c.flags)} --help -h" ;;`)
    .join('\n');
  return `# bash completion for sftpgo (sftpgo gen completion bash)
_sftpgo() {
  local cur prev cmd words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${Object.keys(commands).join(' ')} gen help --help --version" -- "$cur") )
    return 0
  fi
  cmd="\${COMP_WORDS[1]}"
  if [[ $cmd == gen ]]; then
    if [[ $COMP_CWORD -eq 2 ]]; then
      COMPREPLY=( $(compgen -W "${Object.keys(GEN_SUBCOMMANDS).join(' ')}" -- "$cur") )
    elif [[ \${COMP_WORDS[2]} == completion && $COMP_CWORD -eq 3 ]]; then
      COMPREPLY=( $(compgen -W "${SHELLS.join(' ')}" -- "$cur") )
    elif [[ \${COMP_WORDS[2]} == man ]]; then
      case "$prev" in
        -d|--dir) COMPREPLY=( $(compgen -d -- "$cur") ) ;;
        *) COMPREPLY=( $(compgen -W "--dir -d" -- "$cur") ) ;;
      esac
    fi
    return 0
  fi
  case "$prev" in
${dirs.length > 0 ? `    ${bashFlagPattern(dirs)}) COMPREPLY=( $(compgen -d -- "$cur") ); return 0 ;;\n` : ''}${files.length > 0 ? `    ${bashFlagPattern(files)}) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;\n` : ''}${values.length > 0 ? `    ${bashFlagPattern(values)}) return 0 ;;\n` : ''}  esac
  case "$cmd" in
${cases}
    *) return 0 ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  return 0
}
complete -F _sftpgo sftpgo
`;
}

/** zsh `_arguments` specs: single-quoted, with the characters _arguments treats specially escaped. */
function zshQuote(s: string): string {
  return s.replace(/'/g, "'\\''");
}

function zshHelp(s: string): string {
  return s.replace(/[[\]]/g, (c) => (c === '[' ? '(' : ')')).replace(/:/g, '\\:');
}

function zshSpec(f: FlagSpec): string {
  const action = DIR_FLAGS.has(f.name) ? ':directory:_files -/' : FILE_FLAGS.has(f.name) ? ':file:_files' : takesValue(f) ? ':value: ' : '';
  const repeat = f.type === 'list' ? '*' : '';
  const body = `[${zshHelp(f.help)}]${action}`;
  if (f.short && !repeat) return `'(-${f.short} --${f.name})'{-${f.short},--${f.name}}'${zshQuote(body)}'`;
  if (f.short) return `'${repeat}-${f.short}${zshQuote(body)}' '${repeat}--${f.name}${zshQuote(body)}'`;
  return `'${repeat}--${f.name}${zshQuote(body)}'`;
}

function zsh(commands: CommandTable): string {
  const describe = (t: CommandTable): string => Object.entries(t).map(([n, c]) => `'${n}:${zshQuote(zshHelp(c.summary))}'`).join(' ');
  const cases = Object.entries(commands)
    .map(([name, c]) => `    ${name})\n      _arguments -s ${[...c.flags.map(zshSpec), "'(- *)'{-h,--help}'[help]'"].join(' \\\n        ')}\n      ;;`)
    .join('\n');
  return `#compdef sftpgo
# zsh completion for sftpgo (sftpgo gen completion zsh)
_sftpgo() {
  local -a commands gencmds
  commands=(${describe(commands)} 'gen:Generate shell completion scripts and man pages')
  gencmds=(${describe(GEN_SUBCOMMANDS)})
  if (( CURRENT == 2 )); then
    _describe -t commands 'sftpgo command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
    gen)
      if (( CURRENT == 2 )); then
        _describe -t commands 'gen command' gencmds
      elif [[ \${words[2]} == completion ]]; then
        (( CURRENT == 3 )) && compadd ${SHELLS.join(' ')}
      elif [[ \${words[2]} == man ]]; then
        shift words
        (( CURRENT-- ))
        _arguments -s ${zshSpec(GEN_SUBCOMMANDS.man.flags[0])}
      fi
      ;;
${cases}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _sftpgo "$@"
else
  compdef _sftpgo sftpgo
fi
`;
}

function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(commands: CommandTable): string {
  const lines = [
    '# fish completion for sftpgo (sftpgo gen completion fish)',
    'complete -c sftpgo -f',
    `complete -c sftpgo -n __fish_use_subcommand -a gen -d ${fishQuote('Generate shell completion scripts and man pages')}`,
  ];
  for (const [name, c] of Object.entries(commands)) {
    lines.push(`complete -c sftpgo -n __fish_use_subcommand -a ${name} -d ${fishQuote(c.summary)}`);
    for (const f of c.flags) {
      const short = f.short ? ` -s ${f.short}` : '';
      const value = DIR_FLAGS.has(f.name) ? " -r -a '(__fish_complete_directories)'" : FILE_FLAGS.has(f.name) ? ' -r -F' : takesValue(f) ? ' -r' : '';
      lines.push(`complete -c sftpgo -n '__fish_seen_subcommand_from ${name}' -l ${f.name}${short}${value} -d ${fishQuote(f.help)}`);
    }
  }
  for (const [name, c] of Object.entries(GEN_SUBCOMMANDS)) {
    lines.push(`complete -c sftpgo -n '__fish_seen_subcommand_from gen; and not __fish_seen_subcommand_from ${Object.keys(GEN_SUBCOMMANDS).join(' ')}' -a ${name} -d ${fishQuote(c.summary)}`);
  }
  lines.push(`complete -c sftpgo -n '__fish_seen_subcommand_from completion; and not __fish_seen_subcommand_from ${SHELLS.join(' ')}' -a '${SHELLS.join(' ')}'`);
  lines.push("complete -c sftpgo -n '__fish_seen_subcommand_from man' -l dir -s d -r -a '(__fish_complete_directories)' -d 'the directory to write the man pages'");
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: string, commands: CommandTable): string {
  switch (shell) {
    case 'bash': return bash(commands);
    case 'zsh': return zsh(commands);
    case 'fish': return fish(commands);
    default: throw new Error(`unsupported shell "${shell}": use ${SHELLS.join(', ')}`);
  }
}
