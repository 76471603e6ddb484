/**
 * XEP-0484 FAST tokens per account (migration 0010): with one, the next login takes a single
 * round trip and needs no password. A FAST token logs in like the password until it expires:
 * whoever reads it can log in as the account. It is kept in the database (0600 in a 0700 profile
 * directory, openDatabase.ts / openProfile.ts) for the reasons quicTickets.ts gives for session
 * tickets, bounded by its expiry, and it is cleared wherever the password stops being valid: when
 * the password is changed (core.ts account.update) and when the account is removed (the row
 * cascades with the account).
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

export interface FastToken {
  /** The SASL mechanism the token is for, e.g. HT-SHA-256-NONE (XEP-0484 §3). */
  mechanism: string;
  token: string;
  /** When it stops being valid (the 'expiry' of <token/>), ms since the epoch. */
  expiry: number;
  /** When it was received, ms since the epoch. */
  savedAt: number;
}

interface Row {
  mechanism: string;
  token: string;
  expiry: number;
  saved_at: number;
}

export const fastTokenMethods = {
  /** Keeps the account's token (replacing the previous one); an already expired token is not stored. */
  saveFastToken(db: Database, accountId: string, token: FastToken, now: number): void {
    if (token.expiry <= now) {
      prepare(db, 'DELETE FROM fast_tokens WHERE account_id = ?').run(accountId);
      return;
    }
    prepare(
      db,
      `INSERT INTO fast_tokens (account_id, mechanism, token, expiry, saved_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET mechanism = excluded.mechanism, token = excluded.token,
         expiry = excluded.expiry, saved_at = excluded.saved_at`,
    ).run(accountId, token.mechanism, token.token, token.expiry, token.savedAt);
  },

  /** The account's token, or null when it has none; an expired token is deleted and loads as null. */
  loadFastToken(db: Database, accountId: string, now: number): FastToken | null {
    const row = prepare<[string], Row>(
      db,
      'SELECT mechanism, token, expiry, saved_at FROM fast_tokens WHERE account_id = ?',
    ).get(accountId);
    if (!row) return null;
    if (row.expiry <= now || row.token === '' || row.mechanism === '') {
      prepare(db, 'DELETE FROM fast_tokens WHERE account_id = ?').run(accountId);
      return null;
    }
    return { mechanism: row.mechanism, token: row.token, expiry: row.expiry, savedAt: row.saved_at };
  },

  /** Forgets the account's token (its password changed, or the server refused the token). */
  clearFastToken(db: Database, accountId: string): void {
    prepare(db, 'DELETE FROM fast_tokens WHERE account_id = ?').run(accountId);
  },
};
