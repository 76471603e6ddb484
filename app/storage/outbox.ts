/**
 * The acknowledged outbox (issue 12): an outgoing message is stored 'queued' before it is written
 * (messages.ts insertMessage), 'sent' once written under an XEP-0198 counter value, 'acked' when
 * stream management covers it, 'delivered' on an XEP-0184 receipt (messages.ts
 * setStateByStanzaId), and 'failed' with a reason only when the server refuses it. Until a message
 * is acked it stays pending: a stream that did not resume writes it again under the SAME stanza
 * id, so the recipient's deduplication and receipts keep matching.
 *
 * Every method that changes several rows runs in one transaction.
 */
import type { Database } from 'better-sqlite3';
import type { MessageView } from '../contract/viewModels.ts';
import { getById, MESSAGE_COLUMNS, parseId, toView, type MessageRow } from './messages.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

/** A message not yet confirmed by the server, with the XEP-0198 counter value it was last written under. */
export interface PendingMessage {
  message: MessageView;
  /** Outbound counter value under which it was last written; null when never written or written without SM. */
  smSeq: number | null;
}

type PendingRow = MessageRow & { sm_seq: number | null };

/** XEP-0198 counters are 32-bit: "h" wraps to 0 after 2^32 - 1 (§4). */
const SEQ_MAX = 0xffff_ffff;

/** Outgoing 'queued' or 'sent' messages, in the order they were created. */
export const PENDING_SQL = `SELECT ${MESSAGE_COLUMNS}, sm_seq FROM messages
  WHERE account_id = ? AND state IN ('queued', 'sent') AND direction = 'out' ORDER BY id`;

// The repeated state term lets SQLite prove the partial index messages_pending applies.
export const SENT_WITH_SEQ_SQL = `SELECT ${MESSAGE_COLUMNS}, sm_seq FROM messages
  WHERE account_id = ? AND state IN ('queued', 'sent') AND state = 'sent' AND direction = 'out'
    AND sm_seq IS NOT NULL ORDER BY id`;

export const MARK_SENT_SQL = `UPDATE messages SET state = 'sent', sm_seq = ?
  WHERE id = ? AND direction = 'out' AND state IN ('queued', 'sent') RETURNING id`;

export const FAIL_BY_STANZA_ID_SQL = `UPDATE messages SET state = 'failed', error = ?, sm_seq = NULL
  WHERE account_id = ? AND direction = 'out' AND stanza_id = ? AND state IN ('queued', 'sent', 'acked')
  RETURNING id`;
// Both search messages_our_stanza_ids.

