/**
 * What a long `quiver connect` run (--db with --send-file and/or --expect) has seen so far, told
 * by the live accounts' events: it prints each connection record once (when its stream came
 * online) and each newly stored incoming message once, counts reconnects, follows the send job's
 * messages, and decides when the run is done or has failed. It owns no sockets, timers or storage:
 * the runner (`connectLongRun.ts`) feeds it events and asks `outcome()` after each.
 */
import type { EventEnvelope, MessageView } from '../contract/index.ts';
import { sessionAction } from '../connect/retryPolicy.ts';
import type { ConnectErrorCode } from '../connect/connectError.ts';
import { escapeControl } from '../logLine.ts';
import { describeRecord } from './recordText.ts';
import type { Failure } from './failure.ts';

/** States in which the server has stored an outgoing message (XEP-0198 ack) or the recipient confirmed it. */
const STORED_BY_SERVER: ReadonlySet<string> = new Set(['acked', 'delivered', 'received']);

export interface ProgressOutput {
  stdout(line: string): void;
  stderr(line: string): void;
}

export interface ProgressOptions {
  json: boolean;
  /** The run's accounts: id -> bare JID, in the order given (the first sends the job). */
  accounts: ReadonlyMap<string, string>;
  /** --expect COUNT, or null. */
  expect: number | null;
  /** Incoming messages the database held for these accounts before the run (they count toward `expect`). */
  storedBefore: number;
  /** The send job: its recipient and its messages in the file's order (local id, state, reason if failed). */
  job: { to: string; messages: readonly { messageId: string; state: string; error: string | null }[] } | null;
  /** The stored reason of a failed message (an event may carry none). */
  failureReason(messageId: string): string | null;
}

export interface Summary {
  type: 'summary';
  /** Messages of the job that have been written to a stream (or further). */
  sent: number;
  /** Messages of the job the server has stored (acked, or delivered to the recipient). */
  acked: number;
  /** Distinct incoming messages stored, this run and earlier runs with the same database. */
  received: number;
  /** Times an account came online again after it had been online in this run. */
  reconnects: number;
}

export class LongRunProgress {
  readonly #options: ProgressOptions;
  readonly #out: ProgressOutput;
  /** Job message id -> state and reason. */
  /** The job's messages by id: state, refusal reason, line number (1-based). */
  readonly #job = new Map<string, { state: string; error: string | null; seq: number }>();
  /** How many of the job's messages the server stored / were written: kept as states change (no walk per event). */
  #storedCount = 0;
  #writtenCount = 0;
  readonly #printedRecords = new Set<string>();
  /** Per account: its status now, whether it has been online in this run, its bound JID. */
  readonly #status = new Map<string, { status: string; wasOnline: boolean; boundJid: string | null }>();
  #received: number;
  #reconnects = 0;
  #failure: Failure | null = null;

  constructor(options: ProgressOptions, out: ProgressOutput) {
    this.#options = options;
    this.#out = out;
    this.#received = options.storedBefore;
    for (const m of options.job?.messages ?? []) {
      this.#job.set(m.messageId, { state: m.state, error: m.error, seq: this.#job.size + 1 });
      this.#tally(m.state, 1);
    }
    for (const m of options.job?.messages ?? []) if (m.state === 'failed') this.#jobFailed(m.messageId, m.error);
  }

