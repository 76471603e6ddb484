/**
 * search.run on a large profile (brief SEARCH-PERF): snippets are made only for the messages
 * returned, never for every match, and the results are the same as the one-query way that made a
 * snippet for every match (kept here as the reference). Migration 0015 gives messages_fts prefix
 * indexes for 2- and 3-character prefixes and keeps the index in step with the messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';
import { ftsQuery, MESSAGE_SEARCH_SQL } from '../../../app/storage/search.ts';

/** The search as released with migration 0012: a snippet for every match, then sort and limit. */
const REFERENCE_SQL = `SELECT m.id, snippet(messages_fts, 0, char(2), char(3), '…', 12) AS snippet
  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
  WHERE messages_fts MATCH ? ORDER BY m.at DESC, m.id DESC LIMIT ?`;

const WORDS = [
  'the',
  'café',
  'CAFE',
  'résumé',
  'resume',
  'Straße',
  'naïve',
  'report',
  'reporting',
  're',
  'lunch',
  'tomorrow',
  'see',
  'you',
  '🙂',
  'ﬀ',
  'ǅemal',
  '日本語',
  'über',
  'Ünïcödé',
  'x"y',
  'a-b',
  "it's",
];

function profile(version: number): Database {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, version));
  db.prepare(
    `INSERT INTO accounts (id, jid, created_at, sort_order, label, color) VALUES ('a1', 'alice@a.test', 1, 0, NULL, '#2f6fdf')`,
  ).run();
  return db;
}

/** `count` messages of pseudo-random words (the same every run); `at` is not in id order. */
function fill(db: Database, count: number, from = 0): void {
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES ('a1', ?, 'in', ?, ?, 'received', 0)`,
  );
  let seed = 7 + from;
  const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  db.transaction(() => {
    for (let n = from; n < from + count; n++) {
      const words = Array.from({ length: 2 + (next() % 30) }, () => WORDS[next() % WORDS.length]!);
      // Some equal times, some out of insertion order (an archive catch-up stores older messages later).
      insert.run(`p${n % 7}@a.test`, words.join(' '), (n * 7919) % 1000);
    }
  })();
}

const QUERIES = [
  'the',
  'cafe',
  'Café',
  'resume',
  're',
  'rep',
  'see you tomorrow',
  'strasse',
  'naive',
  'UBER',
  '日本',
  '🙂 ok',
  'x"y',
  "a-b it's",
  'ǅ',
  'ﬀ',
];

function assertSameAsReference(db: Database, label: string): void {
  const s = bindStorage(db);
  for (const query of QUERIES) {
    const fts = ftsQuery(query)!;
    for (const limit of [1, 50, 200]) {
      const expected = (db.prepare(REFERENCE_SQL).all(fts, limit) as { id: number; snippet: string }[]).map((r) => [
        String(r.id),
        r.snippet,
      ]);
      const actual = s.search(query, limit).messages.map((h) => [h.message.id, h.snippet]);
      assert.deepEqual(actual, expected, `${label}: ${JSON.stringify(query)} limit ${limit}`);
    }
  }
}

test('the search finds the matching messages first and makes no snippet while it looks for them', () => {
  assert.doesNotMatch(MESSAGE_SEARCH_SQL, /snippet\(/);
});

test('results and snippets are those of the snippet-for-every-match query, in Unicode and with diacritics', () => {
  const db = profile(migrations.length);
  fill(db, 3000);
  assertSameAsReference(db, 'current schema');
  db.close();
});

test('0015 migrates a version-14 profile with messages: prefix indexes, same results, triggers kept', () => {
  const db = profile(14);
  fill(db, 2000);
  const before = QUERIES.map((q) => db.prepare(REFERENCE_SQL).all(ftsQuery(q)!, 200));
  assert.deepEqual(
    migrate(db, migrations),
    migrations.slice(14).map((m) => m.version),
  );
  const sql = db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'messages_fts'`).pluck().get() as string;
  assert.match(sql, /prefix\s*=\s*'2 3'/);
  assert.deepEqual(
    QUERIES.map((q) => db.prepare(REFERENCE_SQL).all(ftsQuery(q)!, 200)),
    before,
  );
  assert.equal(
    (db.prepare(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`).run(), 'ok'),
    'ok',
  );
  // The triggers still keep the index: insert, edit, delete.
  fill(db, 500, 2000);
  const s = bindStorage(db);
  const id = db.prepare(`SELECT max(id) FROM messages`).pluck().get() as number;
  db.prepare(`UPDATE messages SET body = 'zebra crossing' WHERE id = ?`).run(id);
  assert.deepEqual(
    s.search('zeb').messages.map((h) => h.message.id),
    [String(id)],
  );
  assert.deepEqual(
    s.search('ze').messages.map((h) => h.snippet),
    ['\u0002zebra\u0003 crossing'],
  );
  db.prepare(`DELETE FROM messages WHERE id = ?`).run(id);
  assert.deepEqual(s.search('zebra').messages, []);
  db.prepare(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`).run();
  assertSameAsReference(db, 'migrated');
  db.close();
});
