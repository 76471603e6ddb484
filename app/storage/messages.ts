/**
 * One-to-one messages in both directions. Local ids are the rowid, exposed as strings; they grow
 * with insertion order, which is the order the outbox sends in (outbox.ts). History is ordered by
 * the time a message was sent (`at`), then by id, so that a message fetched from the archive later
 * still shows before the newer ones.
 */
import type { Database } from 'better-sqlite3';
import type { MessageDirection, MessageState, MessageView } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { noteMessage } from './conversationActivity.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

export interface NewMessage {
  accountId: string;
  /** The other party; a resource is dropped. */
  peer: string;
  direction: MessageDirection;
  body: string;
  /**
   * The stanza's 'id' attribute, kept to find the message again (receipts); null when it had none.
   * Never used to deduplicate: each sending client picks it, so it is unique at most per resource.
   */
  stanzaId: string | null;
  /**
   * When the message was sent, ms since the epoch: the XEP-0203 <delay/> stamp when it carried one,
   * else the local time it arrived (incoming) or was created (outgoing).
   */
  at: number;
  /** Local time it arrived or was created, ms since the epoch; defaults to `at`. */
  arrivedAt?: number;
  state: MessageState;
  /** XEP-0359 <origin-id/>; deduplicates only together with `sender` and the same body. */
  originId?: string | null;
  /** The full JID the message came from, as the stanza's 'from' said. */
  sender?: string | null;
  /**
   * XEP-0359 <stanza-id/> whose 'by' is the account's own bare JID (the caller checks 'by': an id
   * stamped by anyone else can be forged by the sender and must not be passed here).
   */
  serverId?: string | null;
}

/** A stored message carries the same XEP-0359 id as a new one but other content. */
export interface ReusedId {
  kind: 'stanza-id' | 'origin-id';
  id: string;
  /** Local id of the message stored earlier under that id. */
  storedId: string;
}

export interface InsertResult {
  /** The stored message: the new one, or the copy stored before when `inserted` is false. */
  message: MessageView;
  /** False when the same message was already stored (a redelivery); nothing changed then. */
  inserted: boolean;
  /**
   * Set when the new message reuses an id of a stored message with other content. The new message
   * is stored anyway, without the reused id (so the unique index keeps one message per id); the
   * caller must log a line, so that no differing content is ever merged silently.
   */
  idReused: ReusedId | null;
}

export interface HistoryOptions {
  /**
   * Only messages before this one (a local id) in history order (`at`, then id): the first
   * message of the page shown so far.
   */
  before?: string;
  /** Only messages after this one (a local id) in history order: the page that starts just after it. */
  after?: string;
  /** The oldest page instead of the newest (when neither `before` nor `after` is given). */
  oldest?: boolean;
  /** Page size, 1..500; default 50. */
  limit?: number;
}

/** A row as MESSAGE_COLUMNS select it. */
export interface MessageRow {
  id: number;
  account_id: string;
  peer: string;
  direction: MessageDirection;
  body: string;
  stanza_id: string | null;
  at: number;
  state: MessageState;
  error: string | null;
}
type Row = MessageRow;

