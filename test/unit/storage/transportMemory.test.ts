import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage, type Storage } from '../../../app/storage/storage.ts';
import {
  GET_TRANSPORT_OUTCOME_SQL,
  MAX_TRANSPORT_MEMORY_ROWS,
  PRUNE_TRANSPORT_MEMORY_SQL,
} from '../../../app/storage/transportMemory.ts';

const NET_A = 'a1'.repeat(16);
const NET_B = 'b2'.repeat(16);

function open(t: { after(fn: () => void): void }): { db: Database; storage: Storage } {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  return { db, storage: bindStorage(db) };
}

test('an outcome is stored per network and domain; the latest one replaces the earlier', (t) => {
  const { storage } = open(t);
  assert.equal(storage.getTransportOutcome(NET_A, 'example.org'), null);
  storage.recordTransportOutcome({ networkKey: NET_A, domain: 'Example.ORG.', outcome: 'quic-failed', at: 1000 });
  assert.deepEqual(storage.getTransportOutcome(NET_A, 'example.org'), {
    networkKey: NET_A,
    domain: 'example.org',
    outcome: 'quic-failed',
    at: 1000,
  });
  assert.equal(storage.getTransportOutcome(NET_B, 'example.org'), null, 'another network knows nothing');
  assert.equal(storage.getTransportOutcome(NET_A, 'example.net'), null, 'another domain knows nothing');
  storage.recordTransportOutcome({ networkKey: NET_A, domain: 'example.org', outcome: 'quic-ok', at: 2000 });
  assert.deepEqual(storage.getTransportOutcome(NET_A, 'EXAMPLE.org'), {
    networkKey: NET_A,
    domain: 'example.org',
    outcome: 'quic-ok',
    at: 2000,
  });
  assert.equal(storage.clearTransportMemory(), 1);
  assert.equal(storage.getTransportOutcome(NET_A, 'example.org'), null);
});

test(`the table keeps the newest ${MAX_TRANSPORT_MEMORY_ROWS} rows: recording beyond drops the oldest`, (t) => {
  const { db, storage } = open(t);
  const key = (i: number) => i.toString(16).padStart(32, '0');
  for (let i = 0; i < MAX_TRANSPORT_MEMORY_ROWS + 5; i++) {
    // Written out of time order: the oldest are the ones with the smallest `at`, not the first written.
    const at = i % 2 === 0 ? 10_000 + i : i;
    storage.recordTransportOutcome({ networkKey: key(i), domain: 'example.org', outcome: 'quic-failed', at });
  }
  assert.equal(db.prepare('SELECT count(*) FROM transport_memory').pluck().get(), MAX_TRANSPORT_MEMORY_ROWS);
  // The five oldest were the odd i = 1, 3, 5, 7, 9 (at = i).
  for (const i of [1, 3, 5, 7, 9]) assert.equal(storage.getTransportOutcome(key(i), 'example.org'), null, `row ${i}`);
  assert.notEqual(storage.getTransportOutcome(key(11), 'example.org'), null);
  assert.notEqual(storage.getTransportOutcome(key(0), 'example.org'), null);
  // Refreshing an old row makes it the newest: it survives the next prune.
  storage.recordTransportOutcome({ networkKey: key(11), domain: 'example.org', outcome: 'quic-ok', at: 99_999 });
  storage.recordTransportOutcome({ networkKey: key(5000), domain: 'example.org', outcome: 'quic-ok', at: 99_999 });
  assert.notEqual(storage.getTransportOutcome(key(11), 'example.org'), null);
  assert.equal(storage.getTransportOutcome(key(13), 'example.org'), null, 'the next oldest went instead');
});

test('the lookup is a primary-key search and the prune walks the at index', (t) => {
  const { db } = open(t);
  const plan = (sql: string, args: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('\n');
  assert.match(
    plan(GET_TRANSPORT_OUTCOME_SQL, [NET_A, 'example.org']),
    /SEARCH transport_memory USING PRIMARY KEY \(network_key=\? AND domain=\?\)/,
  );
  const prune = plan(PRUNE_TRANSPORT_MEMORY_SQL, [MAX_TRANSPORT_MEMORY_ROWS]);
  assert.doesNotMatch(prune, /USE TEMP B-TREE FOR ORDER BY/, prune);
});
