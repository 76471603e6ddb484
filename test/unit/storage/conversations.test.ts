/**
 * The conversation list in SQLite (migration 0012, conversations.ts): created by any message,
 * unread counted once per new incoming message after the last read, drafts kept across restarts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage, openStorage } from '../../../app/storage/storage.ts';
import { setup, msg } from './memoryStorage.ts';

test('0012-conversations fills conversations from stored messages, indexes their text and colours accounts', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 11));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('a1', 'alice@alpha.test', 1, 0)`).run();
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('a2', 'alice@beta.test', 2, 1)`).run();
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES (?, ?, ?, ?, ?, ?, 0)`,
  );
  insert.run('a1', 'bob@alpha.test', 'in', 'Crème brûlée tonight?', 10, 'received');
  insert.run('a1', 'bob@alpha.test', 'out', 'yes please', 30, 'acked');
  insert.run('a2', 'carol@beta.test', 'in', 'hello', 20, 'received');
  assert.deepEqual(migrate(db, migrations.slice(0, 12)), [12]);
  migrate(db, migrations);
  const s = bindStorage(db);
  assert.deepEqual(
    s.listConversations().map((c) => [c.accountId, c.peer, c.lastActivity, c.unread, c.lastMessage?.body]),
    [
      ['a1', 'bob@alpha.test', 30, 0, 'yes please'],
      ['a2', 'carol@beta.test', 20, 0, 'hello'],
    ],
  );
  assert.deepEqual(
    s.listAccounts().map((a) => a.color),
    ['#2f6fdf', '#c2410c'],
  );
  // The backfilled index finds old text, diacritics folded.
  assert.deepEqual(
    s.search('creme').messages.map((h) => h.message.body),
    ['Crème brûlée tonight?'],
  );
  // A new account continues the colour rotation after the two that existed.
  assert.equal(s.addAccount({ jid: 'dave@gamma.test' }).color, '#15803d');
  db.close();
});

test('a message from anyone creates its conversation; incoming ones count as unread, ours do not', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'hi', 100, { peer: 'Stranger@Example.net/phone' }));
  assert.equal(s.listConversations()[0]?.stranger, true);
  assert.equal(s.listConversations()[0]?.unread, 1);
  s.insertMessage(msg(id, 'hello', 110, { peer: 'stranger@example.net', direction: 'out', state: 'queued' }));
  const [c] = s.listConversations();
  assert.equal(c?.peer, 'stranger@example.net');
  // Our answer says the person read what came before it (conversationUnread.test.ts).
  assert.equal(c?.unread, 0);
  assert.equal(c?.lastActivity, 110);
  assert.equal(c?.lastMessage?.body, 'hello');
  // We answered: no longer a stranger's first message.
  assert.equal(c?.stranger, false);
  assert.equal(c?.blocked, false);
  assert.equal(c?.name, null);
});

test('a redelivered message (same server stanza-id) raises unread once', (t) => {
  const { s, id } = setup(t);
  const m = msg(id, 'once', 100, { serverId: 'srv-1' });
  assert.equal(s.insertMessage(m).inserted, true);
  assert.equal(s.insertMessage(m).inserted, false);
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 1);
});

test('after markRead, archive messages older than the read do not count; newer ones do', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'a', 100));
  s.insertMessage(msg(id, 'b', 200));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 2);
  assert.equal(s.markConversationRead(id, 'bob@example.org', 1000)?.unread, 0);
  // Catch-up from the archive: sent before the read, stored after it.
  s.insertMessage(msg(id, 'old from archive', 500, { serverId: 'arch-1' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 0);
  s.insertMessage(msg(id, 'sent after the read', 1500));
  const c = s.getConversation(id, 'bob@example.org');
  assert.equal(c?.unread, 1);
  assert.equal(c?.lastActivity, 1500);
  // Last activity never moves back for an older message stored later.
  s.insertMessage(msg(id, 'older still', 50, { serverId: 'arch-2' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.lastActivity, 1500);
  assert.equal(s.markConversationRead(id, 'nobody@example.org', 1000), null);
});

test('unread counts and drafts survive closing and reopening the database', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-conv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'quiver.db');
  let s = openStorage(path);
  const id = s.addAccount({ jid: 'alice@example.org' }).id;
  s.insertMessage(msg(id, 'unread', 100));
  assert.equal(s.setConversationDraft(id, 'bob@example.org', 'half a thought', 200)?.draft, 'half a thought');
  // A draft to someone new starts a conversation.
  assert.equal(s.setConversationDraft(id, 'new@example.org', 'first words', 300)?.lastActivity, 300);
  s.close();
  s = openStorage(path);
  try {
    const bob = s.getConversation(id, 'bob@example.org');
    assert.equal(bob?.unread, 1);
    assert.equal(bob?.draft, 'half a thought');
    assert.equal(s.getConversation(id, 'new@example.org')?.draft, 'first words');
    assert.equal(s.setConversationDraft(id, 'bob@example.org', '', 400)?.draft, '');
    assert.equal(s.setConversationDraft(id, 'nobody@example.org', '', 400), null);
  } finally {
    s.close();
  }
});

test('startConversation creates an empty conversation once and keeps an existing one', (t) => {
  const { s, id } = setup(t);
  const c = s.startConversation(id, 'Carol@Example.org', 700);
  assert.deepEqual([c.peer, c.lastActivity, c.unread, c.lastMessage, c.draft], ['carol@example.org', 700, 0, null, '']);
  assert.equal(s.startConversation(id, 'carol@example.org', 900).lastActivity, 700);
  assert.throws(() => s.startConversation('no-such-account', 'carol@example.org', 1), /no account/);
});

test('a stranger is someone not in the roster who wrote first: a chat the person started, or drafted, is none', (t) => {
  const { s, id } = setup(t);
  // Review: a chat started with someone not in the roster was tagged 'Stranger' with Add contact / Block.
  assert.equal(s.startConversation(id, 'carol@example.net', 1).stranger, false);
  s.insertMessage(msg(id, 'hi carol', 2, { peer: 'carol@example.net', direction: 'out', state: 'queued' }));
  s.insertMessage(msg(id, 'hi back', 3, { peer: 'carol@example.net' }));
  assert.equal(s.getConversation(id, 'carol@example.net')?.stranger, false);
  assert.equal(s.setConversationDraft(id, 'dave@example.net', 'about the…', 4)?.stranger, false);
  // Someone who wrote first stays a stranger when the person then opens a chat with them.
  s.insertMessage(msg(id, 'buy now', 5, { peer: 'spam@example.net' }));
  assert.equal(s.startConversation(id, 'spam@example.net', 6).stranger, true);
  assert.equal(s.setConversationDraft(id, 'spam@example.net', 'no', 7)?.stranger, true);
});

test('0014 keeps chats the person started (no message yet, or one of ours) out of the strangers', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 13));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('a1', 'alice@alpha.test', 1, 0)`).run();
  const conversation = db.prepare(
    `INSERT INTO conversations (account_id, peer, last_activity, read_through, started_at) VALUES ('a1', ?, 1, 1, 1)`,
  );
  const message = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES ('a1', ?, ?, 'x', 1, 'received', 1)`,
  );
  conversation.run('started@beta.test');
  conversation.run('wrote@beta.test');
  message.run('wrote@beta.test', 'in');
  migrate(db, migrations);
  const byPeer = new Map(
    bindStorage(db)
      .listConversations()
      .map((c) => [c.peer, c.stranger]),
  );
  assert.deepEqual(Object.fromEntries(byPeer), { 'started@beta.test': false, 'wrote@beta.test': true });
  db.close();
});

test('the roster gives the name; the own JID is no stranger; a block list, once it exists, marks blocked', (t) => {
  const { s, id } = setup(t);
  s.upsertRosterItem(id, { jid: 'bob@example.org', name: 'Bob', subscription: 'both', ask: false, groups: [] });
  s.insertMessage(msg(id, 'hi', 1));
  s.insertMessage(msg(id, 'note to self', 2, { peer: 'alice@example.org' }));
  s.insertMessage(msg(id, 'spam', 3, { peer: 'spam@example.net' }));
  const byPeer = new Map(s.listConversations().map((c) => [c.peer, c]));
  assert.equal(byPeer.get('bob@example.org')?.name, 'Bob');
  assert.equal(byPeer.get('bob@example.org')?.stranger, false);
  assert.equal(byPeer.get('alice@example.org')?.stranger, false);
  assert.equal(byPeer.get('spam@example.net')?.stranger, true);
  assert.equal(byPeer.get('spam@example.net')?.blocked, false);
});

test('a peer on the block list (blocked_jids, migration 0013) shows as blocked', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  // Until the contacts migration is registered the table may be missing: the same shape then.
  db.exec(
    'CREATE TABLE IF NOT EXISTS blocked_jids (account_id TEXT NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (account_id, jid))',
  );
  const s = bindStorage(db);
  const id = s.addAccount({ jid: 'alice@example.org' }).id;
  s.insertMessage(msg(id, 'spam', 1, { peer: 'spam@example.net' }));
  s.insertMessage(msg(id, 'hi', 2));
  db.prepare('INSERT INTO blocked_jids (account_id, jid) VALUES (?, ?)').run(id, 'spam@example.net');
  assert.deepEqual(
    s.listConversations().map((c) => [c.peer, c.blocked]),
    [
      ['bob@example.org', false],
      ['spam@example.net', true],
    ],
  );
  db.close();
});
