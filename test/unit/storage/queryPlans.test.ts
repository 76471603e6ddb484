/**
 * The hot queries must search their index, never scan a table or sort rows: a conversation with
 * 100 000 messages must page as fast as one with ten.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import {
  ADVANCE_BY_STANZA_ID_SQL,
  BY_ORIGIN_ID_SQL,
  BY_SERVER_ID_SQL,
  BY_STANZA_ID_SQL,
  CONVERSATIONS_SQL,
  HISTORY_SQL,
  OUTBOX_SQL,
} from '../../../app/storage/messages.ts';
import {
  ACK_BY_STANZA_ID_SQL,
  OURS_BY_STANZA_ID_SQL,
  FAIL_BY_STANZA_ID_SQL,
  PENDING_SQL,
  SENT_WITH_SEQ_SQL,
} from '../../../app/storage/outbox.ts';
import { LIST_CONNECTIONS_SQL } from '../../../app/storage/connections.ts';
import { CAP_PATH_EVENTS_SQL, PATH_EVENTS_SQL } from '../../../app/storage/connectionEvents.ts';

function plan(db: Database, sql: string, args: unknown[]): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
}

function withDb(t: { after(fn: () => void): void }): Database {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  return db;
}

test('history searches messages_history with a range on (at, id) and needs no sort', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, HISTORY_SQL, ['acc', 'bob@example.org', 5000, 100, 50]), [
    'SEARCH messages USING INDEX messages_history (account_id=? AND peer=? AND at<?)',
  ]);
});

test('pending messages search the partial index messages_pending and need no sort', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, PENDING_SQL, ['acc']), ['SEARCH messages USING INDEX messages_pending (account_id=?)']);
  assert.deepEqual(plan(db, SENT_WITH_SEQ_SQL, ['acc']), [
    'SEARCH messages USING INDEX messages_pending (account_id=?)',
  ]);
});

test('acks, refusals and receipts find our messages by id in messages_our_stanza_ids', (t) => {
  const db = withDb(t);
  for (const [sql, args] of [
    [ACK_BY_STANZA_ID_SQL, ['acc', 'id1']],
    [OURS_BY_STANZA_ID_SQL, ['acc', 'id1']],
    [FAIL_BY_STANZA_ID_SQL, ['reason', 'acc', 'id1']],
    [ADVANCE_BY_STANZA_ID_SQL, ['delivered', 'acc', 'id1', 'queued', 'sent', 'acked']],
  ] as const) {
    assert.deepEqual(plan(db, sql, [...args]), [
      'SEARCH messages USING INDEX messages_our_stanza_ids (account_id=? AND stanza_id=?)',
    ]);
  }
});

test('the outbox searches the partial index messages_outbox and needs no sort', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, OUTBOX_SQL, ['acc']), [
    'SEARCH messages USING INDEX messages_outbox (account_id=? AND state=?)',
  ]);
});

test('look-ups by the id attribute search messages_by_stanza_id and need no sort', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, BY_STANZA_ID_SQL, ['acc', 'in', 'bob@example.org', 'id1']), [
    'SEARCH messages USING INDEX messages_by_stanza_id (account_id=? AND direction=? AND peer=? AND stanza_id=?)',
  ]);
});

test("dedupe by our server's stanza-id searches the unique index messages_server_id", (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, BY_SERVER_ID_SQL, ['acc', 'srv-1']), [
    'SEARCH messages USING INDEX messages_server_id (account_id=? AND server_id=?)',
  ]);
});

test('dedupe by origin-id and sender searches the unique index messages_origin', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, BY_ORIGIN_ID_SQL, ['acc', 'in', 'bob@example.org/phone', 'o-1']), [
    'SEARCH messages USING INDEX messages_origin (account_id=? AND direction=? AND sender=? AND origin_id=?)',
  ]);
});

test('conversations walk messages_history per account and search each peer latest (sorting one row per peer)', (t) => {
  const db = withDb(t);
  const steps = plan(db, CONVERSATIONS_SQL, ['acc']);
  assert.ok(steps.includes('SEARCH messages USING COVERING INDEX messages_history (account_id=?)'), steps.join('; '));
  assert.ok(
    steps.includes('SEARCH l USING COVERING INDEX messages_history (account_id=? AND peer=?)'),
    steps.join('; '),
  );
  assert.equal(
    steps.some((s) => s.startsWith('SCAN messages') || s.startsWith('SCAN l')),
    false,
    steps.join('; '),
  );
});

test('listConnections searches connections_by_account and needs no sort', (t) => {
  const db = withDb(t);
  assert.deepEqual(plan(db, LIST_CONNECTIONS_SQL, ['acc', 20]), [
    'SEARCH connections USING INDEX connections_by_account (account_id=?)',
  ]);
});

test("the path events of listed connections search connection_events_by_connection, in the index's order", (t) => {
  const db = withDb(t);
  const steps = plan(db, PATH_EVENTS_SQL, ['["c1","c2"]']);
  assert.equal(
    steps.some((s) => s.includes('TEMP B-TREE')),
    false,
    steps.join('; '),
  );
  assert.ok(
    steps.some((s) =>
      s.startsWith('SEARCH connection_events USING INDEX connection_events_by_connection (connection_id=?)'),
    ),
    steps.join('; '),
  );
  assert.equal(
    steps.some((s) => s.startsWith('SCAN connection_events')),
    false,
    steps.join('; '),
  );
});

test('capping path events searches connection_events_by_connection', (t) => {
  const db = withDb(t);
  const steps = plan(db, CAP_PATH_EVENTS_SQL, ['c1', 'c1', 200]);
  assert.equal(
    steps.some((s) => s.startsWith('SCAN connection_events')),
    false,
    steps.join('; '),
  );
});
