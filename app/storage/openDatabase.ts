/**
 * Opens (creating if needed) the SQLite file and migrates it. This and `storage.ts` are the only
 * places that know the database is in this thread: moving storage to a worker changes those two.
 */
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate } from './migrate.ts';
import { migrations } from './migrations/index.ts';

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(path: string): Database {
  const db = new Sqlite(path);
  try {
    // WAL: readers do not block the writer; NORMAL is durable across application crashes in WAL
    // mode (only a power loss may drop the last transactions), at far less fsync cost than FULL.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
