/**
 * The first schema: accounts, roster, messages (with the outbox), connection security records and
 * global settings. Designed with XEP-0198 resumption, XEP-0313 (MAM) and QUIC connection
 * migration in mind: their columns exist (nullable or empty) so those features add behaviour, not
 * tables.
 */
import type { Migration } from './migration.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY NOT NULL,
        -- Bare JID in stored form (normalizeBareJid): lowercase localpart and domain.
        jid TEXT NOT NULL UNIQUE,
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        resolver TEXT,
        extra_ca_pem TEXT,
        transport TEXT NOT NULL DEFAULT 'auto' CHECK (transport IN ('auto', 'starttls', 'tls', 'quic')),
        -- Only ciphertext from Electron safeStorage. Other secret stores keep nothing here.
        password_blob BLOB,
        -- RFC 6121 §2.6: the version of the roster we hold, sent back on the next roster get.
        roster_ver TEXT,
        created_at INTEGER NOT NULL,
        sort_order INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE roster_items (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        jid TEXT NOT NULL,
        name TEXT,
        subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
        ask INTEGER NOT NULL DEFAULT 0 CHECK (ask IN (0, 1)),
        groups TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(groups)),
        PRIMARY KEY (account_id, jid)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE messages (
        -- AUTOINCREMENT: ids are never reused, so a UI holding an old id cannot meet a new message.
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        peer TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        body TEXT NOT NULL,
        -- The stanza's id attribute; NULL when it had none (such messages are never deduplicated).
        stanza_id TEXT,
        -- XEP-0359 origin-id and the archive's stanza-id, for MAM (XEP-0313) later.
        origin_id TEXT,
        server_id TEXT,
        at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'acked', 'received', 'failed')),
        error TEXT
      ) STRICT;
      -- A redelivered message (reconnect, resumption, carbons) is stored once.
      CREATE UNIQUE INDEX messages_dedupe ON messages (account_id, direction, peer, stanza_id);
      -- History pages: newest first within one conversation.
      CREATE INDEX messages_history ON messages (account_id, peer, id DESC);
      -- The outbox: only queued rows are indexed; rowid order is send order.
      CREATE INDEX messages_outbox ON messages (account_id, state) WHERE state = 'queued';

      CREATE TABLE connections (
        id TEXT PRIMARY KEY NOT NULL,
        -- SET NULL: the security record outlives the account (the CLI also records connections without one).
        account_id TEXT REFERENCES accounts(id) ON DELETE SET NULL,
        jid TEXT NOT NULL,
        transport TEXT NOT NULL CHECK (transport IN ('starttls', 'tls', 'quic')),
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        srv TEXT,
        source TEXT NOT NULL,
        dnssec TEXT NOT NULL CHECK (dnssec IN ('secure', 'insecure', 'bogus')),
        tls_version TEXT,
        cipher TEXT,
        alpn TEXT,
        sni TEXT NOT NULL,
        certificates TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(certificates)),
        verification TEXT NOT NULL CHECK (json_valid(verification)),
        sasl_mechanism TEXT,
        channel_binding TEXT,
        bound_jid TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT,
        -- RFC 9000 §9 connection migrations of a QUIC connection, appended later.
        migrations TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(migrations))
      ) STRICT;
      CREATE INDEX connections_by_account ON connections (account_id, started_at DESC);

      CREATE TABLE settings (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL CHECK (json_valid(value))
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
