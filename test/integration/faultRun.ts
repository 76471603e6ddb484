/**
 * The fault tests' harness (issue 12 "Fault tests", test/integration/faults.test.ts): two
 * `quiver connect` processes per conversation, alice and bob (a pair of fault accounts of the lab,
 * fresh per conversation) on one lab domain, each with its own
 * `--db`, each sending a numbered file to the other (`--send-file FILE --to JID`, which exits 0
 * once the server acknowledged every line) while expecting the other's count (`--expect N`, one
 * JSON line `{type:'message', from, body}` per distinct incoming message), while a test breaks
 * something in between. Then, per direction, from the receiver's JSON lines (every run of it) and
 * from its SQLite database: what was lost, duplicated, reordered.
 *
 * Bodies are `<tag> <from>><to> <nnn>` with a tag fresh per conversation, so messages of an
 * earlier conversation (archives, offline storage) never count in a later one.
 *
 * A process may run inside a network namespace (`ns`): it is spawned with `ip netns exec` and
 * dials 127.0.0.1 as the lab's DNS tells it; see test/netns/loopbackBridge.ts for how that
 * reaches the lab in the root namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import Sqlite from 'better-sqlite3';
import type { LabState } from '../support/lab.ts';
import type { NetNamespace } from '../netns/netNamespace.ts';

/** The real `quiver` command. */
export const QUIVER_MAIN = fileURLToPath(new URL('../../app/cli/main.ts', import.meta.url));

/** Messages per direction in every scenario. */
export const MESSAGES = 50;

export type Side = 'alice' | 'bob';

/** One line of `--expect`'s output. */
export interface MessageLine {
  type: 'message';
  from: string;
  body: string;
}

/** What went wrong in one direction; all three 0 is the target. */
export interface Tally {
  /** Sent, never seen at the receiver. */
  lost: number;
  /** Seen more than once (counting every extra copy). */
  duplicated: number;
  /** Seen after a later message of the same sender (first copies only). */
  reordered: number;
}

/** The tally of `received` against `sent` (bodies; anything not in `sent` is ignored). */
export function tally(sent: readonly string[], received: readonly string[]): Tally {
  const index = new Map(sent.map((body, i) => [body, i]));
  const seen = new Set<string>();
  let duplicated = 0;
  let reordered = 0;
  let highest = -1;
  for (const body of received) {
    const i = index.get(body);
    if (i === undefined) continue;
    if (seen.has(body)) {
      duplicated++;
      continue;
    }
    seen.add(body);
    if (i < highest) reordered++;
    highest = Math.max(highest, i);
  }
  return { lost: sent.length - seen.size, duplicated, reordered };
}

/** One `quiver connect` process of a conversation. */
export class CliRun {
  readonly label: string;
  /** Whose process it is, and whether it runs with `--expect` (its message lines are counted). */
  readonly side: Side;
  readonly expects: boolean;
  readonly child: ChildProcess;
  /** Every JSON line on stdout, in order. */
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(label: string, side: Side, expects: boolean, child: ChildProcess) {
    this.label = label;
    this.side = side;
    this.expects = expects;
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.stdout += `${line}\n`;
      if (!line.startsWith('{')) return;
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch (err) {
        this.stderr += `(unparsable stdout line: ${line}: ${String(err)})\n`;
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      child.once('error', (err) => {
        this.stderr += `(spawn failed: ${err.message})\n`;
        this.#exit = { code: null, signal: null };
        resolve(this.#exit);
      });
    });
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.#exit;
  }

  /** The `{type:'message'}` lines. */
  messages(): MessageLine[] {
    return this.lines.filter(
      (l): l is Record<string, unknown> & MessageLine => l.type === 'message' && typeof l.body === 'string',
    );
  }

