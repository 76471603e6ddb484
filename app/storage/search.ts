/**
 * `search.run`: conversations whose peer address or roster name contains the query, and messages
 * whose text matches it in the FTS5 index (migration 0012). The person's text never reaches FTS5's
 * query syntax: each word becomes a quoted prefix term (`"word"*`, quotes doubled inside), so
 * input such as `a"b OR NEAR(` or `*^` searches for words and can never be a syntax error.
 */
import type { Database } from 'better-sqlite3';
import type { MessageHit, SearchResult } from '../contract/viewModels.ts';
import { conversationViews } from './conversations.ts';
import { MESSAGE_COLUMNS, toView, type MessageRow } from './messages.ts';
import { snippets } from './searchSnippets.ts';
import { prepare } from './statements.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/**
 * The FTS5 query for the person's text: every word (a run of non-space characters holding at least
 * one letter or digit; words of punctuation alone match nothing and are dropped; control characters
 * separate words) as a quoted prefix
 * term, all required. Null when no word is left.
 */
export function ftsQuery(text: string): string | null {
  // FTS5 reads a NUL as the end of the query text ("unterminated string"): controls separate words.
  const words = [...text]
    .map((c) => (c.charCodeAt(0) < 0x20 || c === '\u007f' ? ' ' : c))
    .join('')
    .split(/\s+/u)
    .filter((word) => /[\p{L}\p{N}]/u.test(word));
  if (words.length === 0) return null;
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(' ');
}

/** `text` as a LIKE pattern for "contains", with `\` as the escape character. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Exported for the query-plan test: served by the FTS5 index, then the messages rowid. No
 * snippet() here: it would run for every match before the sort and the limit (searchSnippets.ts).
 */
export const MESSAGE_SEARCH_SQL = `SELECT ${MESSAGE_COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ')}
  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
  WHERE messages_fts MATCH ? ORDER BY m.at DESC, m.id DESC LIMIT ?`;

/** The newest `limit` messages matching `fts`, each with its snippet. */
function messageHits(db: Database, fts: string, limit: number): MessageHit[] {
  const rows = prepare<[string, number], MessageRow>(db, MESSAGE_SEARCH_SQL).all(fts, limit);
  const marked = snippets(db, fts, rows);
  return rows.map((row) => ({ message: toView(row), snippet: marked.get(row.id) ?? row.body }));
}

export const searchMethods = {
  /** Matching conversations (most recent first) and messages (newest first), each at most `limit`. */
  search(db: Database, query: string, limit: number = DEFAULT_LIMIT): SearchResult {
    const n = Math.min(Math.max(Math.trunc(limit), 1), MAX_LIMIT);
    const text = query.trim();
    if (text === '') return { conversations: [], messages: [] };
    const pattern = containsPattern(text);
    const conversations = conversationViews(
      db,
      `WHERE c.peer LIKE @pattern ESCAPE '\\' OR r.name LIKE @pattern ESCAPE '\\'
       ORDER BY c.last_activity DESC, c.account_id, c.peer LIMIT @limit`,
      { pattern, limit: n },
    );
    const fts = ftsQuery(text);
    const messages = fts === null ? [] : messageHits(db, fts, n);
    return { conversations, messages };
  },
};
