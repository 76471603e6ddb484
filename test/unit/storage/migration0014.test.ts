/** Review: 0014 on a version-13 profile with data, then the storage works on it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

test('0014 migrates a version-13 profile with messages, drafts, unread and block lists', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 13));
  db.prepare(
    `INSERT INTO accounts (id, jid, created_at, sort_order, label, color) VALUES ('a1', 'alice@a.test', 1, 0, NULL, '#2f6fdf')`,
  ).run();
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES ('a1', ?, ?, ?, ?, ?, 0)`,
  );
  insert.run('stranger@b.test', 'in', 'hi there', 10, 'received');
  insert.run('bob@a.test', 'in', 'lunch?', 20, 'received');
  insert.run('bob@a.test', 'out', 'yes', 30, 'acked');
  const conv = db.prepare(
    `INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at) VALUES ('a1', ?, ?, ?, ?, ?, ?)`,
  );
  conv.run('stranger@b.test', 10, 1, 0, '', 10);
  conv.run('bob@a.test', 30, 0, 30, 'see you', 20);
  conv.run('draft@c.test', 40, 0, 40, 'only a draft', 40);
  db.prepare(`INSERT INTO blocked_jids (account_id, jid) VALUES ('a1', 'stranger@b.test')`).run();
  assert.deepEqual(
    migrate(db, migrations),
    migrations.slice(13).map((m) => m.version),
  );
  const s = bindStorage(db);
  assert.deepEqual(
    s.listConversations().map((c) => [c.peer, c.unread, c.draft, c.stranger, c.blocked]),
    [
      ['draft@c.test', 0, 'only a draft', false, false],
      ['bob@a.test', 0, 'see you', false, false],
      ['stranger@b.test', 1, '', true, true],
    ],
  );
  // The storage goes on from there: new messages count, search finds the old text.
  s.insertMessage({
    accountId: 'a1',
    peer: 'stranger@b.test',
    direction: 'in',
    body: 'again',
    stanzaId: null,
    at: 50,
    state: 'received',
  });
  assert.equal(s.getConversation('a1', 'stranger@b.test')?.unread, 2);
  assert.deepEqual(
    s.search('lunch').messages.map((h) => h.message.body),
    ['lunch?'],
  );
  db.close();
});
