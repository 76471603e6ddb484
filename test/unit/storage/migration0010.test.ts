import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

function indexSql(db: Database): Record<string, string> {
  const rows = db
    .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL`)
    .all() as { name: string; sql: string }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.sql.replace(/\s+/g, ' ')]));
}

/** A version-9 database with one account and a message in each state, both directions. */
function v9(): { db: Database; version: number } {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'outbox-states') + 1;
  assert.equal(version, 10);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, stanza_id, origin_id, server_id, sender, at, state, error)
     VALUES ('acc-1', 'bob@alpha.test', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run('out', 'queued', 'u-1', null, null, null, 10, 'queued', null);
  insert.run('out', 'sent', 'u-2', null, null, null, 20, 'sent', null);
  insert.run('out', 'acked', 'u-3', null, null, null, 30, 'acked', null);
  insert.run('out', 'receipt came', 'u-4', null, null, null, 40, 'received', null);
  insert.run('out', 'refused', 'u-5', null, null, null, 50, 'failed', 'bob@alpha.test does not exist.');
  insert.run('in', 'hello', 'b-1', 'o-1', 'srv-1', 'bob@alpha.test/phone', 60, 'received', null);
  // The newest row is deleted: its id must still never be reused.
  insert.run('in', 'deleted', 'b-2', null, null, null, 70, 'received', null);
  db.prepare(`DELETE FROM messages WHERE body = 'deleted'`).run();
  return { db, version };
}

test('0010-outbox-states rebuilds messages: outgoing received becomes delivered, rows and indexes kept', () => {
  const { db, version } = v9();
  const before = indexSql(db);
  const rowsBefore = db.prepare('SELECT * FROM messages ORDER BY id').all() as Record<string, unknown>[];

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);

  // Every index of 0001/0006 is there again, unchanged, except the history index, which now
  // orders by the time a message was sent; two new ones serve the outbox and our ids.
  const after = indexSql(db);
  for (const name of ['messages_outbox', 'messages_server_id', 'messages_origin', 'messages_by_stanza_id']) {
    assert.equal(after[name], before[name], name);
  }
  assert.match(after.messages_history ?? '', /ON messages \(account_id, peer, at, id\)/);
  assert.deepEqual(Object.keys(after).sort(), [
    'messages_by_stanza_id',
    'messages_history',
    'messages_origin',
    'messages_our_stanza_ids',
    'messages_outbox',
    'messages_pending',
    'messages_server_id',
  ]);

  const rowsAfter = db.prepare('SELECT * FROM messages ORDER BY id').all() as Record<string, unknown>[];
  assert.deepEqual(
    rowsAfter,
    rowsBefore.map((r) => ({
      ...r,
      state: r.direction === 'out' && r.state === 'received' ? 'delivered' : r.state,
      // A pre-0010 'sent' message may never have reached the server: pending, sent again once.
      sm_seq: r.direction === 'out' && r.state === 'sent' ? 0 : null,
      arrived_at: r.at,
    })),
  );
  assert.deepEqual(
    rowsAfter.map((r) => r.state),
    ['queued', 'sent', 'acked', 'delivered', 'failed', 'received'],
  );
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');

  // The foreign key survived the rebuild, and the new tables cascade with the account.
  db.prepare(
    `INSERT INTO archive_positions (account_id, last_id, last_at, complete) VALUES ('acc-1', 'x', 1, 1)`,
  ).run();
  assert.throws(
    () =>
      db
        .prepare(
          `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at)
      VALUES ('nobody', 'b', 'in', 'x', 1, 'received', 1)`,
        )
        .run(),
    /FOREIGN KEY constraint failed/,
  );
  assert.throws(() => db.prepare(`UPDATE messages SET state = 'lost' WHERE id = 1`).run(), /CHECK constraint failed/);

  // Ids are never reused: the next message gets a new id above the deleted one.
  migrate(db, migrations); // the storage methods read the current schema
  const storage = bindStorage(db);
  const next = storage.insertMessage({
    accountId: 'acc-1',
    peer: 'bob@alpha.test',
    direction: 'in',
    body: 'new',
    stanzaId: 'b-3',
    at: 80,
    state: 'received',
  });
  assert.equal(next.message.id, '8');
  assert.equal(storage.getMessage('4')?.state, 'delivered');
  assert.equal(storage.getMessage('5')?.error, 'bob@alpha.test does not exist.');
  assert.equal(
    storage.insertMessage({
      accountId: 'acc-1',
      peer: 'bob@alpha.test',
      direction: 'in',
      body: 'hello',
      stanzaId: 'b-1',
      serverId: 'srv-1',
      at: 60,
      state: 'received',
    }).inserted,
    false,
    'dedupe by server id still works',
  );

  storage.removeAccount('acc-1');
  for (const table of ['messages', 'archive_positions']) {
    assert.equal(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), 0, table);
  }
  db.close();
});

test('0010-outbox-states on an empty messages table', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 9));
  assert.deepEqual(migrate(db, migrations.slice(0, 10)), [10]);
  const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
  for (const t of ['archive_positions', 'fast_tokens', 'messages', 'sm_states']) assert.ok(tables.includes(t), t);
  db.close();
});
