/**
 * Send jobs of `quiver connect --send-file FILE --to JID`: a file's lines enqueued as outgoing
 * messages exactly once per database. The job row and every message of it are written in one
 * transaction, so a run killed at any moment leaves either the whole job queued or nothing, and
 * the next run with the same database either finds the job (and enqueues nothing) or enqueues it.
 * Also the count `--expect` starts from: the incoming messages already stored.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { messageMethods } from './messages.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';
import { requireAccount } from './accounts.ts';

export interface NewSendJob {
  accountId: string;
  /** The recipient; a resource is dropped. */
  to: string;
  /** SHA-256 of the file's bytes, lowercase hex. */
  fileSha256: string;
  /** The messages, in the order to send them. */
  bodies: readonly string[];
  /** Milliseconds since the epoch: the job's and the messages' time. */
  now: number;
}

export interface SendJobResult {
  jobId: number;
  /** False when this database already held the job: nothing was enqueued. */
  created: boolean;
  /** How many messages the job has (those enqueued now or by the run that created it). */
  count: number;
}

/** Where one message of a job is: its local id, state and, for 'failed', the reason. */
export interface SendJobMessage {
  messageId: string;
  state: string;
  error: string | null;
}

export const sendJobMethods = {
  /**
   * Enqueues the job's messages as 'queued' outgoing messages (each with a fresh stanza id, as the
   * app's `chat.send` does) unless the same job (account, recipient, file hash) exists; in one
   * IMMEDIATE transaction, so two runs on one database cannot both enqueue it. The caller asks the
   * live account to flush its outbox afterwards.
   */
  enqueueSendJob(db: Database, job: NewSendJob): SendJobResult {
    const peer = normalizeBareJid(job.to);
    return db
      .transaction((): SendJobResult => {
        requireAccount(db, job.accountId);
        const existing = prepare<unknown[], { id: number; count: number }>(
          db,
          'SELECT id, count FROM cli_send_jobs WHERE account_id = ? AND peer = ? AND file_sha256 = ?',
        ).get(job.accountId, peer, job.fileSha256);
        if (existing) return { jobId: existing.id, created: false, count: existing.count };
        const { id: jobId } = prepare<unknown[], { id: number }>(
          db,
          `INSERT INTO cli_send_jobs (account_id, peer, file_sha256, count, created_at)
           VALUES (?, ?, ?, ?, ?) RETURNING id`,
        ).get(job.accountId, peer, job.fileSha256, job.bodies.length, job.now) as { id: number };
        const link = prepare(db, 'INSERT INTO cli_send_job_messages (job_id, seq, message_id) VALUES (?, ?, ?)');
        job.bodies.forEach((body, seq) => {
          // Nested: better-sqlite3 runs the inner transaction as a savepoint of this one.
          const { message } = messageMethods.insertMessage(db, {
            accountId: job.accountId,
            peer,
            direction: 'out',
            body,
            stanzaId: randomUUID(),
            at: job.now,
            state: 'queued',
          });
          link.run(jobId, seq, Number(message.id));
        });
        return { jobId, created: true, count: job.bodies.length };
      })
      .immediate();
  },

  /** The job's messages in the file's order (a message deleted since is missing). */
  sendJobMessages(db: Database, jobId: number): SendJobMessage[] {
    return prepare<[number], { id: number; state: string; error: string | null }>(
      db,
      `SELECT m.id, m.state, m.error FROM cli_send_job_messages j JOIN messages m ON m.id = j.message_id
       WHERE j.job_id = ? ORDER BY j.seq`,
    )
      .all(jobId)
      .map((row) => ({ messageId: String(row.id), state: row.state, error: row.error }));
  },

  /** How many incoming messages the account has stored (each stored once: storage deduplicates). */
  incomingMessageCount(db: Database, accountId: string): number {
    const row = prepare<[string], { n: number }>(
      db,
      `SELECT count(*) AS n FROM messages WHERE account_id = ? AND direction = 'in'`,
    ).get(accountId);
    return row?.n ?? 0;
  },
};
