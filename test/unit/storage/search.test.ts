/**
 * search.run over storage (search.ts): conversations by address or roster name (LIKE, escaped),
 * messages by FTS5 with the person's words quoted, so no input is ever an FTS syntax error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';
import { ftsQuery, MESSAGE_SEARCH_SQL } from '../../../app/storage/search.ts';
import { setup, msg } from './memoryStorage.ts';

test('message text is found by word prefix, newest first, with the match marked by U+0002/U+0003', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'the quarterly report is late', 100));
  s.insertMessage(msg(id, 'Reports are done', 300, { peer: 'carol@example.org', direction: 'out', state: 'acked' }));
  s.insertMessage(msg(id, 'nothing here', 200));
  const { messages } = s.search('report');
  assert.deepEqual(
    messages.map((h) => h.message.body),
    ['Reports are done', 'the quarterly report is late'],
  );
  assert.equal(messages[1]?.snippet, 'the quarterly \u0002report\u0003 is late');
  assert.equal(s.search('quart late').messages.length, 1, 'every word must match');
  assert.equal(s.search('report', 1).messages.length, 1);
});

test('conversations match on the address or the roster name, case-insensitively, with LIKE escaped', (t) => {
  const { s, id } = setup(t);
  s.upsertRosterItem(id, {
    jid: 'bob@example.org',
    name: 'Robert Smith',
    subscription: 'both',
    ask: false,
    groups: [],
  });
  s.insertMessage(msg(id, 'hi', 1));
  s.insertMessage(msg(id, 'hi', 2, { peer: 'under_score@example.net' }));
  s.insertMessage(msg(id, 'hi', 3, { peer: 'underXscore@example.net' }));
  assert.deepEqual(
    s.search('SMITH').conversations.map((c) => c.peer),
    ['bob@example.org'],
  );
  assert.deepEqual(
    s.search('r_s').conversations.map((c) => c.peer),
    ['under_score@example.net'],
  );
  assert.deepEqual(
    s.search('%').conversations.map((c) => c.peer),
    [],
  );
});

test('hostile queries return results or nothing, never an error', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'a"b OR c NEAR(d e) f* ^g', 1));
  s.insertMessage(msg(id, 'plain words', 2));
  const hostile = [
    'a"b OR',
    '"',
    '""',
    'NEAR(',
    'NEAR(a b, 2)',
    '*',
    '^',
    'a* OR b*',
    'AND',
    'NOT plain',
    '(((',
    'col:plain',
    'body: plain',
    '\\',
    '%_',
    '!@#$%^&*()_+{}|:"<>?~`-=[]\\;\',./'.repeat(6).slice(0, 200),
    '\u0000x',
    'ﬀ ǅ 🙂',
  ];
  for (const query of hostile) {
    assert.doesNotThrow(() => s.search(query), `query ${JSON.stringify(query)}`);
  }
  assert.equal(s.search('NOT plain').messages.length, 0, 'NOT is a word, not an operator');
  assert.equal(s.search('a"b OR').messages.length, 1);
  assert.equal(ftsQuery('a"b OR'), '"a""b"* "OR"*');
  assert.equal(ftsQuery('*** ^^'), null);
});

test('message search on 100,000 messages uses the FTS5 index', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  const s = bindStorage(db);
  const id = s.addAccount({ jid: 'alice@example.org' }).id;
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES (?, ?, 'in', ?, ?, 'received', ?)`,
  );
  db.transaction(() => {
    for (let n = 0; n < 100_000; n++) insert.run(id, `p${n % 50}@example.org`, `message number ${n} filler`, n, n);
    insert.run(id, 'needle@example.org', 'a rare xylophone appears', 100_001, 100_001);
  })();
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${MESSAGE_SEARCH_SQL}`).all('"xylo"*', 50) as { detail: string }[])
    .map((r) => r.detail)
    .join('\n');
  assert.match(plan, /VIRTUAL TABLE INDEX .*messages_fts|SCAN messages_fts VIRTUAL TABLE/);
  assert.doesNotMatch(plan, /SCAN m\b(?! USING)/, plan);
  assert.deepEqual(
    s.search('xylo').messages.map((h) => h.message.peer),
    ['needle@example.org'],
  );
  db.close();
});
