/**
 * Pinned server keys: the person's decision to trust a key that no prooftype could prove, for one
 * account and one JID domain (the verifier compares them with the presented key's SPKI SHA-256).
 */
import type { Database } from 'better-sqlite3';
import type { CertificateSummary, PinView } from '../contract/viewModels.ts';
import { requireAccount } from './accounts.ts';
import { prepare } from './statements.ts';

interface Row {
  account_id: string;
  domain: string;
  spki_sha256: string;
  certificate: string;
  created_at: number;
}

/** Exported for the query-plan test: served by the primary key (account_id, domain, ...). */
export const LIST_PINS_FOR_DOMAIN_SQL = `SELECT account_id, domain, spki_sha256, certificate, created_at FROM pins
  WHERE account_id = ? AND domain = ? ORDER BY created_at, spki_sha256`;
const LIST_PINS_SQL = `SELECT account_id, domain, spki_sha256, certificate, created_at FROM pins
  WHERE account_id = ? ORDER BY domain, created_at, spki_sha256`;

function toView(row: Row): PinView {
  return {
    accountId: row.account_id,
    domain: row.domain,
    spkiSha256: row.spki_sha256,
    certificate: JSON.parse(row.certificate) as CertificateSummary | null,
    createdAt: row.created_at,
  };
}

/** Domains are stored lowercase without a trailing dot; fingerprints as lowercase hex. */
function domainKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

export const pinMethods = {
  /**
   * Pins a key (idempotent: pinning the same key again keeps the first row). Throws
   * account-not-found. The caller passes the SPKI SHA-256 of the presented certificate.
   */
  addPin(
    db: Database,
    accountId: string,
    domain: string,
    spkiSha256: string,
    certificate: CertificateSummary | null,
    now: number = Date.now(),
  ): PinView {
    requireAccount(db, accountId);
    const key = spkiSha256.toLowerCase();
    prepare(
      db,
      `INSERT INTO pins (account_id, domain, spki_sha256, certificate, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, domain, spki_sha256) DO NOTHING`,
    ).run(accountId, domainKey(domain), key, JSON.stringify(certificate), now);
    const row = prepare<[string, string, string], Row>(
      db,
      'SELECT account_id, domain, spki_sha256, certificate, created_at FROM pins WHERE account_id = ? AND domain = ? AND spki_sha256 = ?',
    ).get(accountId, domainKey(domain), key);
    return toView(row as Row);
  },

  /** The account's pins, for one domain when given; oldest first. */
  listPins(db: Database, accountId: string, domain?: string): PinView[] {
    const rows =
      domain === undefined
        ? prepare<[string], Row>(db, LIST_PINS_SQL).all(accountId)
        : prepare<[string, string], Row>(db, LIST_PINS_FOR_DOMAIN_SQL).all(accountId, domainKey(domain));
    return rows.map(toView);
  },

  /** Removes one pin; returns whether it existed. */
  removePin(db: Database, accountId: string, domain: string, spkiSha256: string): boolean {
    const result = prepare(db, 'DELETE FROM pins WHERE account_id = ? AND domain = ? AND spki_sha256 = ?').run(
      accountId,
      domainKey(domain),
      spkiSha256.toLowerCase(),
    );
    return result.changes > 0;
  },
};
