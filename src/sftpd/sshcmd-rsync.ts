/**
 * rsync over SSH: only the `--server` form a client sends, with an argument
 * allow-list (SFTPGo's accepted long options; short flags checked one by one so
 * that -L, -k and -K, which make the server follow links out of the tree, are
 * refused), then `--munge-links` forced so no symlink rsync creates can be
 * followed. Debian ships no rrsync here, hence the list.
 */

/** rsync --server [--sender] -<flags>e.<caps> [accepted options] . <path> */
const ACCEPTED_LONG = new Set([
  '--existing', '--ignore-existing', '--remove-source-files', '--delete', '--delete-before', '--delete-during',
  '--delete-delay', '--delete-after', '--delete-excluded', '--ignore-errors', '--force', '--partial',
  '--delay-updates', '--size-only', '--blocking-io', '--stats', '--progress', '--list-only', '--dry-run',
  '--munge-links', '--safe-links', '--inplace', '--append', '--numeric-ids', '--checksum', '--sparse',
]);

/** Options with a value: the value may only be a number or a plain word, never a path or a program. */
const ACCEPTED_VALUED: readonly RegExp[] = [
  /^--bwlimit=\d+(\.\d+)?[KMGkmg]?$/, /^--timeout=\d+$/, /^--modify-window=-?\d+$/, /^--(max|min)-size=\d+(\.\d+)?[KMGkmg]?$/,
  /^--compress-level=\d$/, /^--(checksum|compress)-choice=[a-z0-9,]+$/, /^--log-format=[%A-Za-z ]*$/,
];
const isAccepted = (arg: string): boolean => ACCEPTED_LONG.has(arg) || ACCEPTED_VALUED.some((re) => re.test(arg));

/**
 * Short flags a client may pass to the server. Left out on purpose: L (copy
 * links), k (copy dirlinks), K (keep dirlinks), and anything that names
 * another program or file (the long forms are not in ACCEPTED_LONG either).
 */
const ACCEPTED_SHORT = new Set('vqrlptgoDdcuznSHIWOJmhix'.split(''));

export interface RsyncCommand {
  /** arguments before the path, with --munge-links added */
  options: string[];
  /** the path argument, as the client sent it */
  path: string;
  sender: boolean;
}

function checkShortFlags(arg: string): boolean {
  if (!arg.startsWith('-') || arg.startsWith('--')) return false;
  const e = arg.indexOf('e.');
  if (e < 0 || arg.endsWith('e.')) return false;
  // after "e." come protocol capability letters (where "L" means symlink times), not options
  const caps = arg.slice(e + 2);
  if (!/^[A-Za-z]+$/.test(caps)) return false;
  for (const c of arg.slice(1, e)) if (!ACCEPTED_SHORT.has(c)) return false;
  return true;
}

/** Parses the arguments after `rsync`; throws with the reason when refused. */
export function parseRsyncArgs(args: readonly string[]): RsyncCommand {
  const refuse = (why: string): never => { throw new Error(`invalid or unsupported rsync command: ${why}`); };
  let i = 0;
  if (args[i] !== '--server') refuse('only the --server form is accepted');
  i++;
  const sender = args[i] === '--sender';
  if (sender) i++;
  const flags = args[i];
  if (flags === undefined || !checkShortFlags(flags)) refuse(`flags ${JSON.stringify(flags ?? '')} are not accepted`);
  i++;
  const options = ['--server', ...(sender ? ['--sender'] : []), flags!];
  for (; i < args.length && args[i] !== '.'; i++) {
    if (!isAccepted(args[i]!)) refuse(`option ${JSON.stringify(args[i]!)} is not accepted`);
    if (!options.includes(args[i]!)) options.push(args[i]!);
  }
  if (args[i] !== '.') refuse('missing "."');
  // one path only: several sources could not be confined and checked one by one
  if (args.length !== i + 2) refuse('exactly one path is accepted');
  const p = args[i + 1]!;
  if (p === '') refuse('empty path');
  // the server-side rsync would expand them after our realpath check: "/o*/" could become a symlink's target
  if (/[*?[]/.test(p)) refuse('wildcards in the path are not accepted');
  // --safe-links is the client's wish; --munge-links makes every stored symlink inert, whatever it says.
  // --no-super: a server running as root must not give files the client's owners or create devices;
  // --chmod=ugo-s: nor keep setuid/setgid bits. Both act on the server only: the protocol is unchanged.
  for (const forced of ['--munge-links', '--no-super', '--chmod=ugo-s']) if (!options.includes(forced)) options.push(forced);
  return { options: [...options, '.'], path: p, sender };
}
