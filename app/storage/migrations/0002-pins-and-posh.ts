/**
 * Pins and the POSH cache (issue 3).
 *
 * `pins`: keys the person chose to trust for an account and the JID's domain, when no prooftype
 * could prove the server (draft-ietf-xmpp-dna-10 §3.2: a self-signed certificate "requires the
 * client to apply either the fallback process described in section 6.6.4 of [RFC6125] or prompt the
 * user to accept an unauthenticated connection").
 * A pin names the SHA-256 of the DER SubjectPublicKeyInfo, so a renewed certificate with the same
 * key still matches; the certificate seen when pinning is kept only for display.
 *
 * `posh_cache`: RFC 7711 §3.1 `expires` says how long a POSH document may be used; one row per
 * domain holds either the fingerprints (and the URL they came from) or the last failure, which is
 * kept only briefly.
 */
import type { Migration } from './migration.ts';

export const pinsAndPosh: Migration = {
  version: 2,
  name: 'pins-and-posh',
  up(db) {
    db.exec(`
      CREATE TABLE pins (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- The JID's domain as A-labels, lowercase.
        domain TEXT NOT NULL,
        -- Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
        spki_sha256 TEXT NOT NULL CHECK (length(spki_sha256) = 64 AND spki_sha256 NOT GLOB '*[^0-9a-f]*'),
        -- The contract's CertificateSummary, or JSON null.
        certificate TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(certificate)),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, domain, spki_sha256)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE posh_cache (
        domain TEXT PRIMARY KEY NOT NULL,
        -- The document that held the fingerprints (after a "url" delegation), null for a failure.
        url TEXT,
        -- The JID domain's own document when it delegated with "url", else null.
        delegated_from TEXT,
        -- JSON array of { "sha-256"?: base64, "sha-512"?: base64 }, or null for a failure.
        fingerprints TEXT CHECK (fingerprints IS NULL OR json_valid(fingerprints)),
        error TEXT,
        fetched_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        CHECK ((fingerprints IS NULL) <> (error IS NULL))
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
