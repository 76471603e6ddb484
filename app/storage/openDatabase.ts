/**
 * Opens (creating if needed) the SQLite file and migrates it. This and `storage.ts` are the only
 * places that know the database is in this thread: moving storage to a worker changes those two.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate } from './migrate.ts';
import { migrations } from './migrations/index.ts';

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the database at `path` (or `:memory:`). A file database and its `-wal` and `-shm` files are
 * readable by their owner only (0600), whatever the process umask: they hold message history and
 * security records.
 */
export function openDatabase(path: string): Database {
  if (path !== ':memory:' && path !== '') makePrivate(path);
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

/**
 * Creates `path` 0600 when missing (SQLite creates `-wal` and `-shm` with the mode of the database
 * file: sqlite3 os_unix.c, findCreateFileMode), and tightens to 0600 the files an older Quiver
 * created under the umask (0644).
 */
function makePrivate(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}
