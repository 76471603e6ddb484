import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';

test('0008-transport-memory adds the transport_memory table keyed by network and domain, touching nothing else', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'transport-memory') + 1;
  assert.equal(version, 8);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  const tablesBefore = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
  const tablesAfter = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
  assert.deepEqual(tablesAfter, [...tablesBefore, 'transport_memory'].sort());
  assert.equal(db.prepare('SELECT count(*) FROM accounts').pluck().get(), 1);

  const info = db.pragma('table_info(transport_memory)') as { name: string; pk: number }[];
  assert.deepEqual(
    info.map((c) => c.name),
    ['network_key', 'domain', 'outcome', 'at'],
  );
  assert.deepEqual(
    info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name),
    ['network_key', 'domain'],
  );

  const insert = db.prepare('INSERT INTO transport_memory (network_key, domain, outcome, at) VALUES (?, ?, ?, ?)');
  insert.run('ab'.repeat(16), 'alpha.test', 'quic-failed', 1);
  // The checks refuse what the storage methods never write: a raw address as the key, another outcome.
  assert.throws(() => insert.run('192.168.1.1', 'alpha.test', 'quic-ok', 1), /CHECK constraint failed/);
  assert.throws(() => insert.run('AB'.repeat(16), 'alpha.test', 'quic-ok', 1), /CHECK constraint failed/);
  assert.throws(() => insert.run('cd'.repeat(16), 'alpha.test', 'tcp', 1), /CHECK constraint failed/);
  assert.throws(() => insert.run('cd'.repeat(16), '', 'quic-ok', 1), /CHECK constraint failed/);
  assert.throws(() => insert.run('ab'.repeat(16), 'alpha.test', 'quic-ok', 2), /UNIQUE constraint failed/);
  db.close();
});
