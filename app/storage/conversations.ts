/**
 * The one conversation list across accounts (issue 13): a row per account and peer, created by the
 * first message either way (`noteMessage`, called inside the message's own INSERT transaction) or
 * by `startConversation`; unread counts and drafts live here and survive a restart. A conversation
 * the person started or wrote in (`by_us`, migration 0014) is never a stranger's.
 *
 * Unread rule: a conversation keeps `read_through`, the time of the last `markConversationRead`.
 * A newly stored incoming message (never a duplicate: `insertMessage` returns before noting one)
 * adds one to `unread` when its `at` is after `read_through`. So an archive catch-up that brings
 * messages older than the last read adds nothing, while messages sent after it (delivered late,
 * from the archive or offline storage) do count. `markConversationRead` sets `unread` to 0; a message
 * of ours (from any of the person's devices) reads up to its `at`; the conversation with the account's
 * own address never counts (conversationActivity.ts).
 */
import type { Database } from 'better-sqlite3';
import type { ConversationView } from '../contract/viewModels.ts';
import { accountLabel } from './accountLabel.ts';
import { MESSAGE_COLUMNS, toView, type MessageRow } from './messages.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

interface Row {
  account_id: string;
  peer: string;
  last_activity: number;
  unread: number;
  draft: string;
  name: string | null;
  in_roster: number;
  own: number;
  by_us: number;
  blocked: number;
  removed_at: number | null;
  jid: string;
  label: string | null;
  color: string | null;
}

/** Whether the CONTACTS migration's block list (`blocked_jids (account_id, jid)`) exists yet. */
function hasBlockList(db: Database): boolean {
  return prepare(db, `SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'blocked_jids'`).get() !== undefined;
}

/** The SELECT every view is built from; `where` and `order` complete it. */
function selectSql(db: Database, rest: string): string {
  const blocked = hasBlockList(db)
    ? 'EXISTS (SELECT 1 FROM blocked_jids b WHERE b.account_id = c.account_id AND b.jid = c.peer)'
    : '0';
  return `SELECT c.account_id, c.peer, c.last_activity, c.unread, c.draft, r.name,
      r.jid IS NOT NULL AS in_roster, a.jid = c.peer AS own, c.by_us, ${blocked} AS blocked,
      a.removed_at, a.jid, a.label, a.color
    FROM conversations c JOIN accounts a ON a.id = c.account_id
    LEFT JOIN roster_items r ON r.account_id = c.account_id AND r.jid = c.peer ${rest}`;
}

