/**
 * `quiver connect --db PATH [--send-file FILE --to JID] [--expect COUNT]`: the long run (issue 12,
 * "`quiver connect` for long runs"). The accounts stay online through the app's LiveAccounts
 * (reconnects, outbox, acks, archive catch-up, dedupe are the app's), with every piece of state in
 * the --db file, so a killed run resumes where it stopped: the file's lines are enqueued once (one
 * transaction with the job's row, `storage/sendJobs.ts`), and incoming messages stored by earlier
 * runs count toward --expect.
 *
 * Exit codes: 0 when every message of the job was stored by the server and COUNT messages arrived
 * (with neither flag: when every account came online); 1 with one line when a message was refused,
 * an account cannot log in without the person (wrong password, untrusted certificate), or
 * --wait-message seconds passed first; 130 / 143 after SIGINT / SIGTERM, which close the streams
 * and the database cleanly.
 */
import { dirname } from 'node:path';
import type { AccountSettings } from '../contract/viewModels.ts';
import type { EventEnvelope } from '../contract/index.ts';
import { openStorage, type AccountRow, type Storage } from '../storage/storage.ts';
import { has, single, UsageError, type ParsedArgs } from './args.ts';
import type { CliIo } from './cliIo.ts';
import { reportFailure, type Failure } from './failure.ts';
import { LongRunProgress } from './longRunProgress.ts';
import { MemorySecretStore } from './memorySecretStore.ts';
import { openLiveSessions, type OpenSessions } from './liveSessions.ts';
import { readSendFile, type SendFile } from './sendFile.ts';
import { parseJid } from '../xmpp/jid.ts';
import { contactJid } from '../contract/validate.ts';

