/**
 * Keeps TLS session tickets of QUIC servers across starts (issue 11: "TLS session resumption for
 * the next cold start"), a few per (server name, ALPN). Each row is one NewSessionTicket (RFC 8446
 * §4.6.1) as app/quic/tls/tickets.ts `StoredTicket` JSON, with its PSK: a secret, see
 * storage/quicTickets.ts for why it is kept here and how it is bounded. The table is a cache:
 * losing it costs one full handshake per server.
 */
import type { Migration } from './migration.ts';

export const quicTickets: Migration = {
  version: 9,
  name: 'quic-tickets',
  up(db) {
    db.exec(`
      CREATE TABLE quic_tickets (
        id INTEGER PRIMARY KEY,
        -- The server_name the ticket was issued for, lowercase without a trailing dot.
        server_name TEXT NOT NULL CHECK (length(server_name) BETWEEN 1 AND 253),
        alpn TEXT NOT NULL CHECK (length(alpn) BETWEEN 1 AND 255),
        ticket TEXT NOT NULL CHECK (json_valid(ticket)),
        -- When the NewSessionTicket arrived and when it stops being usable (ms since the epoch);
        -- RFC 8446 §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)".
        received_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL CHECK (expires_at > received_at AND expires_at - received_at <= 604800000)
      ) STRICT;
      -- take: the newest ticket for a name; put: the per-name bound.
      CREATE INDEX quic_tickets_by_name ON quic_tickets (server_name, alpn, received_at);
      -- Pruning of expired tickets and the global bound.
      CREATE INDEX quic_tickets_expiry ON quic_tickets (expires_at);
    `);
  },
};
