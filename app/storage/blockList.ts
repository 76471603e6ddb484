/**
 * An account's XEP-0191 block list as last received from its server (migration 0013). Blocked
 * bare JIDs are kept in stored form (normalizeBareJid) so they match `conversations.peer`; full
 * and domain JIDs as the server sent them.
 */
import type { Database } from 'better-sqlite3';
import { requireAccount } from './accounts.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';

/** Bare JIDs in stored form; others (full, domain) as given. */
function key(jid: string): string {
  return jid.includes('/') ? jid : normalizeBareJid(jid);
}

export const blockListMethods = {
  /** Replaces the account's whole block list (XEP-0191 §3.2: the list the server returned). */
  replaceBlockList(db: Database, accountId: string, jids: readonly string[]): void {
    db.transaction(() => {
      requireAccount(db, accountId);
      prepare(db, 'DELETE FROM blocked_jids WHERE account_id = ?').run(accountId);
      const insert = prepare(db, 'INSERT OR IGNORE INTO blocked_jids (account_id, jid) VALUES (?, ?)');
      for (const jid of jids) insert.run(accountId, key(jid));
    }).immediate();
  },

  /** Applies a push (XEP-0191 §3.3, §3.4): adds or removes these JIDs; `jids` empty with unblock removes all (§3.5). */
  applyBlockPush(db: Database, accountId: string, block: boolean, jids: readonly string[]): void {
    db.transaction(() => {
      requireAccount(db, accountId);
      if (!block && jids.length === 0) {
        prepare(db, 'DELETE FROM blocked_jids WHERE account_id = ?').run(accountId);
        return;
      }
      const sql = block
        ? 'INSERT OR IGNORE INTO blocked_jids (account_id, jid) VALUES (?, ?)'
        : 'DELETE FROM blocked_jids WHERE account_id = ? AND jid = ?';
      const statement = prepare(db, sql);
      for (const jid of jids) statement.run(accountId, key(jid));
    }).immediate();
  },

  /** The account's block list, sorted. */
  listBlocked(db: Database, accountId: string): string[] {
    return prepare<[string], { jid: string }>(db, 'SELECT jid FROM blocked_jids WHERE account_id = ? ORDER BY jid')
      .all(accountId)
      .map((row) => row.jid);
  },
};