/** --wait-message when a long run does not give it. */
export const DEFAULT_LONG_RUN_SECONDS = 60;
export const MAX_EXPECT = 1_000_000;

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** What the long run may touch besides storage; tests pass scripted sessions and signals. */
export interface LongRunEnv {
  openSessions: OpenSessions;
  /** Calls `handler` on SIGINT or SIGTERM until the returned function is called. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
}

export const processLongRunEnv: LongRunEnv = {
  openSessions: openLiveSessions,
  onSignal(handler) {
    const onInt = () => handler('SIGINT');
    const onTerm = () => handler('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    return () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  },
};

/** What `runConnect` read before handing over (the flags both modes share). */
export interface ConnectBase {
  jids: string[];
  passwords: string[];
  settings: AccountSettings;
  /** --wait-message, or null when not given. */
  waitSeconds: number | null;
  json: boolean;
}

/** True when the arguments ask for the long run. */
export function isLongRun(args: ParsedArgs): boolean {
  return has(args, 'db') || has(args, 'send-file') || has(args, 'expect') || has(args, 'to');
}

interface LongRunRequest {
  db: string;
  send: { to: string; file: string; content: SendFile } | null;
  expect: number | null;
  waitSeconds: number;
}

/** Checks the long run's own flags; every usage error is found here, before the database is opened. */
function longRunRequest(args: ParsedArgs, base: ConnectBase): LongRunRequest {
  if (has(args, 'send'))
    throw new UsageError('--send is for a single message; with --db use --send-file FILE --to JID');
  if (has(args, 'https-port')) throw new UsageError('--https-port is not available with --db, --send-file or --expect');
  const db = single(args, 'db');
  if (db === undefined || db === '')
    throw new UsageError('--send-file and --expect keep their state in a database: give --db PATH');
  const to = single(args, 'to');
  const file = single(args, 'send-file');
  if ((to === undefined) !== (file === undefined)) throw new UsageError('--send-file FILE and --to JID go together');
  let send: LongRunRequest['send'] = null;
  if (to !== undefined && file !== undefined) {
    const parsed = parseJid(to);
    if (parsed === null || parsed.resource !== '' || !contactJid(parsed.bare, '--to').ok)
      throw new UsageError(`--to: "${to}" is not a bare JID like bob@example.org`);
    send = { to: parsed.bare, file, content: readSendFile(file) };
  }
  const expectText = single(args, 'expect');
  let expect: number | null = null;
  if (expectText !== undefined) {
    expect = /^\d{1,7}$/.test(expectText) ? Number(expectText) : NaN;
    if (!(expect >= 1 && expect <= MAX_EXPECT)) throw new UsageError(`--expect takes a count, 1 to ${MAX_EXPECT}`);
  }
  return { db, send, expect, waitSeconds: base.waitSeconds ?? DEFAULT_LONG_RUN_SECONDS };
}

/** Opens the --db file (created 0600 if missing); a path that cannot hold it is the user's to fix. */
function openRunDatabase(path: string): Storage {
  try {
    return openStorage(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS', 'SQLITE_NOTADB'].includes(code))
      throw new UsageError(
        `cannot open the --db ${path}: ${(error as Error).message}. Give a database file in a directory you can write (${dirname(path)}).`,
        { cause: error },
      );
    throw error;
  }
}

/** The run's accounts in the database: made if missing, settings from this command line, enabled. */
function ensureAccounts(storage: Storage, jids: readonly string[], settings: AccountSettings): AccountRow[] {
  return jids.map((jid) => {
    const row = storage.getAccountByJid(jid);
    if (!row) return storage.addAccount({ jid, settings, enabled: true });
    storage.updateAccountSettings(row.id, settings);
    return storage.setAccountEnabled(row.id, true);
  });
}

/**
 * Runs the long mode for `base` (already checked by `runConnect`) and the long-run flags in `args`.
 * Resolves with the exit code; a usage error or a database that cannot be opened is thrown.
 */
export async function runLongRun(
  args: ParsedArgs,
  base: ConnectBase,
  io: CliIo,
  env: LongRunEnv = processLongRunEnv,
): Promise<number> {
  const request = longRunRequest(args, base);
  const storage = openRunDatabase(request.db);
  let offSignal: (() => void) | null = null;
  try {
    const rows = ensureAccounts(storage, base.jids, base.settings);
    const accounts = new Map(rows.map((row) => [row.id, row.jid]));
    let job: { to: string; jobId: number } | null = null;
    if (request.send) {
      const { to, file, content } = request.send;
      const result = storage.enqueueSendJob({
        accountId: rows[0]!.id,
        to,
        fileSha256: content.sha256,
        bodies: content.bodies,
        now: Date.now(),
      });
      job = { to, jobId: result.jobId };
      const enqueued = result.created ? result.count : 0;
      io.stdout(
        base.json
          ? JSON.stringify({ type: 'job', to, messages: result.count, enqueued })
          : result.created
            ? `queued ${result.count} messages from ${file} to ${to}`
            : `${file} to ${to} was queued by an earlier run with this --db (${result.count} messages): nothing new queued`,
      );
    }
    const storedBefore = rows.reduce((n, row) => n + storage.incomingMessageCount(row.id), 0);
    const progress = new LongRunProgress(
      {
        json: base.json,
        accounts,
        expect: request.expect,
        storedBefore,
        job: job && { to: job.to, messages: storage.sendJobMessages(job.jobId) },
        failureReason: (messageId) => storage.messageError(messageId),
      },
      io,
    );

    let settled = false;
    let resolveOutcome: (value: { failure: Failure | null; exitCode: number }) => void = () => undefined;
    const outcome = new Promise<{ failure: Failure | null; exitCode: number }>((resolve) => (resolveOutcome = resolve));
    const settle = (failure: Failure | null, exitCode: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveOutcome({ failure, exitCode });
    };
    const timer = setTimeout(() => settle(progress.timeoutFailure(request.waitSeconds), 1), request.waitSeconds * 1000);
    const check = () => {
      const state = progress.outcome();
      if (state.kind === 'done') settle(null, 0);
      else if (state.kind === 'failed') settle(state.failure, 1);
    };
    // Handled until the sessions are stopped and the database closed (finally).
    offSignal = env.onSignal((signal) =>
      settle(
        {
          code: 'interrupted',
          message: `stopped by ${signal}; run it again with the same --db to go on where it stopped`,
        },
        signal === 'SIGINT' ? 130 : 143,
      ),
    );
    // The job may be complete (or failed) and the count reached already: nothing to connect for.
    check();
    let opened: Awaited<ReturnType<OpenSessions>> | null = null;
    if (!settled) {
      try {
        opened = await env.openSessions({
          storage,
          secrets: new MemorySecretStore(base.jids.map((jid, i): [string, string] => [jid, base.passwords[i]!])),
          emit: (event: EventEnvelope) => {
            progress.onEvent(event);
            check();
          },
          log: (level, message) => {
            if (level !== 'info') io.stderr(`quiver: ${message}`);
          },
        });
      } catch (error) {
        settle({ code: 'internal', message: `quiver connect could not start: ${(error as Error).message}` }, 1);
      }
      // A signal during the setup: nothing is started.
      if (opened && !settled) for (const row of rows) opened.sessions.start(row);
    }
    const { failure, exitCode } = await outcome;
    // Stop cleanly: the streams close (unavailable presence, </stream>), then the QUIC pool goes.
    if (opened) {
      await opened.sessions.stopAll();
      await opened.close();
    }
    const summary = progress.summary();
    io.stdout(
      base.json
        ? JSON.stringify(summary)
        : `sent ${summary.sent}, stored by the server ${summary.acked}, received ${summary.received}, reconnects ${summary.reconnects}`,
    );
    if (failure) reportFailure(io, failure, base.json);
    return exitCode;
  } finally {
    offSignal?.();
    storage.close();
  }
}