  /** Takes one event of the live accounts; events of other accounts are ignored. */
  onEvent(event: EventEnvelope): void {
    switch (event.name) {
      case 'connection.recorded': {
        const record = event.payload.record;
        // Printed once, when the stream is online (bound): the saves before (TLS, SASL) and after
        // (its end, path events) are the same connection.
        if (!this.#options.accounts.has(record.accountId ?? '') || record.boundJid === null) return;
        if (this.#printedRecords.has(record.id)) return;
        this.#printedRecords.add(record.id);
        this.#out.stdout(this.#options.json ? JSON.stringify(record) : describeRecord(record));
        return;
      }
      case 'account.changed':
        this.#onAccount(event.payload.account);
        return;
      case 'message.added':
      case 'message.updated':
        this.#onMessage(event.payload.message, event.name === 'message.added');
        return;
      default:
        return;
    }
  }

  /**
   * 'done' when the job's every message is stored by the server and `expect` messages have
   * arrived (with neither asked for: when every account has been online); 'failed' with the first
   * reason; else 'waiting'.
   */
  outcome(): { kind: 'done' } | { kind: 'failed'; failure: Failure } | { kind: 'waiting' } {
    if (this.#failure) return { kind: 'failed', failure: this.#failure };
    const jobDone = this.#storedCount === this.#job.size;
    const expectDone = this.#options.expect === null || this.#received >= this.#options.expect;
    if (this.#options.job === null && this.#options.expect === null) {
      const allOnline = [...this.#options.accounts.keys()].every((id) => this.#status.get(id)?.wasOnline);
      return allOnline ? { kind: 'done' } : { kind: 'waiting' };
    }
    return jobDone && expectDone ? { kind: 'done' } : { kind: 'waiting' };
  }

  /** Why the run stopped waiting at its deadline: what was still missing, worded for the person. */
  timeoutFailure(seconds: number): Failure {
    const missing: string[] = [];
    const { job, expect } = this.#options;
    const summary = this.summary();
    if (job) missing.push(`${summary.acked} of ${this.#job.size} messages to ${job.to} were stored by the server`);
    if (expect !== null) missing.push(`${this.#received} of ${expect} messages arrived`);
    if (job === null && expect === null) {
      const offline = [...this.#options.accounts].filter(([id]) => !this.#status.get(id)?.wasOnline).map(([, j]) => j);
      missing.push(`${offline.join(', ')} did not come online`);
    }
    return {
      code: 'timeout',
      message: `quiver connect stopped waiting after ${seconds} s: ${missing.join('; ')}. Run it again with the same --db to go on, or give a longer --wait-message.`,
    };
  }

  summary(): Summary {
    return {
      type: 'summary',
      sent: this.#writtenCount,
      acked: this.#storedCount,
      received: this.#received,
      reconnects: this.#reconnects,
    };
  }

  #onAccount(account: {
    id: string;
    jid: string;
    status: string;
    boundJid: string | null;
    error: { code: string; message: string } | null;
  }): void {
    if (!this.#options.accounts.has(account.id)) return;
    const before = this.#status.get(account.id) ?? { status: 'offline', wasOnline: false, boundJid: null };
    const now = { ...before, status: account.status, boundJid: account.boundJid ?? before.boundJid };
    if (account.status === 'online' && before.status !== 'online') {
      if (before.wasOnline) this.#reconnects++;
      now.wasOnline = true;
    }
    this.#status.set(account.id, now);
    const error = account.error;
    if (error === null || account.status === before.status) return;
    // A session stops retrying on what only the person can fix (a wrong password, an untrusted
    // certificate: quiver connect cannot ask): the run fails with the reason. Else it reconnects.
    const stopped =
      error.code === 'needs-decision' ||
      sessionAction(error.code as ConnectErrorCode, { slowDown: false }) === 'ask-person';
    if (account.status === 'error' && stopped) {
      const hint = error.code === 'needs-decision' ? " quiver connect cannot ask: give the server's CA with --ca." : '';
      this.#failure ??= { code: error.code, message: `${account.jid}: ${error.message}${hint}` };
    } else if (account.status === 'connecting') {
      // A stream that was up and dropped (the session logs failed attempts itself).
      this.#out.stderr(`quiver: ${account.jid}: ${error.message} (reconnecting)`);
    }
  }

  #onMessage(message: MessageView, added: boolean): void {
    if (!this.#options.accounts.has(message.accountId)) return;
    const jobEntry = this.#job.get(message.id);
    if (jobEntry) {
      this.#tally(jobEntry.state, -1);
      jobEntry.state = message.state;
      this.#tally(jobEntry.state, 1);
      if (message.state === 'failed') {
        jobEntry.error = this.#options.failureReason(message.id);
        this.#jobFailed(message.id, jobEntry.error);
      }
      return;
    }
    // Storage stores a redelivery once and emits 'message.added' only for a new row: distinct.
    if (!added || message.direction !== 'in') return;
    this.#received++;
    const several = this.#options.accounts.size > 1;
    const to = this.#status.get(message.accountId)?.boundJid ?? this.#options.accounts.get(message.accountId)!;
    const line = several
      ? { type: 'message', from: message.peer, to, body: message.body }
      : { type: 'message', from: message.peer, body: message.body };
    // One line per message: a body's own line breaks must not look like another message.
    this.#out.stdout(
      this.#options.json
        ? JSON.stringify(line)
        : escapeControl(`message from ${message.peer}${several ? ` to ${to}` : ''}: ${message.body}`),
    );
  }

  /** Counts a job message in `state` (`delta` 1) or no longer in it (-1). */
  #tally(state: string, delta: number): void {
    if (STORED_BY_SERVER.has(state)) this.#storedCount += delta;
    if (state !== 'queued' && state !== 'failed') this.#writtenCount += delta;
  }

  #jobFailed(messageId: string, error: string | null): void {
    const seq = this.#job.get(messageId)?.seq ?? 0;
    this.#failure ??= {
      code: 'message-failed',
      message: `the server refused message ${seq} of ${this.#job.size} to ${this.#options.job!.to}: ${error ?? 'no reason given'}`,
    };
  }
}