export const MESSAGE_COLUMNS = 'id, account_id, peer, direction, body, stanza_id, at, state, error';
const COLUMNS = MESSAGE_COLUMNS;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/** Hot queries, exported so tests can assert their query plans use the indexes. */
// Keyset paging: the row value (at, id) of the page's first message is the bound.
export const HISTORY_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND peer = ? AND (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?`;
// The same index, walked the other way: the page after a message, or the oldest page.
export const HISTORY_AFTER_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND peer = ? AND (at, id) > (?, ?) ORDER BY at, id LIMIT ?`;
export const OUTBOX_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND state = 'queued' ORDER BY id`;
// Each peer's latest message by (at, id): one index search per peer, from the end of its range.
// (The conversation list now reads the conversations table: conversations.ts.)
export const CONVERSATIONS_SQL = `SELECT ${COLUMNS} FROM messages WHERE id IN (
    SELECT (SELECT l.id FROM messages l WHERE l.account_id = p.account_id AND l.peer = p.peer
            ORDER BY l.at DESC, l.id DESC LIMIT 1)
    FROM (SELECT DISTINCT account_id, peer FROM messages WHERE account_id = ?) p)
  ORDER BY at DESC, id DESC`;
export const BY_STANZA_ID_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND direction = ? AND peer = ? AND stanza_id = ? ORDER BY id LIMIT 1`;
export const BY_SERVER_ID_SQL = `SELECT ${COLUMNS} FROM messages WHERE account_id = ? AND server_id = ?`;
export const BY_ORIGIN_ID_SQL = `SELECT ${COLUMNS} FROM messages
  WHERE account_id = ? AND direction = ? AND sender = ? AND origin_id = ?`;

/**
 * How far an outgoing message got; 'failed' is outside the order and never moves forward
 * ('received' is the state of incoming messages only).
 */
const STATE_ORDER: readonly MessageState[] = ['queued', 'sent', 'acked', 'delivered'];
/**
 * Our messages with this 'id' attribute (ours are unique) whose state is one of the (up to three)
 * given. It searches messages_our_stanza_ids (our messages by id, whatever the peer).
 */
export const ADVANCE_BY_STANZA_ID_SQL = `UPDATE messages SET state = ?
  WHERE account_id = ? AND direction = 'out' AND stanza_id = ? AND state IN (?, ?, ?) RETURNING id`;

/** An empty identifier identifies nothing: it is stored and compared as none. */
function nonEmpty(id: string | null | undefined): string | null {
  return id === undefined || id === null || id === '' ? null : id;
}

/** The contract's view of a row selected with MESSAGE_COLUMNS. */
export function toView(row: Row): MessageView {
  return {
    id: String(row.id),
    accountId: row.account_id,
    peer: row.peer,
    direction: row.direction,
    body: row.body,
    stanzaId: row.stanza_id ?? '',
    at: row.at,
    state: row.state,
    error: row.state === 'failed' ? row.error : null,
  };
}

/** The rowid of a local message id; throws 'message-not-found' for anything that is not one. */
export function parseId(id: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) {
    throw new StorageError('message-not-found', `There is no message with id ${id}.`);
  }
  return Number(id);
}

export function getById(db: Database, id: number): MessageView | null {
  const row = prepare<[number], Row>(db, `SELECT ${COLUMNS} FROM messages WHERE id = ?`).get(id);
  return row ? toView(row) : null;
}

