/**
 * Security records: one row per connection that reached TLS, exactly the contract's
 * `SecurityRecord`. Its path events are rows of `connection_events` (connectionEvents.ts).
 */
import type { Database } from 'better-sqlite3';
import type {
  CandidateSource,
  CertificateSummary,
  DnssecStatus,
  PathEvent,
  QuicDetails,
  SecurityRecord,
  Transport,
  Verdict,
} from '../contract/viewModels.ts';
import * as v from '../contract/validate.ts';
import { appendPathEvents, pathEventsOf } from './connectionEvents.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

/**
 * What may change after a record is inserted: the handshake, SASL and bind results, the QUIC
 * connection and stream, the fallback reason, and the end. Path events are not patched: they are
 * appended with `addPathEvent`.
 */
export type ConnectionPatch = Partial<
  Pick<
    SecurityRecord,
    | 'tlsVersion'
    | 'cipher'
    | 'alpn'
    | 'certificates'
    | 'verification'
    | 'saslMechanism'
    | 'channelBinding'
    | 'boundJid'
    | 'endedAt'
    | 'endReason'
    | 'quicConnectionId'
    | 'quicStreamId'
    | 'quic'
    | 'fallback'
  >
>;

interface Row {
  id: string;
  account_id: string | null;
  jid: string;
  transport: Transport;
  host: string;
  port: number;
  srv: string | null;
  source: CandidateSource;
  dnssec: DnssecStatus;
  tls_version: string | null;
  cipher: string | null;
  alpn: string | null;
  sni: string;
  certificates: string;
  verification: string;
  sasl_mechanism: string | null;
  channel_binding: string | null;
  bound_jid: string | null;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  quic_connection_id: string | null;
  quic_stream_id: number | null;
  quic: string | null;
  fallback: string | null;
}

const COLUMNS = `id, account_id, jid, transport, host, port, srv, source, dnssec, tls_version, cipher, alpn, sni,
  certificates, verification, sasl_mechanism, channel_binding, bound_jid, started_at, ended_at, end_reason,
  quic_connection_id, quic_stream_id, quic, fallback`;

const INSERT_SQL = `INSERT INTO connections (${COLUMNS}) VALUES (${COLUMNS.split(',').fill('?').join(', ')})`;

/** Newest first for one account; exported for the query-plan test. */
export const LIST_CONNECTIONS_SQL = `SELECT ${COLUMNS} FROM connections
  WHERE account_id = ? ORDER BY started_at DESC LIMIT ?`;

/** Column for each patchable field; the keys are fixed here, never taken from input. */
const PATCH_COLUMNS: { [K in keyof Required<ConnectionPatch>]: string } = {
  tlsVersion: 'tls_version',
  cipher: 'cipher',
  alpn: 'alpn',
  certificates: 'certificates',
  verification: 'verification',
  saslMechanism: 'sasl_mechanism',
  channelBinding: 'channel_binding',
  boundJid: 'bound_jid',
  endedAt: 'ended_at',
  endReason: 'end_reason',
  quicConnectionId: 'quic_connection_id',
  quicStreamId: 'quic_stream_id',
  quic: 'quic',
  fallback: 'fallback',
};

/** The stored `quic` column must be the contract's `QuicDetails`, nothing more or less. */
const quicDetails = v.object({
  version: v.string({ min: 1, max: 64 }),
  pathMtu: v.integer({ min: 0, max: 65_535 }),
  ech: v.literal('not available'),
  sharedWith: v.integer({ min: 0, max: 1_000_000 }),
  // Absent in records written before resumption and 0-RTT were recorded.
  resumed: v.optional(v.boolean),
  earlyData: v.optional(v.literal('not offered', 'accepted', 'rejected')),
  localAddress: v.nullable(v.string({ min: 1, max: 300 })),
  remoteAddress: v.string({ min: 1, max: 300 }),
});

function readQuic(row: Row): QuicDetails | null {
  if (row.quic === null) return null;
  // json_valid(quic) is a CHECK of the column, so the parse itself cannot fail.
  const checked = quicDetails(JSON.parse(row.quic), 'quic');
  if (checked.ok)
    return {
      ...checked.value,
      resumed: checked.value.resumed ?? false,
      earlyData: checked.value.earlyData ?? 'not offered',
    };
  throw new StorageError(
    'connection-corrupt',
    `The stored QUIC details of connection record ${row.id} cannot be read (${checked.error}); the database was changed outside Quiver or is damaged.`,
  );
}

function toRecord(row: Row, pathEvents: PathEvent[]): SecurityRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    jid: row.jid,
    transport: row.transport,
    host: row.host,
    port: row.port,
    srv: row.srv,
    source: row.source,
    dnssec: row.dnssec,
    tlsVersion: row.tls_version,
    cipher: row.cipher,
    alpn: row.alpn,
    sni: row.sni,
    certificates: JSON.parse(row.certificates) as CertificateSummary[],
    verification: JSON.parse(row.verification) as Verdict,
    saslMechanism: row.sasl_mechanism,
    channelBinding: row.channel_binding,
    boundJid: row.bound_jid,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    quicConnectionId: row.quic_connection_id,
    quicStreamId: row.quic_stream_id,
    quic: readQuic(row),
    fallback: row.fallback,
    pathEvents,
  };
}

