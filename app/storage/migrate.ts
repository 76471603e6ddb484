/**
 * Brings a database to the newest schema. `PRAGMA user_version` holds the number of the last
 * migration applied; each migration runs in its own transaction together with the bump of
 * `user_version`, so a crash leaves the database at a whole version.
 */
import type { Database } from 'better-sqlite3';
import type { Migration } from './migrations/migration.ts';
import { StorageError } from './storageError.ts';

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the migrations newer than the database's version. Returns the versions applied. */
export function migrate(db: Database, migrations: readonly Migration[]): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StorageError(
      'storage-too-new',
      `This profile was written by a newer Quiver (schema ${current}; this version knows ${migrations.length}). ` +
        'Update Quiver, or start this version with a different profile.',
    );
  }
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      m.up(db);
      // PRAGMA does not take bound parameters; the version is an integer we checked above.
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
