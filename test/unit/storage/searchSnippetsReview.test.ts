/**
 * The TEMP snippet table (app/storage/searchSnippets.ts) is made once per connection. A search
 * run inside a transaction that is then rolled back takes the table's creation back with it: the
 * next search must make it again, not fail with "no such table" for the rest of the session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

test('a search inside a rolled-back transaction does not break the searches after it', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  db.prepare(
    `INSERT INTO accounts (id, jid, created_at, sort_order, label, color) VALUES ('a1', 'alice@a.test', 1, 0, NULL, '#2f6fdf')`,
  ).run();
  db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES ('a1', 'p@a.test', 'in', 'hello world', 1, 'received', 0)`,
  ).run();
  const s = bindStorage(db);
  assert.throws(
    () =>
      db.transaction(() => {
        assert.equal(s.search('hel').messages.length, 1);
        throw new Error('rolled back');
      })(),
    /rolled back/,
  );
  assert.deepEqual(
    s.search('hel').messages.map((h) => h.snippet),
    ['\u0002hello\u0003 world'],
  );
  assert.equal(db.prepare('SELECT count(*) FROM temp.search_snippets').pluck().get(), 0, 'no message text left');
  db.close();
});
