/**
 * Snippets for the few messages a search returns. FTS5's snippet() costs a tokenization of the
 * body per row it is called on; called in the query that finds the matches it ran for every match
 * (100,000 messages: ~250 ms for a common word) before the sort and the limit dropped nearly all of
 * them. Here the returned bodies are put in a per-connection TEMP FTS5 table with the same
 * tokenizer as messages_fts (migration 0012: unicode61 remove_diacritics 2) and the same query is
 * run there, so each snippet is exactly the one messages_fts gives (snippet() reads only the row's
 * own text and phrase hits, no index-wide statistics). The table is emptied again before
 * returning: message text does not linger in it.
 *
 * A restricted query on messages_fts itself (`MATCH ? AND rowid = ?`) was tried and is wrong on
 * SQLite 3.54 with an external-content table: snippet() there returned another row's text.
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

/** Connections whose TEMP snippet table exists (TEMP tables live as long as the connection). */
const ready = new WeakSet<Database>();

const CREATE_SQL = `CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_snippets USING fts5(
  body, tokenize='unicode61 remove_diacritics 2'
)`;
const CLEAR_SQL = 'DELETE FROM temp.search_snippets';
const INSERT_SQL = 'INSERT INTO temp.search_snippets (rowid, body) VALUES (?, ?)';
/** Same arguments as the snippet() messages_fts was searched with before (U+0002/U+0003 marks). */
const SNIPPET_SQL = `SELECT rowid AS id, snippet(search_snippets, 0, char(2), char(3), '…', 12) AS snippet
  FROM temp.search_snippets WHERE search_snippets MATCH ?`;

/**
 * The snippet for each of `rows` (message id and body) under the FTS5 query `fts`, by id. A body
 * that does not match (only if messages_fts had drifted from the messages) has no entry: the
 * caller shows the body instead.
 */
export function snippets(
  db: Database,
  fts: string,
  rows: readonly { id: number; body: string }[],
): Map<number, string> {
  if (rows.length === 0) return new Map();
  if (!ready.has(db)) {
    db.exec(CREATE_SQL);
    // Made inside a caller's transaction, the table goes if that transaction is rolled back: only
    // a table made outside one is sure to stay (else IF NOT EXISTS makes it again next time).
    if (!db.inTransaction) ready.add(db);
  }
  return db.transaction(() => {
    prepare(db, CLEAR_SQL).run();
    const insert = prepare<[number, string]>(db, INSERT_SQL);
    for (const row of rows) insert.run(row.id, row.body);
    const found = prepare<[string], { id: number; snippet: string }>(db, SNIPPET_SQL).all(fts);
    prepare(db, CLEAR_SQL).run();
    return new Map(found.map((r) => [r.id, r.snippet]));
  })();
}
