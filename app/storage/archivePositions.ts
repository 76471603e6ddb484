/**
 * Where XEP-0313 (MAM) catch-up resumes for each account (migration 0010). After a login that did
 * not resume its stream, the client asks the archive for what came after `lastId`: XEP-0313 §4.1.2
 * "... the client MAY use the 'after' ... RSM" with the last id it has seen. The position moves only
 * to ids the client has safely stored: the last id of a COMPLETE page walk (the server said
 * complete='true'), or the newest live message's stanza-id stamped by the account's own server.
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

export interface ArchivePosition {
  /** The archive's XEP-0359 stanza-id of the last message seen. */
  lastId: string;
  /** Its time (ms since the epoch) when known; used when the archive no longer knows `lastId`. */
  lastAt: number | null;
  /** True when the walk that produced it reached the end of the archive. */
  complete: boolean;
  /**
   * The time in the history (messages.at, ms) reached at the position: the latest of the messages
   * stored up to it (the catch-up's floor, SessionMessaging). What the archive holds after the
   * position goes no earlier. Null when not known (a position stored before migration 0016).
   */
  historyAt: number | null;
}

interface Row {
  last_id: string;
  last_at: number | null;
  complete: number;
  history_at: number | null;
}

export const archivePositionMethods = {
  /** The account's archive position, or null before its first catch-up. */
  archivePosition(db: Database, accountId: string): ArchivePosition | null {
    const row = prepare<[string], Row>(
      db,
      'SELECT last_id, last_at, complete, history_at FROM archive_positions WHERE account_id = ?',
    ).get(accountId);
    return row
      ? { lastId: row.last_id, lastAt: row.last_at, complete: row.complete === 1, historyAt: row.history_at }
      : null;
  },

  /**
   * Stores the account's archive position (replacing the previous one). The caller must have stored
   * every message up to `lastId` first (in its own transaction or before): a position ahead of
   * the stored messages loses the ones in between. An empty `lastId` is a programmer error.
   */
  setArchivePosition(db: Database, accountId: string, position: ArchivePosition): void {
    if (position.lastId === '') throw new RangeError('an archive position needs a stanza-id');
    prepare(
      db,
      `INSERT INTO archive_positions (account_id, last_id, last_at, complete, history_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET last_id = excluded.last_id, last_at = excluded.last_at,
         complete = excluded.complete, history_at = excluded.history_at`,
    ).run(accountId, position.lastId, position.lastAt, position.complete ? 1 : 0, position.historyAt);
  },

  /** Forgets the account's archive position: the next catch-up starts from the archive's policy default. */
  clearArchivePosition(db: Database, accountId: string): void {
    prepare(db, 'DELETE FROM archive_positions WHERE account_id = ?').run(accountId);
  },
};
