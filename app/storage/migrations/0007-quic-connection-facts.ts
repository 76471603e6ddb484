/**
 * Stores what a QUIC connection adds to its security record (issue 11): the QUIC connection it rides
 * on and its stream (`quic_connection_id`, `quic_stream_id`), the QUIC facts (`quic`, JSON of the
 * contract's `QuicDetails`), why the account is not where the connector tried first (`fallback`),
 * and its path events (RFC 9000 §9 migrations, liveness checks, reconnections) in a table of their
 * own, so that appending one does not rewrite the record.
 *
 * Existing rows are TCP connections (the connector refused QUIC before this version): the new
 * columns stay NULL and they have no events, which is what a TCP record says.
 */
import type { Migration } from './migration.ts';

export const quicConnectionFacts: Migration = {
  version: 7,
  name: 'quic-connection-facts',
  up(db) {
    db.exec(`
      -- Quiver's id of the QUIC connection, shared by the accounts on one session; NULL for TCP.
      ALTER TABLE connections ADD COLUMN quic_connection_id TEXT;
      -- The bidirectional stream carrying this account's XMPP stream (RFC 9000 §2.1 stream id).
      ALTER TABLE connections ADD COLUMN quic_stream_id INTEGER CHECK (quic_stream_id >= 0);
      ALTER TABLE connections ADD COLUMN quic TEXT CHECK (quic IS NULL OR json_valid(quic));
      ALTER TABLE connections ADD COLUMN fallback TEXT;

      CREATE TABLE connection_events (
        id INTEGER PRIMARY KEY,
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('migrated', 'migration-failed', 'checked', 'reconnected')),
        -- Local socket addresses (address:port) before and after; NULL where there was none.
        from_address TEXT,
        to_address TEXT,
        rtt_before_ms REAL,
        rtt_after_ms REAL,
        detail TEXT NOT NULL
      ) STRICT;
      -- One connection's events in time order (reading them, capping them, the cascade on delete).
      CREATE INDEX connection_events_by_connection ON connection_events (connection_id, at, id);
    `);
  },
};
