/**
 * Issue 13: "strangers' first messages are marked as such". A peer outside the roster is a
 * stranger only while the conversation is theirs alone: `conversations.by_us` says the person
 * started it (conversation.start, a draft) or sent a message in it. Existing rows: a conversation
 * without messages was started by the person; one with a message of ours is ours too.
 */
import type { Migration } from './migration.ts';

export const conversationByUs: Migration = {
  version: 14,
  name: 'conversation-by-us',
  up(db) {
    db.exec(`
      -- 1 when the person started the conversation or sent a message in it; never back to 0.
      ALTER TABLE conversations ADD COLUMN by_us INTEGER NOT NULL DEFAULT 0 CHECK (by_us IN (0, 1));
      UPDATE conversations AS c SET by_us = 1
        WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.account_id = c.account_id AND m.peer = c.peer)
           OR EXISTS (SELECT 1 FROM messages m
                      WHERE m.account_id = c.account_id AND m.peer = c.peer AND m.direction = 'out');
    `);
  },
};