export const messageMethods = {
  /**
   * Stores a message unless the same one is already stored; then returns the stored one with
   * `inserted: false` and changes nothing. "The same" is decided only on identifiers meant to be
   * unique, and only when the content is the same too:
   *
   * - the same `serverId` on the account, with the same direction, peer and body (a redelivery
   *   after reconnect or resumption, or the archive's copy);
   * - or the same `originId` from the same `sender` full JID and direction, with the same body.
   *
   * The 'id' attribute (`stanzaId`) and empty ids never merge messages. A reused id with other
   * content keeps both messages and is reported in `idReused`.
   */
  insertMessage(db: Database, input: NewMessage): InsertResult {
    const peer = normalizeBareJid(input.peer);
    let serverId = nonEmpty(input.serverId);
    let originId = nonEmpty(input.originId);
    const sender = nonEmpty(input.sender);
    return db
      .transaction((): InsertResult => {
        requireAccount(db, input.accountId);
        let idReused: ReusedId | null = null;
        if (serverId !== null) {
          const stored = prepare<unknown[], Row>(db, BY_SERVER_ID_SQL).get(input.accountId, serverId);
          if (stored && stored.direction === input.direction && stored.peer === peer && stored.body === input.body) {
            return { message: toView(stored), inserted: false, idReused: null };
          }
          if (stored) {
            idReused = { kind: 'stanza-id', id: serverId, storedId: String(stored.id) };
            serverId = null;
          }
        }
        if (originId !== null && sender !== null) {
          const stored = prepare<unknown[], Row>(db, BY_ORIGIN_ID_SQL).get(
            input.accountId,
            input.direction,
            sender,
            originId,
          );
          if (stored && stored.body === input.body) return { message: toView(stored), inserted: false, idReused: null };
          if (stored) {
            idReused ??= { kind: 'origin-id', id: originId, storedId: String(stored.id) };
            originId = null;
          }
        }
        const row = prepare<unknown[], { id: number }>(
          db,
          `INSERT INTO messages (account_id, peer, direction, body, stanza_id, origin_id, sender, server_id, at, state,
           arrived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        ).get(
          input.accountId,
          peer,
          input.direction,
          input.body,
          nonEmpty(input.stanzaId),
          originId,
          sender,
          serverId,
          input.at,
          input.state,
          input.arrivedAt ?? input.at,
        ) as { id: number };
        noteMessage(db, input.accountId, peer, input.at, input.direction === 'in');
        return { message: getById(db, row.id) as MessageView, inserted: true, idReused };
      })
      .immediate();
  },

  getMessage(db: Database, id: string): MessageView | null {
    return getById(db, parseId(id));
  },

  /**
   * The oldest message with this 'id' attribute (e.g. to apply an XEP-0184 receipt to one of ours,
   * whose ids are unique), or null; an empty id finds nothing.
   */
  findMessageByStanzaId(
    db: Database,
    accountId: string,
    direction: MessageDirection,
    peer: string,
    stanzaId: string,
  ): MessageView | null {
    if (stanzaId === '') return null;
    const row = prepare<unknown[], Row>(db, BY_STANZA_ID_SQL).get(
      accountId,
      direction,
      normalizeBareJid(peer),
      stanzaId,
    );
    return row ? toView(row) : null;
  },

  /**
   * The stored message with our server's archive id (XEP-0359 stanza-id) `serverId` on the account,
   * or null: where the archive position stands in this history.
   */
  findMessageByServerId(db: Database, accountId: string, serverId: string): MessageView | null {
    if (serverId === '') return null;
    const row = prepare<unknown[], Row>(db, BY_SERVER_ID_SQL).get(accountId, serverId);
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

  /**
   * Moves our outgoing message with this 'id' attribute forward to `state` (e.g. 'acked' when
   * XEP-0198 acknowledges its stanza, 'delivered' on an XEP-0184 receipt) and returns it; null when
   * no message of ours has that id or it is already as far or further (a state never goes back:
   * queued < sent < acked < delivered, and 'failed' stays). An empty id finds nothing.
   */
  setStateByStanzaId(
    db: Database,
    accountId: string,
    stanzaId: string,
    state: 'sent' | 'acked' | 'delivered',
  ): MessageView | null {
    if (stanzaId === '') return null;
    const earlier = STATE_ORDER.slice(0, STATE_ORDER.indexOf(state));
    const row = prepare<unknown[], { id: number }>(db, ADVANCE_BY_STANZA_ID_SQL).get(
      state,
      accountId,
      stanzaId,
      earlier[0] ?? null,
      earlier[1] ?? null,
      earlier[2] ?? null,
    );
    return row ? getById(db, row.id) : null;
  },

  /** The error text of a failed message, null otherwise. */
  messageError(db: Database, id: string): string | null {
    const row = prepare<[number], { error: string | null }>(db, 'SELECT error FROM messages WHERE id = ?').get(
      parseId(id),
    );
    return row ? row.error : null;
  },

  /**
   * The newest page of one conversation in history order (`at`, then id), returned oldest first;
   * with `before`, the page that ends just before that message; with `after`, the page that starts
   * just after it; with `oldest`, the first page. Throws 'message-not-found' when `before` or
   * `after` names no stored message.
   */
  history(db: Database, accountId: string, peer: string, options: HistoryOptions = {}): MessageView[] {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const boundOf = (id: string) => {
      const found = prepare<[number], { at: number; id: number }>(db, 'SELECT at, id FROM messages WHERE id = ?').get(
        parseId(id),
      );
      if (!found) throw new StorageError('message-not-found', `There is no message with id ${id}.`);
      return found;
    };
    if (options.before === undefined && (options.after !== undefined || options.oldest)) {
      const from = options.after === undefined ? { at: Number.MIN_SAFE_INTEGER, id: -1 } : boundOf(options.after);
      return prepare<unknown[], Row>(db, HISTORY_AFTER_SQL)
        .all(accountId, normalizeBareJid(peer), from.at, from.id, limit)
        .map(toView);
    }
    let bound: { at: number; id: number } = { at: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
    if (options.before !== undefined) bound = boundOf(options.before);
    const rows = prepare<unknown[], Row>(db, HISTORY_SQL).all(
      accountId,
      normalizeBareJid(peer),
      bound.at,
      bound.id,
      limit,
    );
    return rows.reverse().map(toView);
  },

  /** Outgoing messages not yet written to a stream, oldest first: the order to send them in. */
  queuedMessages(db: Database, accountId: string): MessageView[] {
    return prepare<[string], Row>(db, OUTBOX_SQL).all(accountId).map(toView);
  },
};
