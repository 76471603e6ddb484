/**
 * Search as you type (issue 13: "search over names and message text (SQLite FTS5)") queries every
 * word as a prefix (`"re"*`). Without a prefix index FTS5 answers a prefix query with a range scan
 * over every term that starts with it; a prefix index of length N records each N-character prefix
 * as a term of its own (sqlite.org/fts5.html, section 4.2, "Prefix Indexes"). With `prefix='2 3'`
 * the short prefixes typed first, which match the most terms, are one lookup each.
 * messages_fts is made again with `prefix='2 3'` and rebuilt from the messages. Its triggers (0012)
 * name the table, not a copy of it, and go on keeping the new one.
 */
import type { Migration } from './migration.ts';

export const searchPrefixes: Migration = {
  version: 15,
  name: 'search-prefixes',
  up(db) {
    db.exec(`
      DROP TABLE messages_fts;
      CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2',
        prefix='2 3'
      );
      INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    `);
  },
};
