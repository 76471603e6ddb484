/**
 * Issue 13, "Contacts per account: … accept or refuse subscription requests, block (XEP-0191 where
 * the server offers it)" and "Own presence: available, away, do not disturb, with a status message":
 *
 * - `subscription_requests`: who asked to see an account's presence (RFC 6121 §3.1.2) and waits for
 *   an answer; kept across restarts (the server redelivers pending requests at login, §3.1.3: one
 *   row per account and JID).
 * - `blocked_jids`: the account's XEP-0191 block list as last received from its server.
 * - accounts gain `presence_show` and `presence_status`: what the person announces.
 */
import type { Migration } from './migration.ts';

export const contacts: Migration = {
  version: 13,
  name: 'contacts',
  up(db) {
    db.exec(`
      CREATE TABLE subscription_requests (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- Bare JID in stored form (normalizeBareJid).
        jid TEXT NOT NULL,
        -- Their status text or XEP-0172 nickname, if any.
        message TEXT,
        -- When it first arrived (ms since the epoch).
        at INTEGER NOT NULL,
        PRIMARY KEY (account_id, jid)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE blocked_jids (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- As the server lists it (XEP-0191 items may be bare, full or domain JIDs); bare JIDs in
        -- stored form (normalizeBareJid), so they match conversations.peer.
        jid TEXT NOT NULL,
        PRIMARY KEY (account_id, jid)
      ) STRICT, WITHOUT ROWID;
      ALTER TABLE accounts ADD COLUMN presence_show TEXT NOT NULL DEFAULT 'available'
        CHECK (presence_show IN ('available', 'away', 'dnd'));
      ALTER TABLE accounts ADD COLUMN presence_status TEXT;
    `);
  },
};