export const OURS_BY_STANZA_ID_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE account_id = ? AND direction = 'out' AND stanza_id = ? ORDER BY id`;

export const ACK_BY_STANZA_ID_SQL = `UPDATE messages SET state = 'acked'
  WHERE account_id = ? AND direction = 'out' AND stanza_id = ? AND state IN ('queued', 'sent') RETURNING id`;

const pending = (row: PendingRow): PendingMessage => ({ message: toView(row), smSeq: row.sm_seq });

/** True when counter value `a` comes after `b` in XEP-0198's wrapping 32-bit sequence. */
function after(a: number, b: number): boolean {
  const d = (a - b + SEQ_MAX + 1) % (SEQ_MAX + 1);
  return d !== 0 && d < 2 ** 31;
}

function checkSeq(seq: number, what: string): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > SEQ_MAX) throw new RangeError(`${what} ${seq} is not in 0..2^32-1`);
}

export const outboxMethods = {
  /**
   * Outgoing messages the server has not confirmed ('queued' or 'sent'; never acked, delivered or
   * failed), oldest first: what a stream that did not resume must (re)send, under the same ids.
   */
  pendingMessages(db: Database, accountId: string): PendingMessage[] {
    return prepare<[string], PendingRow>(db, PENDING_SQL).all(accountId).map(pending);
  },

  /**
   * Records that the message `localId` was written to a stream, under XEP-0198 outbound counter
   * value `smSeq` (the count of stanzas sent on that stream including this one), or null on a
   * stream without stream management. A message written again after a reconnect gets the new
   * value. Returns the message; null when it is no longer pending (acked, delivered or failed
   * meanwhile: nothing changes). Throws 'message-not-found' for an unknown id.
   */
  markSent(db: Database, localId: string, smSeq: number | null): MessageView | null {
    const id = parseId(localId);
    if (smSeq !== null) checkSeq(smSeq, 'smSeq');
    const row = prepare<unknown[], { id: number }>(db, MARK_SENT_SQL).get(smSeq, id);
    if (row) return getById(db, id);
    if (!getById(db, id)) throw new StorageError('message-not-found', `There is no message with id ${localId}.`);
    return null;
  },

  /**
   * Moves our pending messages with these stanza ids to 'acked' (XEP-0198 covered them), in one
   * transaction, and returns those that changed. Ids of iqs and presences, of messages already
   * further along, and empty ids change nothing.
   */
  ackStanzaIds(db: Database, accountId: string, stanzaIds: readonly string[]): MessageView[] {
    return db.transaction(() => {
      const changed: MessageView[] = [];
      for (const stanzaId of stanzaIds) {
        if (stanzaId === '') continue;
        for (const row of prepare<unknown[], { id: number }>(db, ACK_BY_STANZA_ID_SQL).all(accountId, stanzaId)) {
          changed.push(getById(db, row.id) as MessageView);
        }
      }
      return changed;
    })();
  },

  /**
   * Our outgoing messages with this stanza id, oldest first (ours are generated unique; copies of
   * other devices' messages may share one), to check who may change them. An empty id finds none.
   */
  ourMessagesByStanzaId(db: Database, accountId: string, stanzaId: string): MessageView[] {
    if (stanzaId === '') return [];
    return prepare<[string, string], MessageRow>(db, OURS_BY_STANZA_ID_SQL).all(accountId, stanzaId).map(toView);
  },

  /**
   * After a resumption (XEP-0198 §5: the server's <resumed h='…'/> "acknowledges receipt of
   * stanzas up to and including h"), possibly by a new process after a crash: moves every 'sent'
   * message written with a counter value up to `h` to 'acked', and returns those written after
   * `h`, oldest first (what the server never received: write them again, in this order). The
   * caller must pass the `h` of the same stream the stored counter values belong to: values from
   * an earlier stream are meaningless on another (a stream that did not resume writes every
   * pending message again, and markSent replaces their values).
   */
  ackThroughSmSeq(db: Database, accountId: string, h: number): { acked: MessageView[]; unacked: PendingMessage[] } {
    checkSeq(h, 'h');
    return db.transaction(() => {
      const acked: MessageView[] = [];
      const unacked: PendingMessage[] = [];
      for (const row of prepare<[string], PendingRow>(db, SENT_WITH_SEQ_SQL).all(accountId)) {
        if (after(row.sm_seq as number, h)) {
          unacked.push(pending(row));
        } else {
          prepare(db, `UPDATE messages SET state = 'acked' WHERE id = ?`).run(row.id);
          acked.push(getById(db, row.id) as MessageView);
        }
      }
      return { acked, unacked };
    })();
  },

  /**
   * The server refused our message with this stanza id (a stanza error): it becomes 'failed' with
   * `reason` (worded for a person: what happened, what they can do). Only from queued, sent or
   * acked (a delivered message reached its recipient; a failed one stays as it is). Returns the
   * message, or null when none changed.
   */
  failByStanzaId(db: Database, accountId: string, stanzaId: string, reason: string): MessageView | null {
    if (stanzaId === '') return null;
    const row = prepare<unknown[], { id: number }>(db, FAIL_BY_STANZA_ID_SQL).get(reason, accountId, stanzaId);
    return row ? getById(db, row.id) : null;
  },

  /**
   * Moves a failed outgoing message back to 'queued' (the error is cleared) so the next flush
   * sends it again under the same stanza id: the server refused it, so it stored nothing under
   * that id, and receipts keep matching. Throws 'message-not-found', or 'message-not-retryable'
   * for a message that is not an outgoing failed one.
   */
  retryMessage(db: Database, localId: string): MessageView {
    const id = parseId(localId);
    return db.transaction(() => {
      const message = getById(db, id);
      if (!message) throw new StorageError('message-not-found', `There is no message with id ${localId}.`);
      if (message.direction !== 'out' || message.state !== 'failed') {
        throw new StorageError(
          'message-not-retryable',
          'Only a message the server refused can be sent again; this one was not refused.',
        );
      }
      prepare(db, `UPDATE messages SET state = 'queued', error = NULL, sm_seq = NULL WHERE id = ?`).run(id);
      return getById(db, id) as MessageView;
    })();
  },
};
