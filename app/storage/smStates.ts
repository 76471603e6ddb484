/**
 * XEP-0198 stream-management state per account (migration 0010), so that a killed process can
 * resume its stream on the next start: XEP-0198 §5 "the client ... sends a <resume/> element ...
 * 'previd' attribute set to the SM-ID of the former stream and 'h' attribute set to the sequence
 * number of the last handled stanza". The row is written after every change the next resumption
 * needs (enabled, each inbound count the client acknowledges, each outbound ack), and cleared
 * when the stream ends cleanly or the server refuses to resume it.
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

export interface SmState {
  /** The SM-ID from <enabled id='…'/>. */
  smId: string;
  /** The full JID bound on that stream (a resumed stream keeps it). */
  jid: string;
  /** Count of stanzas received from the server and handled (the 'h' we send). */
  inboundH: number;
  /** The last 'h' the server acknowledged for our stanzas. */
  outboundH: number;
  /** Count of stanzas we sent on that stream. */
  sent: number;
  /** <enabled location='…'/>: where to reconnect to resume, when the server said. */
  location: string | null;
  /** <enabled max='…'/>: seconds the server keeps the session, when it said. */
  max: number | null;
  /** When the state was saved, ms since the epoch. */
  savedAt: number;
}

interface Row {
  sm_id: string;
  jid: string;
  inbound_h: number;
  outbound_h: number;
  sent: number;
  location: string | null;
  max: number | null;
  saved_at: number;
}

/** XEP-0198 §4: counters are unsigned 32-bit integers. */
const COUNTER_MAX = 0xffff_ffff;

const isCounter = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) <= COUNTER_MAX;

function fromRow(row: Row): SmState | null {
  const ok =
    typeof row.sm_id === 'string' &&
    row.sm_id.length > 0 &&
    row.sm_id.length <= 4000 &&
    typeof row.jid === 'string' &&
    row.jid.length > 0 &&
    isCounter(row.inbound_h) &&
    isCounter(row.outbound_h) &&
    isCounter(row.sent) &&
    (row.max === null || isCounter(row.max)) &&
    (row.location === null || typeof row.location === 'string') &&
    Number.isInteger(row.saved_at);
  if (!ok) return null;
  return {
    smId: row.sm_id,
    jid: row.jid,
    inboundH: row.inbound_h,
    outboundH: row.outbound_h,
    sent: row.sent,
    location: row.location,
    max: row.max,
    savedAt: row.saved_at,
  };
}

export const smStateMethods = {
  /**
   * Saves (replaces) the account's stream-management state. Counters must be 0..2^32-1 and the
   * SM-ID 1..4000 characters (XEP-0198 §5 caps it at 4000 bytes); anything else is a programmer
   * error (RangeError).
   */
  saveSmState(db: Database, accountId: string, state: SmState): void {
    if (fromRow(toRow(state)) === null) throw new RangeError('stream-management state out of range');
    prepare(
      db,
      `INSERT INTO sm_states (account_id, sm_id, jid, inbound_h, outbound_h, sent, location, max, saved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET sm_id = excluded.sm_id, jid = excluded.jid,
         inbound_h = excluded.inbound_h, outbound_h = excluded.outbound_h, sent = excluded.sent,
         location = excluded.location, max = excluded.max, saved_at = excluded.saved_at`,
    ).run(
      accountId,
      state.smId,
      state.jid,
      state.inboundH,
      state.outboundH,
      state.sent,
      state.location,
      state.max,
      state.savedAt,
    );
  },

  /**
   * The account's saved state, or null when none is saved or the row is damaged (a counter out of
   * 0..2^32-1, an empty SM-ID: resuming with it could only fail, so the caller logs in afresh).
   */
  loadSmState(db: Database, accountId: string): SmState | null {
    const row = prepare<[string], Row>(
      db,
      'SELECT sm_id, jid, inbound_h, outbound_h, sent, location, max, saved_at FROM sm_states WHERE account_id = ?',
    ).get(accountId);
    return row ? fromRow(row) : null;
  },

  /** Forgets the account's state (the stream ended, or the server refused to resume it). */
  clearSmState(db: Database, accountId: string): void {
    prepare(db, 'DELETE FROM sm_states WHERE account_id = ?').run(accountId);
  },
};

function toRow(s: SmState): Row {
  return {
    sm_id: s.smId,
    jid: s.jid,
    inbound_h: s.inboundH,
    outbound_h: s.outboundH,
    sent: s.sent,
    location: s.location,
    max: s.max,
    saved_at: s.savedAt,
  };
}
