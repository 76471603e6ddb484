/**
 * Issue 13, "one list across all accounts … with unread counts stored in SQLite, drafts kept per
 * conversation, and search over names and message text (SQLite FTS5)":
 *
 * - `conversations`: one row per account and peer, filled from the stored messages (last activity
 *   = the newest `at`, nothing unread, everything up to now read).
 * - accounts gain `label`, `color` (the colour given at creation; existing accounts get the
 *   default colours in order of creation) and `removed_at` (an account removed but kept for its
 *   history); `account_counters` counts accounts ever created, so colours keep rotating after a
 *   removal.
 * - `messages_fts`: an external-content FTS5 index of message bodies, kept by triggers.
 */
import type { Migration } from './migration.ts';

/** ACCOUNT_COLORS as released with this migration (a later change of the constant must not change it). */
const COLORS = ['#2f6fdf', '#c2410c', '#15803d', '#9d4edd', '#db2777', '#0e7490', '#a16207', '#4d7c0f'];

export const conversations: Migration = {
  version: 12,
  name: 'conversations',
  up(db) {
    db.exec(`
      CREATE TABLE conversations (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- Bare JID in stored form (normalizeBareJid), as messages.peer.
        peer TEXT NOT NULL,
        -- The newest message's 'at', or when the conversation was started; ms since the epoch.
        last_activity INTEGER NOT NULL,
        -- Incoming messages stored since the last markRead whose 'at' is after read_through.
        unread INTEGER NOT NULL DEFAULT 0 CHECK (unread >= 0),
        -- When the person last read the conversation (ms); older incoming messages (an archive
        -- catch-up) never count as unread.
        read_through INTEGER NOT NULL DEFAULT 0,
        draft TEXT NOT NULL DEFAULT '',
        started_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, peer)
      ) STRICT, WITHOUT ROWID;
      -- conversation.list: every conversation, most recent first.
      CREATE INDEX conversations_by_activity ON conversations (last_activity DESC);
      INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at)
        SELECT account_id, peer, max(at), 0, max(at), '', min(at) FROM messages GROUP BY account_id, peer;

      ALTER TABLE accounts ADD COLUMN label TEXT;
      ALTER TABLE accounts ADD COLUMN color TEXT;
      ALTER TABLE accounts ADD COLUMN removed_at INTEGER;
      CREATE TABLE account_counters (
        name TEXT PRIMARY KEY NOT NULL,
        value INTEGER NOT NULL
      ) STRICT;
      INSERT INTO account_counters (name, value) VALUES ('created', (SELECT count(*) FROM accounts));

      CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
      END;
      INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    `);
    const ids = db.prepare('SELECT id FROM accounts ORDER BY created_at, sort_order').pluck().all() as string[];
    const setColor = db.prepare('UPDATE accounts SET color = ? WHERE id = ?');
    ids.forEach((id, n) => setColor.run(COLORS[n % COLORS.length], id));
  },
};
