import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { StorageError } from '../../../app/storage/storageError.ts';

function columns(db: Database, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

function objects(db: Database, type: 'table' | 'index'): string[] {
  return (
    db
      .prepare(`SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .all(type) as { name: string }[]
  ).map((r) => r.name);
}

test('migrations are numbered 1, 2, 3, … in order', () => {
  assert.deepEqual(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1),
  );
});

test('0001-initial applies on an empty database and creates the expected schema', () => {
  const db = new Sqlite(':memory:');
  assert.deepEqual(migrate(db, migrations.slice(0, 1)), [1]);
  assert.equal(schemaVersion(db), 1);
  assert.deepEqual(objects(db, 'table'), ['accounts', 'connections', 'messages', 'roster_items', 'settings']);
  assert.deepEqual(objects(db, 'index'), [
    'connections_by_account',
    'messages_dedupe',
    'messages_history',
    'messages_outbox',
  ]);
  assert.deepEqual(columns(db, 'accounts'), [
    'id',
    'jid',
    'enabled',
    'resolver',
    'extra_ca_pem',
    'transport',
    'password_blob',
    'roster_ver',
    'created_at',
    'sort_order',
  ]);
  assert.deepEqual(columns(db, 'roster_items'), ['account_id', 'jid', 'name', 'subscription', 'ask', 'groups']);
  assert.deepEqual(columns(db, 'messages'), [
    'id',
    'account_id',
    'peer',
    'direction',
    'body',
    'stanza_id',
    'origin_id',
    'server_id',
    'at',
    'state',
    'error',
  ]);
  assert.deepEqual(columns(db, 'connections'), [
    'id',
    'account_id',
    'jid',
    'transport',
    'host',
    'port',
    'srv',
    'source',
    'dnssec',
    'tls_version',
    'cipher',
    'alpn',
    'sni',
    'certificates',
    'verification',
    'sasl_mechanism',
    'channel_binding',
    'bound_jid',
    'started_at',
    'ended_at',
    'end_reason',
    'migrations',
  ]);
  assert.deepEqual(columns(db, 'settings'), ['key', 'value']);
  // The foreign keys: roster and messages go with the account, connection records stay detached.
  const fk = (table: string) =>
    (db.pragma(`foreign_key_list(${table})`) as { table: string; on_delete: string }[]).map(
      (f) => `${f.table}:${f.on_delete}`,
    );
  assert.deepEqual(fk('roster_items'), ['accounts:CASCADE']);
  assert.deepEqual(fk('messages'), ['accounts:CASCADE']);
  assert.deepEqual(fk('connections'), ['accounts:SET NULL']);
  db.close();
});

test('migrate is a no-op on an up-to-date database', () => {
  const db = new Sqlite(':memory:');
  migrate(db, migrations);
  assert.deepEqual(migrate(db, migrations), []);
  assert.equal(schemaVersion(db), migrations.length);
  db.close();
});

test('a failing migration leaves the database at the previous version', () => {
  const db = new Sqlite(':memory:');
  const broken = {
    version: 2,
    name: 'broken',
    up(d: Database) {
      d.exec('CREATE TABLE half_done (x INTEGER)');
      d.exec('THIS IS NOT SQL');
    },
  };
  assert.throws(() => migrate(db, [migrations[0]!, broken]), /syntax error/);
  assert.equal(schemaVersion(db), 1);
  assert.equal(objects(db, 'table').includes('half_done'), false);
  db.close();
});

test('a database from a newer Quiver is refused with storage-too-new', () => {
  const db = new Sqlite(':memory:');
  db.pragma(`user_version = ${migrations.length + 1}`);
  assert.throws(
    () => migrate(db, migrations),
    (e: unknown) => e instanceof StorageError && e.code === 'storage-too-new' && /newer Quiver/.test(e.message),
  );
  db.close();
});
