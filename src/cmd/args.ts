/**
 * A small argv parser (cobra-like): `--name value`, `--name=value`, `-n value`,
 * boolean flags without a value, repeatable string lists. A flag not given
 * on the command line falls back to its SFTPGO_* env var, then its default.
 */
export type FlagType = 'string' | 'int' | 'bool' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  env?: string;
  default: string | number | boolean | string[];
  help: string;
}

export type FlagValues = Record<string, string | number | boolean | string[]>;

/** The commands of the CLI (name → summary and flags): parsing, help, completion and man pages all read it. */
export type CommandTable = Record<string, { summary: string; flags: FlagSpec[] }>;

export class UsageError extends Error {}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function convert(spec: FlagSpec, raw: string, source: string): string | number | boolean {
  if (spec.type === 'int') {
    if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`invalid value "${raw}" for ${source}: must be an integer`);
    return Number(raw.trim());
  }
  if (spec.type === 'bool') {
    if (TRUE.has(raw)) return true;
    if (FALSE.has(raw)) return false;
    throw new UsageError(`invalid value "${raw}" for ${source}: must be true or false`);
  }
  return raw;
}

export function parseFlags(argv: string[], specs: FlagSpec[], env: Record<string, string | undefined>): FlagValues {
  const out: FlagValues = {};
  const given = new Set<string>();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byName.get(name);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const eq = arg.indexOf('=');
      spec = byShort.get(eq >= 0 ? arg.slice(1, eq) : arg.slice(1));
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
    if (!spec) throw new UsageError(`unknown flag: ${arg}`);
    const source = `--${spec.name}`;
    let raw: string;
    if (inline !== undefined) {
      raw = inline;
    } else if (spec.type === 'bool') {
      raw = 'true';
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${source}`);
      raw = argv[++i];
    }
    if (spec.type === 'list') {
      const prev = given.has(spec.name) ? (out[spec.name] as string[]) : [];
      out[spec.name] = [...prev, raw];
    } else {
      out[spec.name] = convert(spec, raw, source);
    }
    given.add(spec.name);
  }
  for (const spec of specs) {
    if (given.has(spec.name)) continue;
    const e = spec.env !== undefined ? env[spec.env] : undefined;
    if (e !== undefined) {
      out[spec.name] = spec.type === 'list' ? e.split(',').filter((s) => s !== '') : convert(spec, e, spec.env as string);
    } else {
      out[spec.name] = spec.default;
    }
  }
  return out;
}

export function usage(command: string, summary: string, specs: FlagSpec[]): string {
  const lines = [summary, '', `Usage:\n  sftpgo ${command} [flags]`, '', 'Flags:'];
  for (const s of specs) {
    const short = s.short ? `-${s.short}, ` : '    ';
    const env = s.env ? ` (env ${s.env})` : '';
    lines.push(`  ${short}--${s.name}  ${s.help}${env}`);
  }
  return lines.join('\n');
}
