/**
 * The transport memory's rows (migration 0008): whether XMPP over QUIC last worked on a network for
 * a domain. The policy (how long a failure counts, what to advise) is app/connect/transportMemory.ts;
 * this file only keeps the rows, the newest `MAX_TRANSPORT_MEMORY_ROWS` of them.
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

/** What happened to QUIC: a verified XMPP stream over it (`quic-ok`), or none in time (`quic-failed`). */
export type TransportOutcome = 'quic-ok' | 'quic-failed';

export interface TransportOutcomeEntry {
  /** `networkKey()` of app/connect/transportMemory.ts: lowercase hex, 16 to 64 digits. */
  networkKey: string;
  /** The XMPP domain, lowercase without a trailing dot (stored so; looked up so). */
  domain: string;
  outcome: TransportOutcome;
  /** When (ms since the epoch). */
  at: number;
}

/** The table keeps at most this many rows; recording beyond it drops the oldest. */
export const MAX_TRANSPORT_MEMORY_ROWS = 1000;

interface Row {
  network_key: string;
  domain: string;
  outcome: TransportOutcome;
  at: number;
}

export const GET_TRANSPORT_OUTCOME_SQL =
  'SELECT network_key, domain, outcome, at FROM transport_memory WHERE network_key = ? AND domain = ?';

/** Deletes every row but the newest `?` (ties broken by key, so the result does not depend on the plan). */
export const PRUNE_TRANSPORT_MEMORY_SQL = `DELETE FROM transport_memory WHERE (network_key, domain) IN (
  SELECT network_key, domain FROM transport_memory ORDER BY at DESC, network_key DESC, domain DESC LIMIT -1 OFFSET ?)`;

function domainKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

export const transportMemoryMethods = {
  /** The latest outcome for `domain` on the network `networkKey`, however old (the policy judges its age). */
  getTransportOutcome(db: Database, networkKey: string, domain: string): TransportOutcomeEntry | null {
    const row = prepare<[string, string], Row>(db, GET_TRANSPORT_OUTCOME_SQL).get(networkKey, domainKey(domain));
    return row ? { networkKey: row.network_key, domain: row.domain, outcome: row.outcome, at: row.at } : null;
  },

  /**
   * Replaces the outcome for (`entry.networkKey`, `entry.domain`), then drops the oldest rows beyond
   * `MAX_TRANSPORT_MEMORY_ROWS`, in one transaction.
   */
  recordTransportOutcome(db: Database, entry: TransportOutcomeEntry): void {
    db.transaction(() => {
      prepare(
        db,
        `INSERT INTO transport_memory (network_key, domain, outcome, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (network_key, domain) DO UPDATE SET outcome = excluded.outcome, at = excluded.at`,
      ).run(entry.networkKey, domainKey(entry.domain), entry.outcome, entry.at);
      prepare(db, PRUNE_TRANSPORT_MEMORY_SQL).run(MAX_TRANSPORT_MEMORY_ROWS);
    })();
  },

  /** Forgets every network (a "forget what Quiver learnt about networks" action); returns how many rows. */
  clearTransportMemory(db: Database): number {
    return prepare(db, 'DELETE FROM transport_memory').run().changes;
  },
};
