/**
 * Security records: one row per connection that reached TLS, exactly the contract's
 * `SecurityRecord`.
 */
import type { Database } from 'better-sqlite3';
import type {
  CandidateSource,
  CertificateSummary,
  DnssecStatus,
  SecurityRecord,
  Transport,
  Verdict,
} from '../contract/viewModels.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

/** What may change after a record is inserted: the handshake, SASL and bind results, and the end. */
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
}

const COLUMNS = `id, account_id, jid, transport, host, port, srv, source, dnssec, tls_version, cipher, alpn, sni,
  certificates, verification, sasl_mechanism, channel_binding, bound_jid, started_at, ended_at, end_reason`;

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
};

function toRecord(row: Row): SecurityRecord {
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
    quicConnectionId: null,
    quicStreamId: null,
    quic: null,
    fallback: null,
    pathEvents: [],
  };
}

function toColumn(key: keyof ConnectionPatch, value: unknown): unknown {
  return key === 'certificates' || key === 'verification' ? JSON.stringify(value) : value;
}

function notFound(id: string): StorageError {
  return new StorageError('connection-not-found', `There is no connection record with id ${id}.`);
}

export const connectionMethods = {
  /** Stores a new record under its own `id` (the caller makes it, e.g. randomUUID()). */
  insertConnection(db: Database, record: SecurityRecord): SecurityRecord {
    prepare(
      db,
      `INSERT INTO connections (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
    return connectionMethods.getConnection(db, record.id) as SecurityRecord;
  },

  getConnection(db: Database, id: string): SecurityRecord | null {
    const row = prepare<[string], Row>(db, `SELECT ${COLUMNS} FROM connections WHERE id = ?`).get(id);
    return row ? toRecord(row) : null;
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
   * Stores the record as it is now: inserted the first time, its changeable fields updated after
   * (a connection's record grows as it goes: verdict, SASL, bind, end).
   */
  saveConnection(db: Database, record: SecurityRecord): SecurityRecord {
    if (!prepare(db, 'SELECT 1 FROM connections WHERE id = ?').get(record.id))
      return connectionMethods.insertConnection(db, record);
    const patch: ConnectionPatch = {};
    for (const key of Object.keys(PATCH_COLUMNS) as (keyof ConnectionPatch)[])
      (patch as Record<string, unknown>)[key] = record[key];
    return connectionMethods.updateConnection(db, record.id, patch);
  },

  /** The account's most recent connections, newest first. */
  listConnections(db: Database, accountId: string, limit = 20): SecurityRecord[] {
    const n = Math.min(Math.max(Math.trunc(limit), 1), 200);
    return prepare<unknown[], Row>(db, LIST_CONNECTIONS_SQL).all(accountId, n).map(toRecord);
  },
};
