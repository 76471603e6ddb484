/**
 * One-to-one messages in both directions, and the outbox (outgoing messages still `queued`).
 * Local ids are the rowid, exposed as strings; they grow with insertion order, which is the
 * order history pages and the outbox use.
 */
import type { Database } from 'better-sqlite3';
import type { ConversationView, MessageDirection, MessageState, MessageView } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

export interface NewMessage {
  accountId: string;
  /** The other party; a resource is dropped. */
  peer: string;
  direction: MessageDirection;
  body: string;
  /** The stanza's id attribute; null when it had none (then the message is never deduplicated). */
  stanzaId: string | null;
  /** Milliseconds since the epoch. */
  at: number;
  state: MessageState;
  /** XEP-0359 origin-id, when present. */
  originId?: string | null;
  /** XEP-0359 stanza-id assigned by the archive, when present. */
  serverId?: string | null;
}

export interface HistoryOptions {
  /** Only messages older than this local id. */
  before?: string;
  /** Page size, 1..500; default 50. */
  limit?: number;
}

interface Row {
  id: number;
  account_id: string;
  peer: string;
  direction: MessageDirection;
  body: string;
  stanza_id: string | null;
  at: number;
  state: MessageState;
}

const COLUMNS = 'id, account_id, peer, direction, body, stanza_id, at, state';
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/** Hot queries, exported so tests can assert their query plans use the indexes. */
export const HISTORY_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND peer = ? AND id < ? ORDER BY id DESC LIMIT ?`;
export const OUTBOX_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND state = 'queued' ORDER BY id`;
// SQLite: with max() the bare columns come from the row holding the maximum.
export const CONVERSATIONS_SQL = `SELECT ${COLUMNS}, max(id) AS latest FROM messages
  WHERE account_id = ? GROUP BY peer ORDER BY latest DESC`;
export const BY_STANZA_ID_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND direction = ? AND peer = ? AND stanza_id = ?`;

function toView(row: Row): MessageView {
  return {
    id: String(row.id),
    accountId: row.account_id,
    peer: row.peer,
    direction: row.direction,
    body: row.body,
    stanzaId: row.stanza_id ?? '',
    at: row.at,
    state: row.state,
  };
}

function parseId(id: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) {
    throw new StorageError('message-not-found', `There is no message with id ${id}.`);
  }
  return Number(id);
}

function getById(db: Database, id: number): MessageView | null {
  const row = prepare<[number], Row>(db, `SELECT ${COLUMNS} FROM messages WHERE id = ?`).get(id);
  return row ? toView(row) : null;
}

export const messageMethods = {
  /**
   * Stores a message unless the same one is already there (same account, direction, peer and
   * stanza id: a redelivery after reconnect or resumption); then returns the stored one with
   * `inserted: false` and changes nothing.
   */
  insertMessage(db: Database, input: NewMessage): { message: MessageView; inserted: boolean } {
    const peer = normalizeBareJid(input.peer);
    return db
      .transaction(() => {
        requireAccount(db, input.accountId);
        const row = prepare<unknown[], { id: number }>(
          db,
          `INSERT INTO messages (account_id, peer, direction, body, stanza_id, origin_id, server_id, at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
        ).get(
          input.accountId,
          peer,
          input.direction,
          input.body,
          input.stanzaId,
          input.originId ?? null,
          input.serverId ?? null,
          input.at,
          input.state,
        );
        if (row) return { message: getById(db, row.id) as MessageView, inserted: true };
        const existing = prepare<unknown[], Row>(db, BY_STANZA_ID_SQL).get(
          input.accountId,
          input.direction,
          peer,
          input.stanzaId,
        );
        if (!existing) throw new Error('insert ignored but no duplicate found');
        return { message: toView(existing), inserted: false };
      })
      .immediate();
  },

  getMessage(db: Database, id: string): MessageView | null {
    return getById(db, parseId(id));
  },

  /** The message with this stanza id (e.g. to apply an XEP-0184 receipt), or null. */
  findMessageByStanzaId(
    db: Database,
    accountId: string,
    direction: MessageDirection,
    peer: string,
    stanzaId: string,
  ): MessageView | null {
    const row = prepare<unknown[], Row>(db, BY_STANZA_ID_SQL).get(
      accountId,
      direction,
      normalizeBareJid(peer),
      stanzaId,
    );
    return row ? toView(row) : null;
  },

  /** Moves a message to `state`; `error` (worded for a person) is kept for 'failed' and cleared otherwise. */
  setMessageState(db: Database, id: string, state: MessageState, error?: string | null): MessageView {
    const n = parseId(id);
    const r = prepare(db, 'UPDATE messages SET state = ?, error = ? WHERE id = ?').run(
      state,
      state === 'failed' ? (error ?? null) : null,
      n,
    );
    if (r.changes === 0) throw new StorageError('message-not-found', `There is no message with id ${id}.`);
    return getById(db, n) as MessageView;
  },

  /** The error text of a failed message, null otherwise. */
  messageError(db: Database, id: string): string | null {
    const row = prepare<[number], { error: string | null }>(db, 'SELECT error FROM messages WHERE id = ?').get(
      parseId(id),
    );
    return row ? row.error : null;
  },

  /** The newest page of one conversation (older than `before` when given), returned oldest first. */
  history(db: Database, accountId: string, peer: string, options: HistoryOptions = {}): MessageView[] {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const before = options.before === undefined ? Number.MAX_SAFE_INTEGER : parseId(options.before);
    const rows = prepare<unknown[], Row>(db, HISTORY_SQL).all(accountId, normalizeBareJid(peer), before, limit);
    return rows.reverse().map(toView);
  },

  /** One entry per peer with its latest message, most recent conversation first. */
  conversations(db: Database, accountId: string): ConversationView[] {
    return prepare<[string], Row>(db, CONVERSATIONS_SQL)
      .all(accountId)
      .map((row) => ({ accountId, peer: row.peer, lastMessage: toView(row) }));
  },

  /** Outgoing messages not yet written to a stream, oldest first: the order to send them in. */
  queuedMessages(db: Database, accountId: string): MessageView[] {
    return prepare<[string], Row>(db, OUTBOX_SQL).all(accountId).map(toView);
  },
};
