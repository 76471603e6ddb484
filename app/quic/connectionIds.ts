/**
 * Connection IDs of one connection (RFC 9000 §5.1): the ones we issue (NEW_CONNECTION_ID, up to
 * the peer's active_connection_id_limit, each with its stateless reset token) and the ones the
 * peer issued to us (which one we send to, retirement, the limit we advertised).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ByteWriter } from './byteWriter.ts';
import { equalBytes } from './equalBytes.ts';
import { encodeFrame, type Frame } from './frame.ts';
import type { SentFrame } from './packetSpace.ts';
import { QuicError } from './quicError.ts';

interface RemoteCid {
  seq: number;
  cid: Uint8Array;
  resetToken: Uint8Array | null;
}

interface LocalCid {
  seq: number;
  cid: Uint8Array;
  resetToken: Uint8Array;
}

/** We never keep more than this many of our own IDs active, whatever the peer allows. */
const MAX_LOCAL_CIDS = 4;

export type CidEvent = { type: 'cid-issued'; cid: Uint8Array } | { type: 'cid-retired'; cid: Uint8Array };

export class ConnectionIds {
  /** The Source Connection ID of our long headers (sequence number 0). */
  readonly initialLocal: Uint8Array;
  private readonly cidLength: number;
  private readonly resetTokenFor: (cid: Uint8Array) => Uint8Array;
  /** active_connection_id_limit we advertised. */
  private readonly localLimit: number;
  /** Routing changes for the driver. */
  private readonly events: { push(e: CidEvent): unknown };

  private readonly local = new Map<number, LocalCid>();
  private nextLocalSeq = 1;
  private readonly newCidPending = new Set<number>();
  private readonly remoteIds = new Map<number, RemoteCid>();
  private current: RemoteCid;
  private retirePriorTo = 0;
  private readonly retirePending = new Set<number>();

  constructor(opts: {
    localCid: Uint8Array;
    remoteCid: Uint8Array;
    cidLength: number;
    resetTokenFor: (cid: Uint8Array) => Uint8Array;
    localLimit: number;
    events: { push(e: CidEvent): unknown };
  }) {
    this.initialLocal = opts.localCid;
    this.cidLength = opts.cidLength;
    this.resetTokenFor = opts.resetTokenFor;
    this.localLimit = opts.localLimit;
    this.events = opts.events;
    this.local.set(0, { seq: 0, cid: opts.localCid, resetToken: opts.resetTokenFor(opts.localCid) });
    this.current = { seq: 0, cid: opts.remoteCid, resetToken: null };
    this.remoteIds.set(0, this.current);
  }

  /** The Destination Connection ID we send with. */
  get remote(): Uint8Array {
    return this.current.cid;
  }

  /** Every ID the driver must route to this connection. */
  get localIds(): Uint8Array[] {
    return [...this.local.values()].map((c) => c.cid);
  }

  /** The reset token for our sequence-0 ID (the server's stateless_reset_token parameter). */
  get initialResetToken(): Uint8Array {
    return this.local.get(0)!.resetToken;
  }

  /**
   * RFC 9000 §7.2: the client replaces its first, random DCID with the server's SCID (from the
   * first Initial or the Retry).
   */
  replaceInitialRemote(cid: Uint8Array): void {
    this.current = { seq: 0, cid, resetToken: null };
    this.remoteIds.set(0, this.current);
  }

  /** RFC 9000 §18.2: the server's stateless_reset_token belongs to its sequence-0 ID. */
  setInitialRemoteResetToken(token: Uint8Array): void {
    const c = this.remoteIds.get(0);
    if (c) c.resetToken = token;
  }

  /**
   * Whether the tail of an unprocessable datagram is the reset token of the peer's ID in use.
   * RFC 9000 §10.3.1: the tokens an endpoint compares "[exclude] stateless reset tokens
   * associated with connection IDs that are either unused or retired." We send to one peer ID
   * at a time and retire it when we move (switchToSpare, Retire Prior To): that one is in use.
   */
  isStatelessReset(tail: Uint8Array): boolean {
    const token = this.current.resetToken;
    return token !== null && tail.length === token.length && timingSafeEqual(token, tail);
  }

  /**
   * RFC 9000 §9.5: a migrating endpoint moves to an unused peer ID and retires the old one.
   * Returns false when the peer has given us no spare ID (we keep the current one).
   */
  switchToSpare(): boolean {
    const spare = [...this.remoteIds.values()].filter((c) => c.seq > this.current.seq).sort((a, b) => a.seq - b.seq)[0];
    if (!spare) return false;
    this.retirePending.add(this.current.seq);
    this.remoteIds.delete(this.current.seq);
    this.current = spare;
    return true;
  }

