/**
 * Drops `connections.migrations`. 0001 reserved it for the RFC 9000 §9 connection migrations of a
 * QUIC connection, "appended later"; nothing ever wrote or read it, and `SecurityRecord` has no such
 * field, so every row holds the default '[]'. Should migrations be recorded one day, that is a new
 * migration with the shape the record then needs.
 *
 * `ALTER TABLE ... DROP COLUMN` needs SQLite 3.35 (better-sqlite3 bundles a newer one). It refuses a
 * column that an index, a foreign key or another column's CHECK names; this one is named only by its
 * own CHECK, which goes with it.
 */
import type { Migration } from './migration.ts';

export const dropConnectionMigrations: Migration = {
  version: 5,
  name: 'drop-connection-migrations',
  up(db) {
    db.exec(`ALTER TABLE connections DROP COLUMN migrations;`);
  },
};
