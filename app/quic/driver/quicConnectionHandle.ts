/**
 * The evented face of a `QuicConnection` owned by a `QuicEndpoint`: promises for the handshake and
 * the close, and `QuicStreamHandle`s with `write` / `'data'` / `'end'`. All protocol work stays in
 * the sans-IO connection; this file only translates its events.
 */
import { EventEmitter } from 'node:events';
import type { QuicConnection, QuicEvent, SocketAddress } from '../quicConnection.ts';

export interface CloseInfo {
  code: number;
  codeName: string;
  reason: string;
  local: boolean;
  app: boolean;
}

/** Default bytes buffered per stream above which `write` returns false (wait for 'drain'). */
export const STREAM_HIGH_WATER_MARK = 1024 * 1024;

/**
 * One stream. Events: 'data' (Uint8Array), 'end' (peer finished), 'reset' (code),
 * 'stop-sending' (code), 'drain' (buffer below `highWaterMark` again), 'close' (CloseInfo:
 * the whole connection ended).
 */
export class QuicStreamHandle extends EventEmitter {
  readonly id: number;
  private readonly owner: QuicConnectionHandle;
  ended = false;
  /**
   * Bytes written and not yet acknowledged above which `write` returns false, and below which
   * 'drain' follows (Node's writable convention); a relay sets its own per-stream budget here.
   */
  highWaterMark = STREAM_HIGH_WATER_MARK;
  private wantDrain = false;

  constructor(owner: QuicConnectionHandle, id: number) {
    super();
    this.owner = owner;
    this.id = id;
  }

  get bidirectional(): boolean {
    return (this.id & 0x02) === 0;
  }

  /** Queues bytes (copied). Returns false when the caller should wait for 'drain'. */
  write(data: Uint8Array, fin = false): boolean {
    const conn = this.owner.connection;
    // The stream's send buffer copies what it keeps.
    conn.streamWrite(this.id, data, fin);
    this.owner.kick();
    const ok = conn.streamBuffered(this.id) < this.highWaterMark;
    if (!ok) this.wantDrain = true;
    return ok;
  }

  /** Finishes our side of the stream (FIN). */
  end(data?: Uint8Array): void {
    this.write(data ?? new Uint8Array(0), true);
  }

  reset(code: number): void {
    this.owner.connection.streamReset(this.id, code);
    this.owner.kick();
  }

  stopSending(code: number): void {
    this.owner.connection.stopSending(this.id, code);
    this.owner.kick();
  }

  /** @internal called by the handle on stream events. */
  onReadable(): void {
    const conn = this.owner.connection;
    for (let chunk = conn.streamRead(this.id); chunk; chunk = conn.streamRead(this.id)) this.emit('data', chunk);
    if (!this.ended && conn.streamFinished(this.id)) {
      this.ended = true;
      this.emit('end');
    }
  }

  /** @internal */
  onWritable(): void {
    if (this.wantDrain && this.owner.connection.streamBuffered(this.id) < this.highWaterMark) {
      this.wantDrain = false;
      this.emit('drain');
    }
  }
}

/**
 * Events: 'peer-certificate' (chain; client: call `acceptPeer()` or `rejectPeer()`), 'stream'
 * (QuicStreamHandle opened by the peer), 'session-ticket', 'path-validated', 'migrated',
 * 'path-mtu' ({ size, searching }: the datagram size in use, and whether discovery goes on),
 * 'early-data' (accepted: boolean; 0-RTT was offered or asked for),
 * 'streams-available' (bidi: boolean; the peer raised MAX_STREAMS, `openStream` may succeed again),
 * 'closed' (CloseInfo).
 */
export class QuicConnectionHandle extends EventEmitter {
  readonly connection: QuicConnection;
  private readonly streams = new Map<number, QuicStreamHandle>();
  private readonly kickFn: () => void;
  readonly established: Promise<{ alpn: string | null }>;
  readonly closed: Promise<CloseInfo>;
  private resolveEstablished!: (v: { alpn: string | null }) => void;
  private rejectEstablished!: (e: Error) => void;
  private resolveClosed!: (v: CloseInfo) => void;
  closeInfo: CloseInfo | null = null;

  constructor(connection: QuicConnection, kick: () => void) {
    super();
    this.connection = connection;
    this.kickFn = kick;
    this.established = new Promise((res, rej) => {
      this.resolveEstablished = res;
      this.rejectEstablished = rej;
    });
    // An unobserved handshake failure is reported through `closed`; do not crash the process.
    this.established.catch(() => undefined);
    this.closed = new Promise((res) => (this.resolveClosed = res));
  }

  /** Stream handles held: open streams, and finished ones whose final frames are not yet acknowledged. */
  get streamCount(): number {
    return this.streams.size;
  }

