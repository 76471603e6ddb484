/**
 * Runtime validators for everything that crosses the UI/host boundary. The renderer is untrusted
 * (Electron security checklist #17: validate the sender and the arguments of every IPC message),
 * so each command's arguments are checked here before any handler runs.
 *
 * A validator is a function that returns the value narrowed to its type or a path-qualified error.
 */
import { jidProblem, type JidShape } from './jidRules.ts';

export type Check<T> = (value: unknown, path: string) => { ok: true; value: T } | { ok: false; error: string };
export type Infer<C> = C extends Check<infer T> ? T : never;

const fail = (path: string, what: string) => ({ ok: false as const, error: `${path || 'argument'} ${what}` });

export function string(opts: { min?: number; max: number; pattern?: RegExp }): Check<string> {
  return (value, path) => {
    if (typeof value !== 'string') return fail(path, 'must be a string');
    if (value.length < (opts.min ?? 0)) return fail(path, `must have at least ${opts.min} characters`);
    if (value.length > opts.max) return fail(path, `must have at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(value)) return fail(path, 'has an invalid format');
    return { ok: true, value };
  };
}

export function integer(opts: { min: number; max: number }): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return fail(path, 'must be an integer');
    if (value < opts.min || value > opts.max) return fail(path, `must be between ${opts.min} and ${opts.max}`);
    return { ok: true, value };
  };
}

export const boolean: Check<boolean> = (value, path) =>
  typeof value === 'boolean' ? { ok: true, value } : fail(path, 'must be true or false');

export function literal<const T extends readonly string[]>(...options: T): Check<T[number]> {
  return (value, path) =>
    typeof value === 'string' && (options as readonly string[]).includes(value)
      ? { ok: true, value: value as T[number] }
      : fail(path, `must be one of ${options.join(', ')}`);
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? { ok: true, value: undefined } : check(value, path));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? { ok: true, value: null } : check(value, path));
}

export function array<T>(check: Check<T>, opts: { max: number }): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return fail(path, 'must be a list');
    if (value.length > opts.max) return fail(path, `must have at most ${opts.max} entries`);
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = check(value[i], `${path}[${i}]`);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  };
}

type Shape = Record<string, Check<unknown>>;
type ObjectOf<S extends Shape> = { [K in keyof S as undefined extends Infer<S[K]> ? never : K]: Infer<S[K]> } & {
  [K in keyof S as undefined extends Infer<S[K]> ? K : never]?: Infer<S[K]>;
};

/** An object with exactly these keys: unknown keys are refused, not ignored. */
export function object<S extends Shape>(shape: S): Check<{ [K in keyof ObjectOf<S>]: ObjectOf<S>[K] }> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, 'must be an object');
    const input = value as Record<string, unknown>;
    for (const key of Object.keys(input)) {
      if (!Object.hasOwn(shape, key)) return fail(path ? `${path}.${key}` : key, 'is not expected');
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const r = check(input[key], path ? `${path}.${key}` : key);
      if (!r.ok) return r;
      if (r.value !== undefined) out[key] = r.value;
    }
    return { ok: true, value: out as never };
  };
}

/** A string that is a JID of `shape` by the rules of RFC 7622 (`jidRules.ts`); the value is kept as typed. */
export function jid(shape: JidShape): Check<string> {
  const text = string({ min: 1, max: 3071 });
  return (value, path) => {
    const r = text(value, path);
    if (!r.ok) return r;
    const problem = jidProblem(r.value, shape);
    return problem === null ? r : fail(path, `is not a valid XMPP address: it ${problem}`);
  };
}

/** A bare JID (localpart@domain) as typed by a person: an account. */
export const bareJid = jid({ localpart: 'required', resource: 'forbidden' });
/** A bare or domain JID of a contact. */
export const contactJid = jid({ localpart: 'optional', resource: 'forbidden' });
/** HOST:PORT of a DNS resolver. */
export const hostPort = string({ min: 3, max: 300, pattern: /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/ });
export const id = string({ min: 1, max: 128, pattern: /^[A-Za-z0-9_.:-]+$/ });
