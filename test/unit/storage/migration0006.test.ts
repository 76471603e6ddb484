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

function indexes(db: Database): { name: string; unique: boolean }[] {
  return (
    db
      .prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
      .all() as { name: string; sql: string }[]
  ).map((r) => ({ name: r.name, unique: r.sql.startsWith('CREATE UNIQUE') }));
}

test('0006-dedupe-by-unique-ids replaces the stanza-id unique index and keeps every message', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'dedupe-by-unique-ids') + 1;
  assert.equal(version, 6);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, stanza_id, origin_id, server_id, at, state)
     VALUES ('acc-1', ?, ?, ?, ?, NULL, ?, ?, ?)`,
  );
  insert.run('bob@alpha.test', 'in', 'one', '1', null, 1, 'received');
  insert.run('bob@alpha.test', 'in', 'empty id', '', null, 2, 'received');
  insert.run('bob@alpha.test', 'out', 'mine', 'u-1', null, 3, 'sent');
  // Nothing wrote server_id before 0006; should two rows share one, the oldest keeps it.
  insert.run('carol@alpha.test', 'in', 'archived', 'c1', 'srv-1', 4, 'received');
  insert.run('carol@alpha.test', 'in', 'archived again', 'c2', 'srv-1', 5, 'received');
  // Today's defect: the second message with id '1' (another resource) cannot even be stored.
  assert.throws(() => insert.run('bob@alpha.test', 'in', 'two', '1', null, 6, 'received'), /UNIQUE constraint failed/);

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
  assert.equal(columns(db, 'messages').at(-1), 'sender');
  assert.deepEqual(indexes(db), [
    { name: 'messages_by_stanza_id', unique: false },
    { name: 'messages_history', unique: false },
    { name: 'messages_origin', unique: true },
    { name: 'messages_outbox', unique: false },
    { name: 'messages_server_id', unique: true },
  ]);
  assert.deepEqual(db.prepare(`SELECT body, stanza_id, server_id, sender FROM messages ORDER BY id`).all(), [
    { body: 'one', stanza_id: '1', server_id: null, sender: null },
    { body: 'empty id', stanza_id: null, server_id: null, sender: null },
    { body: 'mine', stanza_id: 'u-1', server_id: null, sender: null },
    { body: 'archived', stanza_id: 'c1', server_id: 'srv-1', sender: null },
    { body: 'archived again', stanza_id: 'c2', server_id: null, sender: null },
  ]);

  // The storage methods run on the newest schema: the later migrations keep these rows.
  migrate(db, migrations);
  const storage = bindStorage(db);
  const two = storage.insertMessage({
    accountId: 'acc-1',
    peer: 'bob@alpha.test/laptop',
    sender: 'bob@alpha.test/laptop',
    direction: 'in',
    body: 'two',
    stanzaId: '1',
    at: 6,
    state: 'received',
  });
  assert.equal(two.inserted, true);
  assert.deepEqual(
    storage.history('acc-1', 'bob@alpha.test').map((m) => [m.body, m.stanzaId]),
    [
      ['one', '1'],
      ['empty id', ''],
      ['mine', 'u-1'],
      ['two', '1'],
    ],
  );
  assert.equal(storage.findMessageByStanzaId('acc-1', 'out', 'bob@alpha.test', 'u-1')?.body, 'mine');
  // The surviving server id still deduplicates a redelivery of the archived message.
  const again = storage.insertMessage({
    accountId: 'acc-1',
    peer: 'carol@alpha.test',
    direction: 'in',
    body: 'archived',
    stanzaId: 'c1',
    serverId: 'srv-1',
    at: 7,
    state: 'received',
  });
  assert.equal(again.inserted, false);
  db.close();
});
