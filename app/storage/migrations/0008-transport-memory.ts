/**
 * Remembers, per network and domain, whether XMPP over QUIC worked (issue 11: "The outcome is
 * remembered per network and domain, so a network that blocks UDP does not pay the head start every
 * time"). One row per (network, domain): the latest outcome only. `network_key` is a hash
 * (app/connect/transportMemory.ts `networkKey`), never an address. The table is a cache: bounded
 * (storage/transportMemory.ts keeps the newest rows), and losing it costs one head start.
 */
import type { Migration } from './migration.ts';

export const transportMemory: Migration = {
  version: 8,
  name: 'transport-memory',
  up(db) {
    db.exec(`
      CREATE TABLE transport_memory (
        -- Lowercase hex SHA-256 (or a prefix of one) naming the network; never a raw address.
        network_key TEXT NOT NULL CHECK (length(network_key) BETWEEN 16 AND 64 AND network_key NOT GLOB '*[^0-9a-f]*'),
        domain TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 253),
        outcome TEXT NOT NULL CHECK (outcome IN ('quic-ok', 'quic-failed')),
        -- When it was seen (ms since the epoch).
        at INTEGER NOT NULL,
        PRIMARY KEY (network_key, domain)
      ) STRICT, WITHOUT ROWID;
      -- Pruning keeps the newest rows: walks this index from the newest end.
      CREATE INDEX transport_memory_at ON transport_memory (at);
    `);
  },
};
