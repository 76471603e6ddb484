/**
 * Path events of a connection (issue 11): RFC 9000 §9 migrations, the liveness checks after a
 * network change, reconnections. They live in `connection_events`, not in the `connections` row,
 * so appending one is an INSERT and never rewrites the security record. Each connection keeps its
 * newest `MAX_PATH_EVENTS`: a network that flaps all day must not grow the database without bound.
 */
import type { Database } from 'better-sqlite3';
import type { PathEvent } from '../contract/viewModels.ts';
import { prepare } from './statements.ts';

/** Events kept per connection; older ones are deleted as new ones arrive. */
export const MAX_PATH_EVENTS = 200;

interface EventRow {
  connection_id: string;
  at: number;
  kind: PathEvent['kind'];
  from_address: string | null;
  to_address: string | null;
  rtt_before_ms: number | null;
  rtt_after_ms: number | null;
  detail: string;
}

/**
 * The events of the connections whose ids are in the JSON array bound to `?`, each connection's
 * oldest first. One statement for any number of connections (a list view is not N+1 queries);
 * exported for the query-plan test.
 */
export const PATH_EVENTS_SQL = `SELECT connection_id, at, kind, from_address, to_address, rtt_before_ms, rtt_after_ms, detail
  FROM connection_events WHERE connection_id IN (SELECT value FROM json_each(?))
  ORDER BY connection_id, at, id`;

/** Deletes all but the newest `?3` events of connection `?1` (= `?2`); exported for the query-plan test. */
export const CAP_PATH_EVENTS_SQL = `DELETE FROM connection_events WHERE connection_id = ? AND id NOT IN (
  SELECT id FROM connection_events WHERE connection_id = ? ORDER BY at DESC, id DESC LIMIT ?)`;

const INSERT_SQL = `INSERT INTO connection_events
  (connection_id, at, kind, from_address, to_address, rtt_before_ms, rtt_after_ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Appends `events` to connection `connectionId` (which must exist: the foreign key refuses
 * otherwise) and applies the cap. The caller runs it inside its transaction.
 */
export function appendPathEvents(db: Database, connectionId: string, events: readonly PathEvent[]): void {
  if (events.length === 0) return;
  const insert = prepare(db, INSERT_SQL);
  for (const e of events) insert.run(connectionId, e.at, e.kind, e.from, e.to, e.rttBeforeMs, e.rttAfterMs, e.detail);
  prepare(db, CAP_PATH_EVENTS_SQL).run(connectionId, connectionId, MAX_PATH_EVENTS);
}

/** The events of each of `connectionIds`, oldest first; a connection without events maps to []. */
export function pathEventsOf(db: Database, connectionIds: readonly string[]): Map<string, PathEvent[]> {
  const byConnection = new Map<string, PathEvent[]>(connectionIds.map((id) => [id, []]));
  if (connectionIds.length === 0) return byConnection;
  const rows = prepare<[string], EventRow>(db, PATH_EVENTS_SQL).all(JSON.stringify(connectionIds));
  for (const row of rows) {
    byConnection.get(row.connection_id)?.push({
      at: row.at,
      kind: row.kind,
      from: row.from_address,
      to: row.to_address,
      rttBeforeMs: row.rtt_before_ms,
      rttAfterMs: row.rtt_after_ms,
      detail: row.detail,
    });
  }
  return byConnection;
}
