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

test('0005-drop-connection-migrations drops the unused column and keeps every record', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'drop-connection-migrations') + 1;
  assert.equal(version, 5);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  db.prepare(
    `INSERT INTO connections (id, account_id, jid, transport, host, port, srv, source, dnssec, tls_version, cipher, alpn, sni, certificates, verification, sasl_mechanism, channel_binding, bound_jid, started_at, ended_at, end_reason)
     VALUES ('conn-1', 'acc-1', 'alice@alpha.test', 'starttls', 'xmpp.alpha.test', 5222, '_xmpp-client._tcp.alpha.test', 'srv', 'insecure', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', NULL, 'alpha.test', '[]', '{"trusted":true,"prooftype":"pkix","identity":"alpha.test","tried":[]}', 'SCRAM-SHA-256-PLUS', 'tls-exporter', 'alice@alpha.test/r', 1000, 2000, 'closed')`,
  ).run();
  assert.equal(db.prepare(`SELECT migrations FROM connections WHERE id = 'conn-1'`).pluck().get(), '[]');

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
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
  ]);
  // The index and the foreign key survive the table rewrite.
  assert.deepEqual(
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'connections' AND name NOT LIKE 'sqlite_%'`,
      )
      .pluck()
      .all(),
    ['connections_by_account'],
  );
  assert.deepEqual(
    (db.pragma('foreign_key_list(connections)') as { table: string; on_delete: string }[]).map(
      (f) => `${f.table}:${f.on_delete}`,
    ),
    ['accounts:SET NULL'],
  );

  // The storage methods read the newest schema: the record survives the later migrations too.
  migrate(db, migrations);
  const storage = bindStorage(db);
  const record = storage.getConnection('conn-1');
  assert.equal(record?.accountId, 'acc-1');
  assert.equal(record?.boundJid, 'alice@alpha.test/r');
  assert.equal(record?.endReason, 'closed');
  assert.deepEqual(
    storage.listConnections('acc-1').map((r) => r.id),
    ['conn-1'],
  );
  db.close();
});