/** The newest message of one conversation by (at, id); served by the history index. */
const LAST_MESSAGE_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE account_id = ? AND peer = ?
  ORDER BY at DESC, id DESC LIMIT 1`;

/** The bare JIDs of the listed (not removed) accounts: what a removed account's default label is told apart from. */
function listedJids(db: Database): string[] {
  return prepare<[], string>(db, 'SELECT jid FROM accounts WHERE removed_at IS NULL').pluck().all();
}

function toConversation(db: Database, row: Row, listed: readonly string[]): ConversationView {
  const last = prepare<[string, string], MessageRow>(db, LAST_MESSAGE_SQL).get(row.account_id, row.peer);
  const view: ConversationView = {
    accountId: row.account_id,
    peer: row.peer,
    name: row.name,
    lastMessage: last ? toView(last) : null,
    lastActivity: row.last_activity,
    unread: row.unread,
    draft: row.draft,
    // Issue 13: "strangers' FIRST messages are marked as such": not in the roster, and the person
    // neither started the conversation nor wrote in it (migration 0014).
    stranger: row.in_roster === 0 && row.own === 0 && row.by_us === 0,
    blocked: row.blocked === 1,
  };
  if (row.removed_at !== null) {
    view.removedAccount = {
      jid: row.jid,
      // The same default as a listed account's (accountLabel.ts), told apart from the listed ones.
      label: accountLabel(row, listed),
      color: row.color ?? '#2f6fdf',
    };
  }
  return view;
}

/** Most recent activity first; a tie goes to the newer last message (the higher local id). */
function byActivity(list: ConversationView[]): ConversationView[] {
  const id = (c: ConversationView) => (c.lastMessage ? Number(c.lastMessage.id) : 0);
  return list.sort((a, b) => b.lastActivity - a.lastActivity || id(b) - id(a) || (a.peer < b.peer ? -1 : 1));
}

/** Views of the rows `sql` selects (built by `selectSql`). */
export function conversationViews(db: Database, sql: string, ...params: unknown[]): ConversationView[] {
  const rows = prepare<unknown[], Row>(db, selectSql(db, sql)).all(...params);
  const listed = rows.some((row) => row.removed_at !== null) ? listedJids(db) : [];
  return rows.map((row) => toConversation(db, row, listed));
}

function usableAccount(db: Database, accountId: string): void {
  const row = prepare<[string], { removed_at: number | null }>(db, 'SELECT removed_at FROM accounts WHERE id = ?').get(
    accountId,
  );
  if (!row || row.removed_at !== null)
    throw new StorageError('account-not-found', `There is no account with id ${accountId}; it may have been removed.`);
}

export const conversationMethods = {
  /** Every conversation of every account (removed ones kept for history too), most recent first. */
  listConversations(db: Database): ConversationView[] {
    return byActivity(conversationViews(db, ''));
  },

  /** One account's conversations, most recent first. */
  conversations(db: Database, accountId: string): ConversationView[] {
    return byActivity(conversationViews(db, 'WHERE c.account_id = ?', accountId));
  },

  getConversation(db: Database, accountId: string, peer: string): ConversationView | null {
    return conversationViews(db, 'WHERE c.account_id = ? AND c.peer = ?', accountId, normalizeBareJid(peer))[0] ?? null;
  },

  /** The peers of an account's conversations (e.g. to announce their removal). */
  conversationPeers(db: Database, accountId: string): string[] {
    return prepare<[string], string>(db, 'SELECT peer FROM conversations WHERE account_id = ? ORDER BY peer')
      .pluck()
      .all(accountId);
  },

  /**
   * Creates the conversation (last activity `now`) unless it exists; returns it. Throws
   * account-not-found for a missing or removed account.
   */
  startConversation(db: Database, accountId: string, peer: string, now: number): ConversationView {
    const bare = normalizeBareJid(peer);
    db.transaction(() => {
      usableAccount(db, accountId);
      prepare(
        db,
        `INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at, by_us)
         VALUES (@accountId, @peer, @now, 0, @now, '', @now, 1) ON CONFLICT (account_id, peer) DO NOTHING`,
      ).run({ accountId, peer: bare, now });
    }).immediate();
    return conversationMethods.getConversation(db, accountId, bare) as ConversationView;
  },

  /**
   * The person has seen the conversation up to `now`: unread becomes 0 and incoming messages
   * stamped up to `now` never count again. Returns the conversation, null when there is none.
   */
  markConversationRead(db: Database, accountId: string, peer: string, now: number): ConversationView | null {
    const bare = normalizeBareJid(peer);
    const r = prepare(
      db,
      `UPDATE conversations SET unread = 0, read_through = max(read_through, last_activity, ?)
       WHERE account_id = ? AND peer = ?`,
    ).run(now, accountId, bare);
    return r.changes === 0 ? null : conversationMethods.getConversation(db, accountId, bare);
  },

  /**
   * Keeps the draft ('' clears it). A draft for a peer without a conversation creates one (last
   * activity `now`); clearing one that does not exist changes nothing and returns null.
   */
  setConversationDraft(
    db: Database,
    accountId: string,
    peer: string,
    draft: string,
    now: number,
  ): ConversationView | null {
    const bare = normalizeBareJid(peer);
    const changed = db
      .transaction(() => {
        usableAccount(db, accountId);
        const r = prepare(db, 'UPDATE conversations SET draft = ? WHERE account_id = ? AND peer = ?').run(
          draft,
          accountId,
          bare,
        );
        if (r.changes > 0 || draft === '') return r.changes > 0;
        prepare(
          db,
          `INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at, by_us)
           VALUES (@accountId, @peer, @now, 0, @now, @draft, @now, 1)`,
        ).run({ accountId, peer: bare, now, draft });
        return true;
      })
      .immediate();
    return changed ? conversationMethods.getConversation(db, accountId, bare) : null;
  },
};
