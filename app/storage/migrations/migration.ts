import type { Database } from 'better-sqlite3';

/**
 * One numbered schema step. `up` runs inside a transaction opened by `migrate` (do not open one
 * here) and must leave the schema at `version`. Migrations are append-only: once released, a
 * migration is never edited; a change is a new migration.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
