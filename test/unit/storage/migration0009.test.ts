import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';

test('0009-quic-tickets adds the quic_tickets table, touching nothing else', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'quic-tickets') + 1;
  assert.equal(version, 9);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  const tablesBefore = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
  const tablesAfter = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
  assert.deepEqual(tablesAfter, [...tablesBefore, 'quic_tickets'].sort());
  assert.equal(db.prepare('SELECT count(*) FROM accounts').pluck().get(), 1);

  const insert = db.prepare(
    'INSERT INTO quic_tickets (server_name, alpn, ticket, received_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  insert.run('alpha.test', 'xmpp-client', '{}', 1000, 1000 + 604_800_000);
  // The checks refuse what the storage methods never write.
  assert.throws(() => insert.run('', 'xmpp-client', '{}', 1, 2), /CHECK constraint failed/);
  assert.throws(() => insert.run('alpha.test', 'xmpp-client', 'not json', 1, 2), /CHECK constraint failed/);
  assert.throws(() => insert.run('alpha.test', 'xmpp-client', '{}', 2, 2), /CHECK constraint failed/);
  assert.throws(
    () => insert.run('alpha.test', 'xmpp-client', '{}', 1, 2 + 604_800_000),
    /CHECK constraint failed/,
    'more than 7 days',
  );
  db.close();
});
