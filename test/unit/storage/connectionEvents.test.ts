/** The QUIC facts of a security record and its path events (issue 11). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { PathEvent, SecurityRecord } from '../../../app/contract/viewModels.ts';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { MAX_PATH_EVENTS } from '../../../app/storage/connectionEvents.ts';
import { bindStorage, StorageError } from '../../../app/storage/storage.ts';
import { securityRecord } from './fixtures.ts';
import { setup } from './memoryStorage.ts';

function quicRecord(over: Partial<SecurityRecord> = {}): SecurityRecord {
  return securityRecord({
    transport: 'quic',
    port: 443,
    source: 'srv:_xmppq-client._udp',
    quicConnectionId: 'qc-7f3a',
    quicStreamId: 4,
    quic: {
      version: 'QUIC v1',
      pathMtu: 1452,
      ech: 'not available',
      sharedWith: 2,
      resumed: false,
      earlyData: 'not offered',
      localAddress: '192.0.2.10:50123',
      remoteAddress: '[2001:db8::5]:443',
    },
    fallback: null,
    ...over,
  });
}

function event(at: number, over: Partial<PathEvent> = {}): PathEvent {
  return {
    at,
    kind: 'migrated',
    from: '192.0.2.10:50123',
    to: '198.51.100.4:41000',
    rttBeforeMs: 21.5,
    rttAfterMs: 48,
    detail: 'path validated from the new address',
    ...over,
  };
}

const notFound = (e: unknown) => e instanceof StorageError && e.code === 'connection-not-found';

test('a QUIC record with its facts and path events reads back identical', (t) => {
  const { s, id } = setup(t);
  const record = quicRecord({
    accountId: id,
    fallback: 'The QUIC session refused another stream; this account got a QUIC connection of its own.',
    pathEvents: [event(2), event(3, { kind: 'checked', from: null, to: null, detail: 'XEP-0198 ack' })],
  });
  assert.deepEqual(s.insertConnection(record), record);
  assert.deepEqual(s.getConnection(record.id), record);
  assert.deepEqual(s.listConnections(id), [record]);
});

test('a TCP record has no QUIC facts and no events', (t) => {
  const { s, id } = setup(t);
  const record = securityRecord({ accountId: id });
  assert.deepEqual(s.saveConnection(record), record);
  assert.equal(s.getConnection(record.id)?.quic, null);
  assert.deepEqual(s.getConnection(record.id)?.pathEvents, []);
});

test('saveConnection patches the QUIC fields and leaves the events to addPathEvent', (t) => {
  const { s, id } = setup(t);
  const first = quicRecord({ accountId: id, quic: null, quicStreamId: null, pathEvents: [event(1)] });
  s.saveConnection(first);
  assert.deepEqual(s.getConnection(first.id)?.pathEvents, [event(1)]);
  const later = quicRecord({
    accountId: id,
    fallback: 'QUIC did not answer within the head start; TCP won.',
    pathEvents: [event(5), event(6)],
  });
  const saved = s.saveConnection(later);
  assert.deepEqual(saved, { ...later, pathEvents: [event(1)] });
  // Back to TCP facts: null clears.
  const cleared = s.saveConnection({
    ...later,
    quic: null,
    quicConnectionId: null,
    quicStreamId: null,
    fallback: null,
  });
  assert.equal(cleared.quic, null);
  assert.equal(cleared.quicConnectionId, null);
  assert.equal(cleared.fallback, null);
  assert.deepEqual(s.updateConnection(first.id, { quicStreamId: 8 }).quicStreamId, 8);
});

test('addPathEvent appends without rewriting the record, oldest first whatever the order of arrival', (t) => {
  const { s, id } = setup(t);
  const record = s.insertConnection(quicRecord({ accountId: id }));
  const after = s.addPathEvent(record.id, event(20));
  assert.deepEqual(after, { ...record, pathEvents: [event(20)] });
  s.addPathEvent(record.id, event(10, { kind: 'migration-failed', detail: 'no path from the new address' }));
  s.addPathEvent(record.id, event(30, { kind: 'reconnected', rttBeforeMs: null, rttAfterMs: null }));
  assert.deepEqual(
    s.getConnection(record.id)?.pathEvents.map((e) => [e.at, e.kind]),
    [
      [10, 'migration-failed'],
      [20, 'migrated'],
      [30, 'reconnected'],
    ],
  );
  assert.throws(() => s.addPathEvent('nope', event(1)), notFound);
});

test('addPathEvent does not touch the connections row', () => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  const record = s.insertConnection(quicRecord());
  let updates = 0;
  db.function('count_update', () => ++updates);
  db.exec(`CREATE TEMP TRIGGER watch AFTER UPDATE ON connections BEGIN SELECT count_update(); END`);
  s.addPathEvent(record.id, event(1));
  assert.equal(updates, 0);
  s.updateConnection(record.id, { endReason: 'closed' });
  assert.equal(updates, 1);
  db.close();
});

test(`each connection keeps only its newest ${MAX_PATH_EVENTS} events`, (t) => {
  const { s, id } = setup(t);
  const a = s.insertConnection(quicRecord({ id: 'a', accountId: id }));
  const b = s.insertConnection(quicRecord({ id: 'b', accountId: id, pathEvents: [event(0)] }));
  const total = MAX_PATH_EVENTS + 25;
  for (let i = 1; i <= total; i++) s.addPathEvent(a.id, event(i));
  const kept = s.getConnection(a.id)!.pathEvents;
  assert.equal(kept.length, MAX_PATH_EVENTS);
  assert.equal(kept[0]!.at, total - MAX_PATH_EVENTS + 1);
  assert.equal(kept.at(-1)!.at, total);
  // The cap is per connection.
  assert.deepEqual(s.getConnection(b.id)!.pathEvents, [event(0)]);
  // A new record that arrives with too many events is capped too.
  const many = Array.from({ length: total }, (_, i) => event(i));
  assert.equal(
    s.saveConnection(quicRecord({ id: 'c', accountId: id, pathEvents: many })).pathEvents.length,
    MAX_PATH_EVENTS,
  );
});

test('deleting a connection deletes its events', () => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  s.insertConnection(quicRecord({ id: 'gone', pathEvents: [event(1), event(2)] }));
  s.insertConnection(quicRecord({ id: 'kept', pathEvents: [event(3)] }));
  db.prepare(`DELETE FROM connections WHERE id = 'gone'`).run();
  assert.deepEqual(db.prepare('SELECT connection_id, at FROM connection_events ORDER BY at').all(), [
    { connection_id: 'kept', at: 3 },
  ]);
  db.close();
});

test('listConnections reads the events of all listed connections in one query (no N+1)', () => {
  const ran: string[] = [];
  const db = new Sqlite(':memory:', { verbose: (sql) => ran.push(String(sql)) });
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  const s = bindStorage(db);
  const account = s.addAccount({ jid: 'alice@example.org' }).id;
  for (let i = 0; i < 5; i++)
    s.insertConnection(
      quicRecord({ id: `c${i}`, accountId: account, startedAt: i, pathEvents: [event(i), event(i + 10)] }),
    );
  ran.length = 0;
  const records = s.listConnections(account, 3);
  assert.deepEqual(
    records.map((r) => [r.id, r.pathEvents.map((e) => e.at)]),
    [
      ['c4', [4, 14]],
      ['c3', [3, 13]],
      ['c2', [2, 12]],
    ],
  );
  assert.equal(ran.length, 2, ran.join('\n'));
  db.close();
});

test('a stored QUIC column that is not QuicDetails is refused with a clear error', () => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  s.insertConnection(quicRecord({ id: 'bad' }));
  db.prepare(`UPDATE connections SET quic = '{"version":"QUIC v1"}' WHERE id = 'bad'`).run();
  assert.throws(
    () => s.getConnection('bad'),
    (e: unknown) => e instanceof StorageError && e.code === 'connection-corrupt' && /bad/.test(e.message),
  );
  db.close();
});

test('QUIC facts stored before resumption and 0-RTT were recorded read as a new handshake without 0-RTT', () => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  s.insertConnection(quicRecord({ id: 'old' }));
  db.prepare(
    `UPDATE connections SET quic = json_remove(json_remove(quic, '$.resumed'), '$.earlyData') WHERE id = 'old'`,
  ).run();
  const quic = s.getConnection('old')!.quic!;
  assert.equal(quic.resumed, false);
  assert.equal(quic.earlyData, 'not offered');
  db.close();
});
