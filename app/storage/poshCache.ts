/**
 * The POSH cache (RFC 7711 §3.1: a document's `expires` is the number of seconds it may be used
 * before it is fetched again): one row per domain and trust-anchor set (migration 0004), so that
 * fingerprints fetched over HTTPS trusted only through one account's extra CA are never read by an
 * account without it. The verifier's `PoshSource` decides what to store and for how long; this
 * file only keeps it.
 */
import type { Database } from 'better-sqlite3';
import type { PoshCacheEntry, PoshFingerprint } from '../security/posh.ts';
import { prepare } from './statements.ts';

interface Row {
  domain: string;
  anchor_set: string;
  url: string | null;
  delegated_from: string | null;
  fingerprints: string | null;
  error: string | null;
  fetched_at: number;
  expires_at: number;
}

function domainKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

export const poshCacheMethods = {
  /**
   * The stored entry for `domain` fetched with the trust anchors `anchorSet`, expired or not (the
   * caller compares `expiresAt` with its clock). An entry fetched with other anchors is not returned.
   */
  getPoshEntry(db: Database, domain: string, anchorSet: string): PoshCacheEntry | null {
    const row = prepare<[string, string], Row>(
      db,
      'SELECT domain, anchor_set, url, delegated_from, fingerprints, error, fetched_at, expires_at FROM posh_cache WHERE domain = ? AND anchor_set = ?',
    ).get(domainKey(domain), anchorSet);
    if (!row) return null;
    return {
      domain: row.domain,
      anchorSet: row.anchor_set,
      url: row.url,
      delegatedFrom: row.delegated_from,
      fingerprints: row.fingerprints === null ? null : (JSON.parse(row.fingerprints) as PoshFingerprint[]),
      error: row.error,
      fetchedAt: row.fetched_at,
      expiresAt: row.expires_at,
    };
  },

  /** Replaces the entry for `entry.domain` and `entry.anchorSet`. Exactly one of `fingerprints` and `error` must be set. */
  putPoshEntry(db: Database, entry: PoshCacheEntry): void {
    prepare(
      db,
      `INSERT INTO posh_cache (domain, anchor_set, url, delegated_from, fingerprints, error, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (domain, anchor_set) DO UPDATE SET url = excluded.url, delegated_from = excluded.delegated_from,
         fingerprints = excluded.fingerprints, error = excluded.error, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`,
    ).run(
      domainKey(entry.domain),
      entry.anchorSet,
      entry.url,
      entry.delegatedFrom,
      entry.fingerprints === null ? null : JSON.stringify(entry.fingerprints),
      entry.error,
      entry.fetchedAt,
      entry.expiresAt,
    );
  },

  /** Forgets expired entries (housekeeping); returns how many. */
  prunePoshCache(db: Database, now: number): number {
    return prepare(db, 'DELETE FROM posh_cache WHERE expires_at <= ?').run(now).changes;
  },
};
