/**
 * The acknowledged outbox (issue 12): a message state for XEP-0184 receipts, the XEP-0198 counter a
 * message was written under, the time it arrived beside the time it was sent, and history ordered
 * by time, plus three per-account tables for resuming where a connection (or the process) stopped.
 *
 * `messages` is rebuilt because its CHECK constraint gains 'delivered' and SQLite cannot alter a
 * constraint. SQLite "ALTER TABLE" §7 (the 12-step procedure): "Create new table", "Transfer
 * content from X into new_X", "Drop the old table X", "Change the name of new_X to X", "Use CREATE
 * INDEX ... to reconstruct indexes", and "If foreign key constraints were originally enabled, run
 * PRAGMA foreign_key_check". `migrate` runs this inside its transaction, so a crash leaves version 9
 * or version 10, never half of it. No table references `messages`, so dropping it touches no
 * foreign key; the AUTOINCREMENT counter (sqlite_sequence) is carried over so that ids are never
 * reused.
 *
 * Data: an outgoing message in 'received' was confirmed by the recipient (an XEP-0184 receipt,
 * before 'delivered' existed): it becomes 'delivered'. Incoming rows keep 'received'. `at` of old
 * rows is both when the message was sent and when it arrived (nothing else was known).
 */
import type { Migration } from './migration.ts';
import { StorageError } from '../storageError.ts';

export const outboxStates: Migration = {
  version: 10,
  name: 'outbox-states',
  up(db) {
    const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'messages'`).pluck().get() as
      number | undefined;
    db.exec(`
      CREATE TABLE messages_new (
        -- AUTOINCREMENT: ids are never reused, so a UI holding an old id cannot meet a new message.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        peer TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        body TEXT NOT NULL,
        -- The stanza's id attribute; NULL when it had none.
        stanza_id TEXT,
        -- XEP-0359 origin-id, and the stanza-id stamped by the account's own server.
        origin_id TEXT,
        server_id TEXT,
        -- When the message was sent (the XEP-0203 delay stamp when it carried one), ms since the epoch.
        at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'acked', 'delivered', 'received', 'failed')),
        -- Why the server refused it ('failed' only), worded for a person.
        error TEXT,
        -- The full JID an incoming message came from.
        sender TEXT,
        -- XEP-0198 outbound counter value under which the message was last written; NULL when it
        -- was written on a stream without stream management, or never.
        sm_seq INTEGER CHECK (sm_seq BETWEEN 0 AND 4294967295),
        -- Local time the message arrived (incoming) or was created (outgoing), ms since the epoch.
        arrived_at INTEGER NOT NULL
      ) STRICT;
      INSERT INTO messages_new (id, account_id, peer, direction, body, stanza_id, origin_id, server_id, at,
                                state, error, sender, sm_seq, arrived_at)
        SELECT id, account_id, peer, direction, body, stanza_id, origin_id, server_id, at,
               CASE WHEN direction = 'out' AND state = 'received' THEN 'delivered' ELSE state END,
               error, sender,
               -- Before 0010 'sent' meant "written to a socket": nobody knows whether the server
               -- stored it. Counter 0 makes it pending: the next fresh session sends it again under
               -- its id (recipients recognise a copy by its origin-id), instead of never.
               CASE WHEN direction = 'out' AND state = 'sent' THEN 0 ELSE NULL END,
               at
        FROM messages;
      DROP TABLE messages;
      ALTER TABLE messages_new RENAME TO messages;

      -- History pages in the order messages were sent, whenever they reached us (keyset on at, id).
      CREATE INDEX messages_history ON messages (account_id, peer, at, id);
      -- The outbox: only queued rows are indexed; id order is send order. (0001)
      CREATE INDEX messages_outbox ON messages (account_id, state) WHERE state = 'queued';
      -- What a stream that did not resume must (re)send: written or not, never confirmed.
      CREATE INDEX messages_pending ON messages (account_id, id) WHERE state IN ('queued', 'sent');
      -- (0006) XEP-0359 <stanza-id/> of the account's own server: one message per id and account.
      CREATE UNIQUE INDEX messages_server_id ON messages (account_id, server_id) WHERE server_id IS NOT NULL;
      -- (0006) XEP-0359 <origin-id/>: unique per sending full JID.
      CREATE UNIQUE INDEX messages_origin ON messages (account_id, direction, sender, origin_id)
        WHERE origin_id IS NOT NULL AND sender IS NOT NULL;
      -- (0006) Look-ups by the 'id' attribute (receipts); not unique.
      CREATE INDEX messages_by_stanza_id ON messages (account_id, direction, peer, stanza_id)
        WHERE stanza_id IS NOT NULL;
      -- Our own messages by their 'id' attribute, whatever the peer (acks, stanza errors, receipts).
      CREATE INDEX messages_our_stanza_ids ON messages (account_id, stanza_id)
        WHERE direction = 'out' AND stanza_id IS NOT NULL;

      -- XEP-0313 catch-up: where the last complete walk of the archive (or the newest live message
      -- carrying our server's stanza-id) left off.
      CREATE TABLE archive_positions (
        account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        last_id TEXT NOT NULL CHECK (length(last_id) BETWEEN 1 AND 1024),
        last_at INTEGER,
        complete INTEGER NOT NULL CHECK (complete IN (0, 1))
      ) STRICT;

      -- XEP-0198 state of the account's last stream, so that a killed process can resume it.
      CREATE TABLE sm_states (
        account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        sm_id TEXT NOT NULL,
        jid TEXT NOT NULL,
        inbound_h INTEGER NOT NULL,
        outbound_h INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        location TEXT,
        max INTEGER,
        saved_at INTEGER NOT NULL
      ) STRICT;

      -- XEP-0484 FAST token of the account: it logs in like the password until it expires.
      CREATE TABLE fast_tokens (
        account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        mechanism TEXT NOT NULL,
        token TEXT NOT NULL,
        expiry INTEGER NOT NULL,
        saved_at INTEGER NOT NULL
      ) STRICT;
    `);
    if (seq !== undefined) {
      // The copy set the counter to the largest id kept; rows deleted above it had higher ids.
      const kept = db.prepare(`UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'messages'`).run(seq);
      if (kept.changes === 0) db.prepare(`INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', ?)`).run(seq);
    }
    const broken = db.prepare('PRAGMA foreign_key_check').all();
    if (broken.length > 0) {
      throw new StorageError(
        'storage-corrupt',
        `The message table could not be upgraded: ${broken.length} rows name an account that does not exist. ` +
          'Restore the profile from a backup, or start with a new profile.',
      );
    }
  },
};
