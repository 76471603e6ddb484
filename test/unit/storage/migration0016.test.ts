/** 0016 on a version-15 profile with an archive position: the catch-up's floor falls back to the message there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';
import { archiveStart } from '../../../app/core/archiveStart.ts';

test('0016 adds history_at to a version-15 profile; its position has none, and the message there stands in', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 15));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('a1', 'bob@a.test', 1, 0)`).run();
  db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, server_id, at, state, arrived_at)
     VALUES ('a1', 'alice@a.test', 'in', 'hi', 'S9', 4242, 'received', 4242)`,
  ).run();
  db.prepare(
    `INSERT INTO archive_positions (account_id, last_id, last_at, complete) VALUES ('a1', 'S9', 5000, 0)`,
  ).run();
  assert.deepEqual(migrate(db, migrations), [16]);
  assert.equal(schemaVersion(db), 16);
  const storage = bindStorage(db);
  assert.deepEqual(storage.archivePosition('a1'), { lastId: 'S9', lastAt: 5000, complete: false, historyAt: null });
  assert.equal(archiveStart(storage, 'a1', 10_000).floor, 4242);
  storage.setArchivePosition('a1', { lastId: 'S10', lastAt: 6000, complete: true, historyAt: 4300 });
  assert.equal(archiveStart(storage, 'a1', 10_000).floor, 4300);
  // The table is STRICT: a time is an integer.
  assert.throws(() => db.prepare(`UPDATE archive_positions SET history_at = 1.5`).run(), /cannot store REAL/);
});
