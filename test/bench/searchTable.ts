/**
 * `npm run bench`, issue 13's search table (BENCH_TABLES=search): `search.run` on a profile of
 * 100,000 messages in a temporary directory (a file database, WAL, as Quiver opens it).
 *
 * Queries: a common word, a rare word, a 2-letter prefix, a 3-word phrase and hostile punctuation,
 * each the median of RUNS after one warm-up. Three columns side by side:
 *   - old: the query released with migration 0012, which made a snippet for every match before
 *     sorting and limiting (messages only);
 *   - new on the version-14 index: search.run (conversations and messages) before migration 0015;
 *   - new on the version-15 index: search.run after 0015 added the 2- and 3-character prefix
 *     indexes (the migration's time on these 100,000 messages is printed too).
 * Every query's results must be the same in all three (message ids and snippets), or the table
 * says so.
 *
 * Target (issue 13's search debounce: 200 ms): well under it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate } from '../../app/storage/migrate.ts';
import { migrations } from '../../app/storage/migrations/index.ts';
import { ftsQuery } from '../../app/storage/search.ts';
import { bindStorage } from '../../app/storage/storage.ts';
import { formatTable, median } from './table.ts';

const MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
const RUNS = Number(process.env.BENCH_SEARCH_RUNS ?? 5);
const LIMIT = 50;

const QUERIES: readonly [label: string, query: string][] = [
  ['common word', 'the'],
  ['rare word', 'xylophone'],
  ['2-letter prefix', 're'],
  ['3-word phrase', 'see you tomorrow'],
  ['hostile punctuation', 'a"b OR NEAR( *^ (x) col:y'],
];

/** The one-query search as released with 0012: snippet() for every match, then sort and limit. */
const OLD_SQL = `SELECT m.id, snippet(messages_fts, 0, char(2), char(3), '…', 12) AS snippet
  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
  WHERE messages_fts MATCH ? ORDER BY m.at DESC, m.id DESC LIMIT ?`;

const COMMON = (
  'the a to and is of you it that in for on we are this be have with at not but do so what ' +
  'see tomorrow today meeting report lunch later thanks ok how when where call back send file ' +
  'café résumé naïve Straße über déjà vu'
).split(' ');

/** A chat-like body: 3 to 25 words, common ones far more often than the many rare ones. */
function bodies(count: number): string[] {
  let seed = 42;
  const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  // Made-up words of 3 to 9 letters: many distinct terms share each short prefix, as in real text.
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const rare = Array.from({ length: 20_000 }, () =>
    Array.from({ length: 3 + Math.floor(next() * 7) }, () => letters[Math.floor(next() * 26)]!).join(''),
  );
  return Array.from({ length: count }, (_, n) => {
    const words = Array.from({ length: 3 + Math.floor(next() * 23) }, () =>
      next() < 0.6 ? COMMON[Math.floor(next() ** 2 * COMMON.length)]! : rare[Math.floor(next() * rare.length)]!,
    );
    if (n % 5000 === 17) words.splice(1, 0, 'xylophone');
    if (n % 400 === 3) words.push('see', 'you', 'tomorrow');
    if (n % 4 === 0) words.push('—', 're:', `"${words[0]}"?`);
    return words.join(' ');
  });
}

function fill(db: Database): void {
  db.prepare(
    `INSERT INTO accounts (id, jid, created_at, sort_order, label, color) VALUES ('a1', 'alice@example.org', 1, 0, NULL, '#2f6fdf')`,
  ).run();
  const insert = db.prepare(
    `INSERT INTO messages (account_id, peer, direction, body, at, state, arrived_at) VALUES ('a1', ?, ?, ?, ?, ?, 0)`,
  );
  const start = Date.UTC(2024, 0, 1);
  db.transaction(() => {
    bodies(MESSAGES).forEach((body, n) => {
      const out = n % 3 === 0;
      insert.run(
        `contact${n % 40}@example.org`,
        out ? 'out' : 'in',
        body,
        start + n * 60_000,
        out ? 'acked' : 'received',
      );
    });
    db.exec(`INSERT INTO conversations (account_id, peer, last_activity, started_at)
      SELECT account_id, peer, max(at), min(at) FROM messages GROUP BY account_id, peer`);
  })();
}

/** Median milliseconds of RUNS calls after one warm-up, and the last result. */
function time<T>(run: () => T): { ms: number; result: T } {
  let result = run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = run();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

type Hits = [id: string, snippet: string][];

export async function searchTable(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-search-bench-'));
  try {
    const db = new Sqlite(join(dir, 'profile.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.slice(0, 14));
    fill(db);
    const s = bindStorage(db);
    const old = db.prepare(OLD_SQL);
    const oldSearch = (query: string): Hits => {
      const fts = ftsQuery(query.trim());
      if (fts === null) return [];
      return (old.all(fts, LIMIT) as { id: number; snippet: string }[]).map((r) => [String(r.id), r.snippet]);
    };
    const newSearch = (query: string): Hits => s.search(query, LIMIT).messages.map((h) => [h.message.id, h.snippet]);

    const rows = QUERIES.map(([label, query]) => {
      const o = time(() => oldSearch(query));
      const n14 = time(() => newSearch(query));
      return { label, query, o, n14 };
    });
    const t0 = performance.now();
    migrate(db, migrations);
    const migrateMs = performance.now() - t0;
    const lines = rows.map(({ label, query, o, n14 }) => {
      const n15 = time(() => newSearch(query));
      const same =
        JSON.stringify(o.result) === JSON.stringify(n14.result) &&
        JSON.stringify(o.result) === JSON.stringify(n15.result);
      return [
        `${label} (${JSON.stringify(query)})`,
        String(o.result.length),
        o.ms.toFixed(1),
        n14.ms.toFixed(1),
        n15.ms.toFixed(1),
        same ? 'yes' : 'NO',
      ];
    });
    db.close();
    console.log(
      `search.run on ${MESSAGES.toLocaleString('en')} messages, limit ${LIMIT}, median of ${RUNS} (ms; target: well under the 200 ms debounce)`,
    );
    console.log(
      formatTable(
        [
          'query',
          'hits shown',
          'old: snippet for every match',
          'new, v14 index',
          'new, v15 prefix index',
          'same results',
        ],
        lines,
      ),
    );
    console.log(`Migration 0015 (prefix indexes, rebuild) on these messages: ${migrateMs.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
