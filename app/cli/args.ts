/**
 * A small argument reader for the `quiver` command: flags may repeat (`--ca`) or take two values
 * (`--send <jid> <text>`), which node:util's parseArgs cannot express.
 */
export class UsageError extends Error {
  readonly code = 'usage';
}

export interface FlagSpec {
  /** How many values follow the flag (0 for a switch). */
  arity: 0 | 1 | 2;
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[][]>;
}

export function parseCommandArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[][]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = spec[name];
    if (!flag) throw new UsageError(`unknown option --${name}`);
    const values: string[] = [];
    if (inline !== undefined) {
      if (flag.arity !== 1) throw new UsageError(`--${name} does not take "=value"`);
      values.push(inline);
    } else {
      for (let k = 0; k < flag.arity; k++) {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs ${flag.arity} value${flag.arity > 1 ? 's' : ''}`);
        values.push(value);
      }
    }
    const seen = flags.get(name) ?? [];
    if (seen.length > 0 && !flag.repeat) throw new UsageError(`--${name} may be given only once`);
    seen.push(values);
    flags.set(name, seen);
  }
  return { positionals, flags };
}

export function single(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0]?.[0];
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}
