/** The presence the person chose for each account (migration 0013: accounts.presence_show, presence_status). */
import type { Database } from 'better-sqlite3';
import type { OwnPresence } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { prepare } from './statements.ts';

export const ownPresenceMethods = {
  /** What the account announces; 'available' without status for an unknown account. */
  ownPresence(db: Database, accountId: string): OwnPresence {
    const row = prepare<[string], { presence_show: OwnPresence['show']; presence_status: string | null }>(
      db,
      'SELECT presence_show, presence_status FROM accounts WHERE id = ?',
    ).get(accountId);
    return row ? { show: row.presence_show, status: row.presence_status } : { show: 'available', status: null };
  },

  /** Stores what the account announces from now on (every later login too). */
  setOwnPresence(db: Database, accountId: string, presence: OwnPresence): void {
    db.transaction(() => {
      requireAccount(db, accountId);
      prepare(db, 'UPDATE accounts SET presence_show = ?, presence_status = ? WHERE id = ?').run(
        presence.show,
        presence.status,
        accountId,
      );
    }).immediate();
  },
};