  handleFrame(f: Frame, frameType: number): boolean {
    if (f.type === 'new_connection_id') {
      this.onNewConnectionId(f, frameType);
      return true;
    }
    if (f.type === 'retire_connection_id') {
      this.onRetireConnectionId(f.seq, frameType);
      return true;
    }
    return false;
  }

  private onNewConnectionId(f: Extract<Frame, { type: 'new_connection_id' }>, frameType: number): void {
    // RFC 9000 §19.15: an endpoint that is sending packets with a zero-length Destination
    // Connection ID MUST treat receipt of NEW_CONNECTION_ID as PROTOCOL_VIOLATION.
    if (this.current.cid.length === 0)
      throw new QuicError('PROTOCOL_VIOLATION', 'NEW_CONNECTION_ID with zero-length connection IDs', frameType);
    const existing = this.remoteIds.get(f.seq);
    if (existing) {
      if (!equalBytes(existing.cid, f.cid))
        throw new QuicError('PROTOCOL_VIOLATION', 'NEW_CONNECTION_ID reuses a sequence number', frameType);
      return;
    }
    // §19.15: a sequence number below Retire Prior To is retired at once.
    if (f.seq < this.retirePriorTo) {
      this.retirePending.add(f.seq);
      return;
    }
    this.remoteIds.set(f.seq, { seq: f.seq, cid: f.cid, resetToken: f.resetToken });
    if (f.retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = f.retirePriorTo;
      for (const c of [...this.remoteIds.values()]) {
        if (c.seq < f.retirePriorTo) {
          this.remoteIds.delete(c.seq);
          this.retirePending.add(c.seq);
        }
      }
      if (this.current.seq < f.retirePriorTo) {
        const next = [...this.remoteIds.values()].sort((a, b) => a.seq - b.seq)[0];
        if (next) this.current = next;
      }
    }
    // RFC 9000 §5.1.1: more than active_connection_id_limit IDs is CONNECTION_ID_LIMIT_ERROR.
    if (this.remoteIds.size > this.localLimit)
      throw new QuicError('CONNECTION_ID_LIMIT_ERROR', 'peer exceeded active_connection_id_limit', frameType);
  }

  private onRetireConnectionId(seq: number, frameType: number): void {
    // RFC 9000 §19.16: retiring a sequence number never sent is PROTOCOL_VIOLATION.
    if (seq >= this.nextLocalSeq)
      throw new QuicError('PROTOCOL_VIOLATION', 'RETIRE_CONNECTION_ID for an unissued sequence number', frameType);
    const c = this.local.get(seq);
    if (!c) return;
    this.local.delete(seq);
    this.newCidPending.delete(seq);
    this.events.push({ type: 'cid-retired', cid: c.cid });
    this.issue(this.peerLimit);
  }

  private peerLimit = 2;

  /** Issues IDs up to the peer's active_connection_id_limit (capped), once the handshake is confirmed. */
  issue(peerLimit: number): void {
    this.peerLimit = peerLimit;
    const limit = Math.min(peerLimit, MAX_LOCAL_CIDS);
    while (this.local.size < limit) {
      const seq = this.nextLocalSeq++;
      const cid = new Uint8Array(randomBytes(this.cidLength));
      this.local.set(seq, { seq, cid, resetToken: this.resetTokenFor(cid) });
      this.newCidPending.add(seq);
      this.events.push({ type: 'cid-issued', cid });
    }
  }

  onAcked(fr: SentFrame): void {
    if (fr.t === 'new_connection_id') this.newCidPending.delete(fr.seq);
  }

  onLost(fr: SentFrame): void {
    if (fr.t === 'new_connection_id' && this.local.has(fr.seq)) this.newCidPending.add(fr.seq);
    else if (fr.t === 'retire_connection_id') this.retirePending.add(fr.seq);
  }

  /** Writes pending NEW_CONNECTION_ID and RETIRE_CONNECTION_ID frames. */
  writeFrames(w: ByteWriter, sent: SentFrame[], room: number): void {
    for (const seq of this.newCidPending) {
      if (w.offset + 48 > room) break;
      const c = this.local.get(seq);
      this.newCidPending.delete(seq);
      if (!c) continue;
      encodeFrame(w, { type: 'new_connection_id', seq, retirePriorTo: 0, cid: c.cid, resetToken: c.resetToken });
      sent.push({ t: 'new_connection_id', seq });
    }
    for (const seq of this.retirePending) {
      if (w.offset + 9 > room) break;
      this.retirePending.delete(seq);
      encodeFrame(w, { type: 'retire_connection_id', seq });
      sent.push({ t: 'retire_connection_id', seq });
    }
  }
}