  get remoteAddress(): SocketAddress {
    return this.connection.remoteAddress;
  }

  private kickQueued = false;

  /**
   * @internal lets the endpoint flush after an API call. Deferred to a microtask so that many
   * small writes in one tick leave as full packets, not one packet per write.
   */
  kick(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.kickFn();
    });
  }

  /**
   * Opens a stream, or returns null when the peer's stream limit is reached (wait for
   * 'streams-available'; the STREAMS_BLOCKED frame that tells the peer goes out now) or the
   * connection is closed.
   */
  openStream(bidi = true): QuicStreamHandle | null {
    const id = this.connection.openStream(bidi);
    if (id === null) {
      this.kick();
      return null;
    }
    const s = new QuicStreamHandle(this, id);
    this.streams.set(id, s);
    return s;
  }

  /**
   * Client: opens a bidirectional stream and sends `data` on it as early data, in 0-RTT packets
   * before the handshake completes (see `QuicConnection.openEarlyStream`: only bytes that are
   * safe to replay; later writes wait for 1-RTT). Null when 0-RTT is not possible on this
   * connection (connect with a ticket that allows it and `earlyData: true`, before the first
   * flight leaves: in the same tick as `connect`); then open a stream as usual. 'early-data'
   * (accepted: boolean) tells the outcome; on rejection the bytes go again in 1-RTT.
   */
  openEarlyStream(data: Uint8Array): QuicStreamHandle | null {
    const id = this.connection.openEarlyStream(data);
    if (id === null) return null;
    const s = new QuicStreamHandle(this, id);
    this.streams.set(id, s);
    this.kick();
    return s;
  }

  /** Turns the connection's keep-alive PING on (`interval` ms of quiet) or off (0). */
  setKeepAliveInterval(interval: number): void {
    if (interval === this.connection.keepAliveInterval) return;
    this.connection.setKeepAliveInterval(interval);
    // The endpoint re-arms its timer when it services the connection.
    this.kick();
  }

  acceptPeer(): void {
    this.connection.acceptPeer();
    this.kick();
  }

  rejectPeer(reason: string): void {
    this.connection.rejectPeer(reason);
    this.kick();
  }

  close(code = 0, reason = ''): void {
    this.connection.close(code, reason, performance.now());
    this.kick();
  }

  /** @internal */
  dispatch(e: QuicEvent): void {
    switch (e.type) {
      case 'handshake-complete':
        this.resolveEstablished({ alpn: e.alpn });
        break;
      case 'peer-certificate':
        this.emit('peer-certificate', e.chain);
        break;
      case 'session-ticket':
        this.emit('session-ticket', e.ticket);
        break;
      case 'early-data':
        this.emit('early-data', e.accepted);
        break;
      case 'stream-opened': {
        const s = new QuicStreamHandle(this, e.id);
        this.streams.set(e.id, s);
        this.emit('stream', s);
        break;
      }
      case 'stream-readable':
        this.streams.get(e.id)?.onReadable();
        break;
      case 'stream-writable':
        this.streams.get(e.id)?.onWritable();
        break;
      case 'stream-reset':
        this.streams.get(e.id)?.emit('reset', e.code);
        break;
      case 'stream-stop-sending':
        this.streams.get(e.id)?.emit('stop-sending', e.code);
        break;
      case 'stream-collected':
        // Its 'data' / 'end' / 'reset' were delivered above (the event comes after them). Whoever
        // still holds the handle keeps it; writes to it fail as for any finished stream.
        this.streams.delete(e.id);
        break;
      case 'streams-available':
        this.emit('streams-available', e.bidi);
        break;
      case 'path-validated':
        this.emit('path-validated', e.remote);
        break;
      case 'migrated':
        this.emit('migrated', e.remote);
        break;
      case 'path-mtu':
        this.emit('path-mtu', { size: e.size, searching: e.searching });
        break;
      case 'closed': {
        const info: CloseInfo = { code: e.code, codeName: e.codeName, reason: e.reason, local: e.local, app: e.app };
        this.closeInfo = info;
        this.rejectEstablished(
          new Error(`QUIC connection closed before the handshake completed: ${e.codeName} ${e.reason}`),
        );
        this.resolveClosed(info);
        // Streams cannot outlive their connection: tell each one (no 'error' event, so an
        // unobserved close never throws).
        for (const st of this.streams.values()) st.emit('close', info);
        this.emit('closed', info);
        break;
      }
      default:
        break;
    }
  }

  /** @internal stream-writable after acks: let writers resume. */
  pumpDrain(): void {
    for (const s of this.streams.values()) s.onWritable();
  }
}