  /** `kill -9`, and resolves once it is gone. */
  async kill9(): Promise<void> {
    if (this.#exit === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Resolves with the exit, or rejects after `timeoutMs` (then kills it) with what it printed. */
  async finished(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = delay(timeoutMs, 'timeout' as const, { ref: false });
    const result = await Promise.race([this.exited, timer]);
    if (result === 'timeout') {
      await this.kill9();
      throw new Error(`${this.label} did not exit within ${timeoutMs} ms\n${this.describe()}`);
    }
    return result;
  }

  describe(): string {
    const tail = (s: string): string => s.trimEnd().split('\n').slice(-15).join('\n') || '(empty)';
    return `--- ${this.label} (exit ${JSON.stringify(this.#exit)}) stdout:\n${tail(this.stdout)}\n--- stderr:\n${tail(this.stderr)}`;
  }
}

/** Rows of the profile database (`--db`), read-only; [] while the file does not exist yet. */
function query<T>(db: string, sql: string, ...params: unknown[]): T[] | null {
  let handle: Sqlite.Database;
  try {
    handle = new Sqlite(db, { readonly: true, fileMustExist: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') return null; // not created yet
    throw err;
  }
  try {
    handle.pragma('busy_timeout = 2000');
    return handle.prepare(sql).all(...params) as T[];
  } catch (err) {
    // The CLI has not created its tables yet (the file is new).
    if (err instanceof Error && /no such table/.test(err.message)) return null;
    throw err;
  } finally {
    handle.close();
  }
}

/** Incoming bodies in the database, in arrival order (row id). */
/**
 * The incoming messages of `db` in the order a chat shows them (storage's history order: the time
 * each was sent, from its XEP-0203 stamp when it had one, then arrival).
 */
export function incomingBodies(db: string): string[] {
  return (query<{ body: string }>(db, "SELECT body FROM messages WHERE direction = 'in' ORDER BY at, id") ?? []).map(
    (r) => r.body,
  );
}

/** Outgoing messages written to a stream (state sent or beyond), and of those acknowledged by the server. */
export function outgoingProgress(db: string): { written: number; acked: number } {
  const rows = query<{ written: number | null; acked: number | null }>(
    db,
    `SELECT SUM(state IN ('sent', 'acked', 'delivered', 'received')) AS written,
            SUM(state IN ('acked', 'delivered', 'received')) AS acked
       FROM messages WHERE direction = 'out'`,
  );
  return { written: rows?.[0]?.written ?? 0, acked: rows?.[0]?.acked ?? 0 };
}

/** How many outgoing messages the server acknowledged (state acked or beyond). */
export function ackedCount(db: string): number {
  return outgoingProgress(db).acked;
}

export interface ConversationOptions {
  lab: LabState;
  /** For the report line and the temp dir. */
  name: string;
  /** A lab domain with fault accounts (alpha.test: Prosody 0.12; modern.test: Prosody 13). */
  domain: string;
  /**
   * Which pair of fault accounts (`alice-f<pair>`, `bob-f<pair>`; 1..FAULT_PAIRS of
   * test/lab/scenarios.ts): one per conversation, never reused in a lab, so what one scenario
   * leaves on the server (offline messages, archives) cannot count in another.
   */
  pair: number;
  /** `--transport`; absent: auto (TCP on these domains, they have no QUIC record). */
  transport?: 'starttls' | 'tls';
  /** Run the processes inside this namespace (network faults). */
  ns?: NetNamespace;
  /** `--wait-message`: the bound of each run, seconds. */
  waitSeconds: number;
  /** Messages each side's file holds (default MESSAGES). */
  messages?: number;
}

/**
 * One conversation: its files, databases and processes. Start the processes with `start`, break
 * something, wait with `finish`, read `report`. `dispose()` (in a `finally`) kills what still
 * runs and removes the temp dir.
 */
export class Conversation {
  readonly options: ConversationOptions;
  readonly dir: string;
  readonly jid: Record<Side, string>;
  /** The bodies each side sends, in order. */
  readonly bodies: Record<Side, string[]>;
  readonly runs: CliRun[] = [];
  /** Messages each side sends. */
  readonly count: number;
  private readonly files: Record<Side, string>;

  constructor(options: ConversationOptions) {
    this.options = options;
    this.count = options.messages ?? MESSAGES;
    this.dir = mkdtempSync(join(tmpdir(), `quiver-fault-${options.name.replace(/\W+/g, '-')}-`));
    this.jid = { alice: `alice-f${options.pair}@${options.domain}`, bob: `bob-f${options.pair}@${options.domain}` };
    const tag = randomBytes(4).toString('hex');
    const numbered = (from: Side, to: Side): string[] =>
      Array.from({ length: this.count }, (_, i) => `${tag} ${from}>${to} ${String(i + 1).padStart(3, '0')}`);
    this.bodies = { alice: numbered('alice', 'bob'), bob: numbered('bob', 'alice') };
    this.files = { alice: join(this.dir, 'alice-to-bob.txt'), bob: join(this.dir, 'bob-to-alice.txt') };
    for (const side of ['alice', 'bob'] as const) writeFileSync(this.files[side], `${this.bodies[side].join('\n')}\n`);
  }

  /** The database of one process role: `<side>.db`, or `<side>-<role>.db`. */
  db(side: Side, role?: string): string {
    return join(this.dir, role ? `${side}-${role}.db` : `${side}.db`);
  }

  other(side: Side): Side {
    return side === 'alice' ? 'bob' : 'alice';
  }

  /**
   * Starts `quiver connect <side>` with `--db db`, sending its file to the other side (`send`)
   * and/or expecting the other side's MESSAGES (`expect`).
   */
  start(side: Side, opts: { send: boolean; expect: boolean; db?: string; label?: string }): CliRun {
    const { lab } = this.options;
    const password = lab.users[this.jid[side]];
    if (!password) throw new Error(`the lab has no account ${this.jid[side]}`);
    const db = opts.db ?? this.db(side);
    const dataDir = `${db}.d`;
    const args = [
      QUIVER_MAIN,
      'connect',
      this.jid[side],
      '--password-env',
      'QUIVER_FAULT_PASSWORD',
      '--resolver',
      lab.resolver,
      '--ca',
      lab.caFile,
      '--data-dir',
      dataDir,
      '--db',
      db,
      '--json',
      '--wait-message',
      String(this.options.waitSeconds),
    ];
    if (this.options.transport) args.push('--transport', this.options.transport);
    if (opts.send) args.push('--send-file', this.files[side], '--to', this.jid[this.other(side)]);
    if (opts.expect) args.push('--expect', String(this.count));
    const env = { ...process.env, QUIVER_FAULT_PASSWORD: password };
    const child = this.options.ns
      ? this.options.ns.spawn(process.execPath, args, { env })
      : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const label =
      opts.label ?? `${side}${opts.send ? ' send' : ''}${opts.expect ? ' expect' : ''} #${this.runs.length}`;
    const run = new CliRun(label, side, opts.expect, child);
    this.runs.push(run);
    return run;
  }

  /** Both sides, each one process that sends and expects. */
  startBoth(): Record<Side, CliRun> {
    return {
      alice: this.start('alice', { send: true, expect: true }),
      bob: this.start('bob', { send: true, expect: true }),
    };
  }

  /**
   * The moment a fault strikes, from the sender's `db`, polled every 20 ms (the CLI prints no
   * event per acknowledgement): with `midBurst`, once messages were written to the stream and
   * the server has not yet acknowledged them all (written ≥ 1, acked < MESSAGES; the fault then
   * hits messages in flight, which must be resent and must not arrive twice). That moment lasts
   * about one RTT: on a link with 100 ms of RTT several polls see it; on loopback it is gone
   * within a millisecond, so without `midBurst` the fault strikes once the server acknowledged
   * at least one. Rejects when the moment passed unseen or `run` exits first. Resolves with the
   * progress then, as text for the report line.
   */
  async faultPoint(db: string, run: CliRun, midBurst: boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { written, acked } = outgoingProgress(db);
      const text = `${acked}/${this.count} acknowledged, ${written} written`;
      if (midBurst ? written >= 1 && acked < this.count : acked >= 1) return text;
      if (midBurst && acked >= this.count)
        throw new Error(`${this.options.name}: every message was acknowledged before a poll saw one in flight`);
      if (run.exit) throw new Error(`${run.label} exited before the fault point (${text})\n${run.describe()}`);
      if (Date.now() > deadline)
        throw new Error(`${run.label}: no fault point within ${timeoutMs} ms (${text})\n${run.describe()}`);
      await Promise.race([delay(20), run.exited]);
    }
  }

  /** Waits for `runs` to exit within `timeoutMs`; throws unless every one exited 0. */
  async expectClean(runs: readonly CliRun[], timeoutMs: number): Promise<void> {
    const results = await Promise.allSettled(runs.map((r) => r.finished(timeoutMs)));
    const bad = runs.filter((r, i) => results[i]!.status === 'rejected' || r.exit?.code !== 0);
    if (bad.length > 0) {
      throw new Error(
        `${this.options.name}: ${bad.map((r) => `${r.label} exited ${JSON.stringify(r.exit)}`).join('; ')}\n` +
          bad.map((r) => r.describe()).join('\n'),
      );
    }
  }

  /**
   * Per direction: the tally over the receiver's JSON lines (every `--expect` run of the
   * receiver, in start order; a message printed by two runs counts twice: shown twice) and over the
   * receiver's databases (`dbs`, default `<receiver>.db`).
   */
  report(dbs: Partial<Record<Side, string>> = {}): Record<Side, { lines: Tally; db: Tally }> {
    const out = {} as Record<Side, { lines: Tally; db: Tally }>;
    for (const sender of ['alice', 'bob'] as const) {
      const receiver = this.other(sender);
      const fromSender = (m: MessageLine): boolean => m.from.split('/')[0] === this.jid[sender];
      const lines = this.runs
        .filter((r) => r.side === receiver && r.expects)
        .flatMap((r) => r.messages())
        .filter(fromSender)
        .map((m) => m.body);
      out[sender] = {
        lines: tally(this.bodies[sender], lines),
        db: tally(this.bodies[sender], incomingBodies(dbs[receiver] ?? this.db(receiver))),
      };
    }
    return out;
  }

  /**
   * For a failure message: per direction, the numbers of the sender's messages in the order the
   * receiver's `--expect` runs printed them (`|` between runs).
   */
  arrivalOrder(): string {
    return (['alice', 'bob'] as const)
      .map((sender) => {
        const receiver = this.other(sender);
        const runs = this.runs.filter((r) => r.side === receiver && r.expects);
        const numbers = runs.map((r) =>
          r
            .messages()
            .filter((m) => this.bodies[sender].includes(m.body))
            .map((m) => Number(m.body.split(' ').at(-1)))
            .join(' '),
        );
        return `${sender}→${receiver} as printed: ${numbers.join(' | ') || '(nothing)'}`;
      })
      .join('\n');
  }

  /** One line for the log and the closing note: lost, duplicated, reordered, both directions. */
  summary(report: Record<Side, { lines: Tally; db: Tally }>, note = ''): string {
    const part = (sender: Side): string => {
      const { lines, db } = report[sender];
      return (
        `${sender}→${this.other(sender)} lost ${lines.lost}, duplicated ${lines.duplicated}, reordered ${lines.reordered}` +
        ` (db: ${db.lost}/${db.duplicated}/${db.reordered})`
      );
    };
    return `fault ${this.options.name} [${this.options.domain}, ${this.count} each way]: ${part('alice')}; ${part('bob')}${note ? `; ${note}` : ''}`;
  }

  /** Kills what still runs and removes the temp dir (set QUIVER_FAULT_KEEP=1 to keep it). */
  async dispose(): Promise<void> {
    await Promise.all(this.runs.map((r) => r.kill9()));
    if (process.env.QUIVER_FAULT_KEEP === '1') {
      // Each run's output beside its database, for reading a failure afterwards.
      this.runs.forEach((r, i) => {
        writeFileSync(join(this.dir, `run${i}-${r.side}.stdout`), r.stdout);
        writeFileSync(join(this.dir, `run${i}-${r.side}.stderr`), r.stderr);
      });
      console.log(`fault ${this.options.name}: kept ${this.dir}`);
    } else rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * What must be 0 in both directions: messages lost or shown twice (printed lines and database) and
 * messages out of order in the chat (the database's history order). The printed lines come in the
 * order messages arrived: when a server delivers a message late (Prosody hands the messages of a
 * session it could not resume to the new one after the live ones), they are reported but do not
 * fail the run: the chat still shows them in the order they were sent.
 */
export function problems(report: Record<Side, { lines: Tally; db: Tally }>): number {
  return Object.values(report).reduce(
    (sum, { lines, db }) => sum + lines.lost + lines.duplicated + db.lost + db.duplicated + db.reordered,
    0,
  );
}
