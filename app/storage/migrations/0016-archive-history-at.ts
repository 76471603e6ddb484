/**
 * Where the next archive catch-up places what it brings (the message-order fix after issue 13's
 * CI run): with the archive position, the time in the history reached at that position (the floor).
 * What the archive holds after the position goes no earlier, so a chat keeps the archive's order
 * across a catch-up that a dropped stream cut short. Positions stored before have none (null):
 * the catch-up then looks the message up by its archive id, and failing that uses the time the
 * walk ended when it was complete (app/core/archiveStart.ts).
 */
import type { Migration } from './migration.ts';

export const archiveHistoryAt: Migration = {
  version: 16,
  name: 'archive-history-at',
  up(db) {
    db.exec('ALTER TABLE archive_positions ADD COLUMN history_at INTEGER');
  },
};
