/**
 * Subscription requests waiting for the person's answer (migration 0013): who asked to see an
 * account's presence (RFC 6121 §3.1.2). One row per account and bare JID: a request the server
 * redelivers at login (§3.1.3) changes nothing.
 */
import type { Database } from 'better-sqlite3';
import type { SubscriptionRequestView } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';

/**
 * At most this many requests wait per account: anyone may send a subscribe, and a flood from
 * many addresses must not grow the profile without bound. Requests beyond it are not stored.
 */
export const MAX_PENDING_REQUESTS = 1000;

interface Row {
  account_id: string;
  jid: string;
  message: string | null;
  at: number;
}

function toView(row: Row): SubscriptionRequestView {
  return { accountId: row.account_id, jid: row.jid, message: row.message, at: row.at };
}

export const subscriptionRequestMethods = {
  /**
   * Stores a request unless one from `jid` is pending already; returns it when it is new, null for
   * a repeat (the first one's time and message stay) or when MAX_PENDING_REQUESTS wait already.
   */
  addSubscriptionRequest(
    db: Database,
    accountId: string,
    jid: string,
    message: string | null,
    at: number,
  ): SubscriptionRequestView | null {
    return db
      .transaction(() => {
        requireAccount(db, accountId);
        const bare = normalizeBareJid(jid);
        const waiting = prepare<[string], { n: number }>(
          db,
          'SELECT count(*) AS n FROM subscription_requests WHERE account_id = ?',
        ).get(accountId);
        if ((waiting?.n ?? 0) >= MAX_PENDING_REQUESTS) return null;
        const result = prepare(
          db,
          `INSERT INTO subscription_requests (account_id, jid, message, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, jid) DO NOTHING`,
        ).run(accountId, bare, message, at);
        return result.changes === 1 ? { accountId, jid: bare, message, at } : null;
      })
      .immediate();
  },

  /**
   * True when a request from `jid` would be dropped for the cap: none from `jid` is pending and
   * MAX_PENDING_REQUESTS wait already (what `addSubscriptionRequest`'s null does not tell apart).
   */
  subscriptionRequestsFull(db: Database, accountId: string, jid: string): boolean {
    const row = prepare<[string, string], { n: number; mine: number }>(
      db,
      'SELECT count(*) AS n, coalesce(sum(jid = ?), 0) AS mine FROM subscription_requests WHERE account_id = ?',
    ).get(normalizeBareJid(jid), accountId);
    return (row?.mine ?? 0) === 0 && (row?.n ?? 0) >= MAX_PENDING_REQUESTS;
  },

  /** Deletes the pending request from `jid`; true when there was one. */
  removeSubscriptionRequest(db: Database, accountId: string, jid: string): boolean {
    return (
      prepare(db, 'DELETE FROM subscription_requests WHERE account_id = ? AND jid = ?').run(
        accountId,
        normalizeBareJid(jid),
      ).changes === 1
    );
  },

  /** Every pending request of every account, oldest first. */
  listSubscriptionRequests(db: Database): SubscriptionRequestView[] {
    return prepare<[], Row>(
      db,
      'SELECT account_id, jid, message, at FROM subscription_requests ORDER BY at, account_id, jid',
    )
      .all()
      .map(toView);
  },
};
