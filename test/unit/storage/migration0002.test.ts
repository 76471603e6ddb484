import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

function columns(db: Database, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

test('0002-pins-and-posh applies on a version 1 database with data, and the data survives', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  assert.deepEqual(migrate(db, migrations.slice(0, 1)), [1]);
  // A profile written by the first schema: an account with a message and a roster item.
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  db.prepare(
    `INSERT INTO roster_items (account_id, jid, subscription) VALUES ('acc-1', 'bob@alpha.test', 'both')`,
  ).run();
  db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, stanza_id, at, state) VALUES ('acc-1', 'bob@alpha.test', 'in', 'hi', 's1', 5, 'received')`,
  ).run();

  assert.deepEqual(migrate(db, migrations.slice(0, 2)), [2]);
  assert.equal(schemaVersion(db), 2);
  assert.deepEqual(columns(db, 'pins'), ['account_id', 'domain', 'spki_sha256', 'certificate', 'created_at']);
  assert.deepEqual(columns(db, 'posh_cache'), [
    'domain',
    'url',
    'delegated_from',
    'fingerprints',
    'error',
    'fetched_at',
    'expires_at',
  ]);
  const fk = (db.pragma('foreign_key_list(pins)') as { table: string; on_delete: string }[]).map(
    (f) => `${f.table}:${f.on_delete}`,
  );
  assert.deepEqual(fk, ['accounts:CASCADE']);

  // The storage methods speak the newest schema: the data must survive the later migrations too.
  migrate(db, migrations);
  const storage = bindStorage(db);
  assert.equal(storage.getAccount('acc-1')?.jid, 'alice@alpha.test');
  assert.equal(storage.listRoster('acc-1').length, 1);
  assert.equal(db.prepare('SELECT body FROM messages').pluck().get(), 'hi');
  storage.addPin('acc-1', 'alpha.test', 'ab'.repeat(32), null, 7);
  assert.equal(storage.listPins('acc-1').length, 1);
  db.close();
});
