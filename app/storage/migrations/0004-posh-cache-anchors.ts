/**
 * The POSH cache keyed by the trust anchors of the fetch (security finding 5).
 *
 * A POSH document proves a server only because it came over HTTPS that the fetcher's trust anchors
 * (RFC 7711 §3: "the client MUST verify the certificate ... as described in [RFC6125]") accepted.
 * Fingerprints fetched through one account's extra CA are no proof for an account without that CA,
 * so a row now belongs to a domain AND an anchor set (`anchorSetKey` in app/security/trustAnchors.ts:
 * a SHA-256 over the anchors' certificates). Failures are kept per anchor set too.
 *
 * The old rows do not say which anchors fetched them, so they are dropped: it is a cache, and the
 * next connection fetches again.
 */
import type { Migration } from './migration.ts';

export const poshCacheAnchors: Migration = {
  version: 4,
  name: 'posh-cache-anchors',
  up(db) {
    db.exec(`
      DROP TABLE posh_cache;
      CREATE TABLE posh_cache (
        domain TEXT NOT NULL,
        -- Lowercase hex SHA-256 identifying the trust anchors the HTTPS fetch was verified with.
        anchor_set TEXT NOT NULL CHECK (length(anchor_set) = 64 AND anchor_set NOT GLOB '*[^0-9a-f]*'),
        -- The document that held the fingerprints (after a "url" delegation), null for a failure.
        url TEXT,
        -- The JID domain's own document when it delegated with "url", else null.
        delegated_from TEXT,
        -- JSON array of { "sha-256"?: base64, "sha-512"?: base64 }, or null for a failure.
        fingerprints TEXT CHECK (fingerprints IS NULL OR json_valid(fingerprints)),
        error TEXT,
        fetched_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        CHECK ((fingerprints IS NULL) <> (error IS NULL)),
        PRIMARY KEY (domain, anchor_set)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