function toRecords(db: Database, rows: Row[]): SecurityRecord[] {
  const ids = rows.map((r) => r.id);
  const events = pathEventsOf(db, ids);
  return rows.map((row) => toRecord(row, events.get(row.id) ?? []));
}

function toColumn(key: keyof ConnectionPatch, value: unknown): unknown {
  if (key === 'certificates' || key === 'verification') return JSON.stringify(value);
  if (key === 'quic') return value === null ? null : JSON.stringify(value);
  return value;
}

function notFound(id: string): StorageError {
  return new StorageError('connection-not-found', `There is no connection record with id ${id}.`);
}

function insertRow(db: Database, record: SecurityRecord): void {
  prepare(db, INSERT_SQL).run(
    record.id,
    record.accountId,
    record.jid,
    record.transport,
    record.host,
    record.port,
    record.srv,
    record.source,
    record.dnssec,
    record.tlsVersion,
    record.cipher,
    record.alpn,
    record.sni,
    JSON.stringify(record.certificates),
    JSON.stringify(record.verification),
    record.saslMechanism,
    record.channelBinding,
    record.boundJid,
    record.startedAt,
    record.endedAt,
    record.endReason,
    record.quicConnectionId,
    record.quicStreamId,
    record.quic === null ? null : JSON.stringify(record.quic),
    record.fallback,
  );
}

export const connectionMethods = {
  /**
   * Stores a new record under its own `id` (the caller makes it, e.g. randomUUID()), with its path
   * events (the newest `MAX_PATH_EVENTS` of them).
   */
  insertConnection(db: Database, record: SecurityRecord): SecurityRecord {
    db.transaction(() => {
      insertRow(db, record);
      appendPathEvents(db, record.id, record.pathEvents);
    })();
    return connectionMethods.getConnection(db, record.id) as SecurityRecord;
  },

  getConnection(db: Database, id: string): SecurityRecord | null {
    const row = prepare<[string], Row>(db, `SELECT ${COLUMNS} FROM connections WHERE id = ?`).get(id);
    return row ? (toRecords(db, [row])[0] ?? null) : null;
  },

  /** Sets the given fields (undefined ones are left alone) and returns the updated record. */
  updateConnection(db: Database, id: string, patch: ConnectionPatch): SecurityRecord {
    const keys = (Object.keys(PATCH_COLUMNS) as (keyof ConnectionPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length > 0) {
      const sql = `UPDATE connections SET ${keys.map((k) => `${PATCH_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`;
      const r = prepare(db, sql).run(...keys.map((k) => toColumn(k, patch[k])), id);
      if (r.changes === 0) throw notFound(id);
    }
    const record = connectionMethods.getConnection(db, id);
    if (!record) throw notFound(id);
    return record;
  },

  /**
   * Stores the record as it is now: inserted the first time (with its path events), its changeable
   * fields updated after (a connection's record grows as it goes: verdict, SASL, bind, QUIC stream,
   * fallback, end). For an existing row `record.pathEvents` is ignored: events are appended with
   * `addPathEvent` only, so a stale copy of the record cannot drop or duplicate them.
   */
  saveConnection(db: Database, record: SecurityRecord): SecurityRecord {
    if (!prepare(db, 'SELECT 1 FROM connections WHERE id = ?').get(record.id))
      return connectionMethods.insertConnection(db, record);
    const patch: ConnectionPatch = {};
    for (const key of Object.keys(PATCH_COLUMNS) as (keyof ConnectionPatch)[])
      (patch as Record<string, unknown>)[key] = record[key];
    return connectionMethods.updateConnection(db, record.id, patch);
  },

  /**
   * Appends one path event to the connection (an INSERT; the record's row is not rewritten) and
   * drops its events beyond the newest `MAX_PATH_EVENTS`. Returns the record with its events.
   * Throws `connection-not-found` when there is no such record.
   */
  addPathEvent(db: Database, connectionId: string, event: PathEvent): SecurityRecord {
    db.transaction(() => {
      if (!prepare(db, 'SELECT 1 FROM connections WHERE id = ?').get(connectionId)) throw notFound(connectionId);
      appendPathEvents(db, connectionId, [event]);
    })();
    const record = connectionMethods.getConnection(db, connectionId);
    if (!record) throw notFound(connectionId);
    return record;
  },

  /** The account's most recent connections, newest first, each with its path events (one query for all). */
  listConnections(db: Database, accountId: string, limit = 20): SecurityRecord[] {
    const n = Math.min(Math.max(Math.trunc(limit), 1), 200);
    return toRecords(db, prepare<unknown[], Row>(db, LIST_CONNECTIONS_SQL).all(accountId, n));
  },
};
