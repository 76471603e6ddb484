/**
 * A small argument reader for the `quiver` command: flags may repeat (`--ca`) or take two values
 * (`--send <jid> <text>`), which node:util's parseArgs cannot express.
 */
import { hostPort } from '../contract/validate.ts';
import { QuiverError } from '../contract/quiverError.ts';

export class UsageError extends QuiverError<'usage'> {
  constructor(message: string, options?: ErrorOptions) {
    super('usage', message, options);
  }
}

export interface FlagSpec {
  /** How many values follow the flag (0 for a switch). */
  arity: 0 | 1 | 2;
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[][]>;
  /** `--help` or `-h` was given (not as the value of another flag): print the usage, nothing else. */
  help: boolean;
}

export function parseCommandArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[][]>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
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
        if (value === undefined)
          throw new UsageError(`--${name} needs ${flag.arity} value${flag.arity > 1 ? 's' : ''}`);
        values.push(value);
      }
    }
    const seen = flags.get(name) ?? [];
    if (seen.length > 0 && !flag.repeat) throw new UsageError(`--${name} may be given only once`);
    seen.push(values);
    flags.set(name, seen);
  }
  return { positionals, flags, help };
}

export function single(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0]?.[0];
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

/**
 * `--resolver HOST:PORT` (a DNS server; the lab's listen on high ports), checked with the
 * contract's `hostPort` validator, the one the app's settings use. Null when absent.
 */
export function resolverFlag(args: ParsedArgs): string | null {
  const value = single(args, 'resolver');
  if (value === undefined) return null;
  const port = Number(value.slice(value.lastIndexOf(':') + 1));
  if (!hostPort(value, '--resolver').ok || !validPort(port))
    throw new UsageError('--resolver must be HOST:PORT, e.g. 127.0.0.1:5353');
  return value;
}

/** `--https-port N` (diagnostic: the port of https:// URLs that name none, as the lab's HTTPS server needs). */
export function httpsPortFlag(args: ParsedArgs): number | undefined {
  const value = single(args, 'https-port');
  if (value === undefined) return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!validPort(port)) throw new UsageError('--https-port takes a port number, 1 to 65535');
  return port;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
