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

test('0007-quic-connection-facts adds the QUIC columns and the events table and keeps every record', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'quic-connection-facts') + 1;
  assert.equal(version, 7);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  const insert = db.prepare(
    `INSERT INTO connections (id, account_id, jid, transport, host, port, srv, source, dnssec, tls_version, cipher, alpn, sni, certificates, verification, sasl_mechanism, channel_binding, bound_jid, started_at, ended_at, end_reason)
     VALUES (?, 'acc-1', 'alice@alpha.test', 'starttls', 'xmpp.alpha.test', 5222, NULL, 'srv', 'insecure', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', NULL, 'alpha.test', '[]', '{"trusted":true,"prooftype":"pkix","identity":"alpha.test","tried":[]}', 'SCRAM-SHA-256-PLUS', 'tls-exporter', 'alice@alpha.test/r', ?, NULL, NULL)`,
  );
  insert.run('conn-1', 1000);
  insert.run('conn-2', 2000);

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
  assert.deepEqual(columns(db, 'connections').slice(-4), ['quic_connection_id', 'quic_stream_id', 'quic', 'fallback']);
  assert.deepEqual(columns(db, 'connection_events'), [
    'id',
    'connection_id',
    'at',
    'kind',
    'from_address',
    'to_address',
    'rtt_before_ms',
    'rtt_after_ms',
    'detail',
  ]);
  assert.deepEqual(
    (db.pragma('foreign_key_list(connection_events)') as { table: string; on_delete: string }[]).map(
      (f) => `${f.table}:${f.on_delete}`,
    ),
    ['connections:CASCADE'],
  );
  // The JSON column refuses what is not JSON, like certificates and verification.
  assert.throws(() => db.prepare(`UPDATE connections SET quic = 'not json' WHERE id = 'conn-1'`).run(), /CHECK/);

  const storage = bindStorage(db);
  const old = storage.getConnection('conn-1');
  assert.equal(old?.boundJid, 'alice@alpha.test/r');
  assert.equal(old?.quicConnectionId, null);
  assert.equal(old?.quicStreamId, null);
  assert.equal(old?.quic, null);
  assert.equal(old?.fallback, null);
  assert.deepEqual(old?.pathEvents, []);
  assert.deepEqual(
    storage.listConnections('acc-1').map((r) => [r.id, r.pathEvents.length]),
    [
      ['conn-2', 0],
      ['conn-1', 0],
    ],
  );
  // An old row takes events from now on.
  storage.addPathEvent('conn-1', {
    at: 3000,
    kind: 'reconnected',
    from: null,
    to: '192.0.2.7:50000',
    rttBeforeMs: null,
    rttAfterMs: 48,
    detail: 'the network changed',
  });
  assert.equal(storage.getConnection('conn-1')?.pathEvents.length, 1);
  db.close();
});
