/**
 * The roster as the server last told us (RFC 6121 §2), with its version for roster versioning
 * (RFC 6121 §2.6). Presence is live and never stored: listed items carry `presence: null`.
 */
import type { Database } from 'better-sqlite3';
import type { RosterItemView, Subscription } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';

/** One `<item/>` of a roster result or push. */
export interface RosterItemInput {
  jid: string;
  name: string | null;
  /** RFC 6121 §2.1.2.5: 'remove' appears only in pushes and deletes the item. */
  subscription: Subscription | 'remove';
  /** RFC 6121 §2.1.2.2: ask='subscribe' is the only defined value. */
  ask: boolean;
  groups: string[];
}

interface Row {
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask: number;
  groups: string;
}

function toView(row: Row): RosterItemView {
  return {
    jid: row.jid,
    name: row.name,
    subscription: row.subscription,
    ask: row.ask === 1,
    groups: JSON.parse(row.groups) as string[],
    presence: null,
  };
}

function upsert(db: Database, accountId: string, item: RosterItemInput): void {
  const jid = normalizeBareJid(item.jid);
  if (item.subscription === 'remove') {
    prepare(db, 'DELETE FROM roster_items WHERE account_id = ? AND jid = ?').run(accountId, jid);
    return;
  }
  // RFC 6121 §2.1.2.4: a group name may appear only once per item.
  const groups = [...new Set(item.groups)];
  prepare(
    db,
    `INSERT INTO roster_items (account_id, jid, name, subscription, ask, groups) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id, jid) DO UPDATE SET
       name = excluded.name, subscription = excluded.subscription, ask = excluded.ask, groups = excluded.groups`,
  ).run(accountId, jid, item.name, item.subscription, item.ask ? 1 : 0, JSON.stringify(groups));
}

function setVersion(db: Database, accountId: string, ver: string | null): void {
  prepare(db, 'UPDATE accounts SET roster_ver = ? WHERE id = ?').run(ver, accountId);
}

export const rosterMethods = {
  /**
   * Replaces the whole roster with a roster result (RFC 6121 §2.1.4) and records its version
   * (null when the server does not version rosters). Items with subscription 'remove' are skipped.
   */
  replaceRoster(db: Database, accountId: string, items: RosterItemInput[], ver: string | null): void {
    db.transaction(() => {
      requireAccount(db, accountId);
      prepare(db, 'DELETE FROM roster_items WHERE account_id = ?').run(accountId);
      for (const item of items) upsert(db, accountId, item);
      setVersion(db, accountId, ver);
    }).immediate();
  },

  /**
   * Applies one roster push (RFC 6121 §2.1.6): adds or updates the item, or deletes it when the
   * subscription is 'remove'. RFC 6121 §2.6.3: a push carries the new version in `ver`; pass it
   * here (undefined leaves the stored version unchanged).
   */
  upsertRosterItem(db: Database, accountId: string, item: RosterItemInput, ver?: string | null): void {
    db.transaction(() => {
      requireAccount(db, accountId);
      upsert(db, accountId, item);
      if (ver !== undefined) setVersion(db, accountId, ver);
    }).immediate();
  },

  /** The roster ordered by name (or JID when unnamed), presence null. */
  listRoster(db: Database, accountId: string): RosterItemView[] {
    return prepare<[string], Row>(
      db,
      `SELECT jid, name, subscription, ask, groups FROM roster_items WHERE account_id = ?
       ORDER BY coalesce(name, jid) COLLATE NOCASE, jid`,
    )
      .all(accountId)
      .map(toView);
  },

  /** The stored roster version to send in the next roster get, null when none. */
  rosterVersion(db: Database, accountId: string): string | null {
    const row = prepare<[string], { roster_ver: string | null }>(
      db,
      'SELECT roster_ver FROM accounts WHERE id = ?',
    ).get(accountId);
    return row ? row.roster_ver : null;
  },
};
