/**
 * One bidirectional QUIC stream joined to one TCP connection to the XMPP server's plaintext port
 * (XEP-0467 §2 rule 9: "Multiple bi-directional MAY be opened in one session and MUST be treated
 * as a separate connections"). Bytes are copied both ways; whichever side ends first ends the
 * other, so no session stays logged in on the server once its QUIC stream is gone.
 *
 * - The TCP connection opens on the stream's first byte, not when the stream exists: RFC 9000
 *   §3.2 "Before a stream is created, all streams of the same type with lower-numbered stream IDs
 *   MUST be created", so one frame on a high stream creates every lower one. A stream with no byte
 *   within `firstByteTimeoutMs` is reset with `GATEWAY_FIRST_BYTE_TIMEOUT`; one whose TCP
 *   connection `admit` refuses (the per-address or global cap) with `GATEWAY_BACKEND_LIMIT`.
 * - client FIN -> backend half-close (`end`); backend FIN -> stream FIN and STOP_SENDING (nothing
 *   the client sends after it can reach the server; the stream closes and its credit returns).
 * - client RESET_STREAM or STOP_SENDING, the QUIC connection closing (any reason, the idle timeout
 *   included) -> the backend socket is destroyed at once.
 * - backend error (refused, reset) -> RESET_STREAM and STOP_SENDING with `GATEWAY_BACKEND_ERROR`.
 * - server -> client: while more than `maxBuffered` bytes wait in the stream's send buffer
 *   (written, not yet acknowledged) the backend is not read; if that lasts `sendStallTimeoutMs`
 *   (a client that does not read) the stream is reset with `GATEWAY_SEND_STALLED`.
 * - client -> server: the handle reads every byte the client sends (and so returns its credit), so
 *   what the backend does not take piles up in the socket; above `maxBuffered` the stream is ended
 *   with `GATEWAY_BUFFER_LIMIT`.
 */
import { connect, type Socket } from 'node:net';
import type { CloseInfo, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';

/** Application error codes this gateway puts in RESET_STREAM / STOP_SENDING / CONNECTION_CLOSE. */
export const GATEWAY_NO_ERROR = 0x0;
/** The XMPP server refused or broke the TCP connection behind the stream. */
export const GATEWAY_BACKEND_ERROR = 0x1;
/** The XMPP server did not read what the client sent fast enough (`maxBuffered` reached). */
export const GATEWAY_BUFFER_LIMIT = 0x2;
/** The client reset or stopped its stream; we end our side too. */
export const GATEWAY_CANCELLED = 0x3;
/** A new connection found the gateway at its connection limit. */
export const GATEWAY_BUSY = 0x4;
/** No TCP connection to the server could be had: the client's address or the gateway is at its cap. */
export const GATEWAY_BACKEND_LIMIT = 0x5;
/** The client sent no byte on the stream within the first-byte deadline. */
export const GATEWAY_FIRST_BYTE_TIMEOUT = 0x6;
/** The client did not take the server's bytes within the send-stall deadline. */
export const GATEWAY_SEND_STALLED = 0x7;

export interface StreamBridgeOptions {
  forward: { host: string; port: number };
  /** Bytes the backend may leave unread, and bytes waiting to reach the client, per stream. */
  maxBuffered: number;
  /** Milliseconds from the stream's creation to its first byte before it is reset. */
  firstByteTimeoutMs: number;
  /** Milliseconds the server's bytes may stay stuck above `maxBuffered` before the stream is reset. */
  sendStallTimeoutMs: number;
  /**
   * Asks for a backend connection slot on the first byte: its `release` (called once, when the
   * socket closes), or why none is free (the stream is then reset with `GATEWAY_BACKEND_LIMIT`).
   */
  admit: () => { release: () => void } | { refused: string };
  /**
   * Resolves when the QUIC handshake is complete. Until then bytes the client sent in 0-RTT are
   * held here (within `maxBuffered`) and no server connection is opened: 0-RTT comes from an
   * address not yet validated and may be replayed (RFC 9001 §9.2). Absent: open on the first byte
   * (the handshake is complete, or the caller accepts early bytes for this stream: the gateway
   * does for the streams of a connection whose 0-RTT its strike register accepted, so the
   * server's answer goes out in 0.5-RTT data; see `QuicGatewayOptions.earlyData`).
   */
  handshakeDone?: Promise<unknown>;
}

export interface BridgeTotals {
  /** Client to server bytes. */
  up: number;
  /** Server to client bytes. */
  down: number;
}

/**
 * Joins `stream` to a TCP connection to `forward`, opened on the stream's first byte. `closed`
 * resolves once the backend socket is closed (whatever closed it), or once the stream ended
 * without one, with the reason; the stream's own end may follow later (the client's FIN).
 */
export class StreamBridge {
  readonly totals: BridgeTotals = { up: 0, down: 0 };
  readonly closed: Promise<string>;
  private readonly stream: QuicStreamHandle;
  private readonly opts: StreamBridgeOptions;
  private socket: Socket | null = null;
  private reason: string | null = null;
  private resolveClosed!: (reason: string) => void;
  private firstByteTimer: NodeJS.Timeout | null;
  private stallTimer: NodeJS.Timeout | null = null;
  private paused = false;
  /** The stream can no longer carry anything to the client (reset, stopped, connection gone). */
  private streamGone = false;
  /** No socket will be opened any more (the bridge ended before its first byte). */
  private done = false;
  /** Early bytes held until the handshake completes (`handshakeDone`); null once it has. */
  private early: { chunks: Uint8Array[]; bytes: number; ended: boolean } | null = null;

  constructor(stream: QuicStreamHandle, opts: StreamBridgeOptions) {
    this.stream = stream;
    this.opts = opts;
    // Server bytes waiting to reach the client: above this, `write` says wait and 'drain' resumes.
    stream.highWaterMark = opts.maxBuffered;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.firstByteTimer = setTimeout(() => {
      this.firstByteTimer = null;
      this.finishWithoutSocket(
        `the client sent nothing on the stream within ${opts.firstByteTimeoutMs} ms`,
        GATEWAY_FIRST_BYTE_TIMEOUT,
      );
    }, opts.firstByteTimeoutMs);
    if (opts.handshakeDone) {
      this.early = { chunks: [], bytes: 0, ended: false };
      // A handshake that fails closes the connection, and its close destroys this bridge.
      opts.handshakeDone.then(
        () => this.releaseEarly(),
        () => undefined,
      );
    }
    this.wireStream();
  }

  /** Whether the backend socket is closed (or was never opened and will not be). */
  get isClosed(): boolean {
    return this.socket ? this.socket.destroyed : this.done;
  }

  /** Ends both sides at once (the gateway is shutting down or the connection closed). */
  destroy(reason: string): void {
    this.note(reason);
    if (this.socket) this.socket.destroy();
    else this.finishWithoutSocket(reason, null);
  }

  private note(reason: string): void {
    this.reason ??= reason;
  }

  /** Ends a bridge that never opened its socket: resets the stream (when `code`) and settles. */
  private finishWithoutSocket(reason: string, code: number | null): void {
    if (this.socket || this.done) return;
    this.done = true;
    this.clearTimers();
    this.note(reason);
    if (code !== null) this.abortStream(code);
    this.resolveClosed(this.reason ?? reason);
  }

  private clearTimers(): void {
    if (this.firstByteTimer) clearTimeout(this.firstByteTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.firstByteTimer = this.stallTimer = null;
  }

  /** Opens the backend connection (first byte); false when the bridge ended instead. */
  private open(): Socket | null {
    if (this.socket) return this.socket;
    if (this.done) return null;
    if (this.firstByteTimer) clearTimeout(this.firstByteTimer);
    this.firstByteTimer = null;
    const slot = this.opts.admit();
    if ('refused' in slot) {
      this.finishWithoutSocket(slot.refused, GATEWAY_BACKEND_LIMIT);
      return null;
    }
    const { host, port } = this.opts.forward;
    // allowHalfOpen false: once the server ends its side, the socket ends ours too (nothing after
    // the server's FIN can be delivered to it).
    const socket = connect({ host, port, allowHalfOpen: false });
    this.socket = socket;
    // XMPP is request/response in small stanzas: Nagle's delay would only add latency.
    socket.setNoDelay(true);
    socket.on('close', () => {
      this.clearTimers();
      slot.release();
      this.resolveClosed(this.reason ?? 'the server connection closed');
    });
    this.wireBackend(socket);
    return socket;
  }

  private wireBackend(socket: Socket): void {
    const { stream } = this;
    socket.on('data', (chunk: Buffer) => {
      if (this.streamGone) return;
      this.totals.down += chunk.length;
      // The stream's high-water mark is `maxBuffered` (set in the constructor): above it, pause.
      if (!stream.write(chunk)) this.pause(socket);
    });
    socket.on('end', () => {
      this.note('the server closed the connection');
      if (this.streamGone) return;
      stream.end();
      // Nothing the client sends now can reach the server: ask it to stop, so the stream closes
      // in both directions and its credit returns (RFC 9000 §3.5).
      stream.stopSending(GATEWAY_NO_ERROR);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' follows; the stream learns of the failure by a reset (RFC 9000 §3.1).
      this.note(`the server connection failed: ${error.code ?? error.message}`);
      this.abortStream(GATEWAY_BACKEND_ERROR);
    });
  }

  /** Stops reading the server until the stream's send buffer is at or below `maxBuffered`. */
  private pause(socket: Socket): void {
    if (this.paused) return;
    this.paused = true;
    socket.pause();
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      this.note(
        `the client took none of the server's bytes for ${this.opts.sendStallTimeoutMs} ms with more than ${this.opts.maxBuffered} waiting`,
      );
      this.abortStream(GATEWAY_SEND_STALLED);
      socket.destroy();
    }, this.opts.sendStallTimeoutMs);
  }

  private resume(socket: Socket): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (!socket.destroyed) socket.resume();
  }

  /** Client bytes: to the server, or held while the handshake is not complete (0-RTT). */
  private onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.early) {
      this.early.chunks.push(new Uint8Array(chunk));
      this.early.bytes += chunk.length;
      if (this.early.bytes > this.opts.maxBuffered) {
        this.early = null;
        this.finishWithoutSocket(
          `the client sent more than ${this.opts.maxBuffered} bytes before its handshake was complete (the gateway's per-stream buffer limit)`,
          GATEWAY_BUFFER_LIMIT,
        );
      }
      return;
    }
    const socket = this.open();
    if (!socket || socket.destroyed || socket.writableEnded) return; // the server is gone: discard
    this.totals.up += chunk.length;
    socket.write(chunk);
    if (socket.writableLength > this.opts.maxBuffered) {
      this.note(
        `the server left more than ${this.opts.maxBuffered} bytes from the client unread (the gateway's per-stream buffer limit)`,
      );
      this.abortStream(GATEWAY_BUFFER_LIMIT);
      socket.destroy();
    }
  }

  private onEnd(): void {
    if (this.early) {
      this.early.ended = true;
      return;
    }
    this.note('the client closed the stream');
    const socket = this.socket;
    if (!socket) {
      // A stream finished without a byte: there is no session to forward; finish ours too.
      if (!this.streamGone) this.stream.end();
      this.streamGone = true;
      this.finishWithoutSocket('the client closed the stream before sending anything', null);
    } else if (!socket.destroyed) socket.end();
  }

  /** The handshake is complete: what the client sent early goes to the server now, in order. */
  private releaseEarly(): void {
    const early = this.early;
    this.early = null;
    if (!early || this.done) return;
    for (const chunk of early.chunks) this.onData(chunk);
    if (early.ended) this.onEnd();
  }

  private wireStream(): void {
    const { stream } = this;
    stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('drain', () => {
      if (this.socket) this.resume(this.socket);
    });
    stream.on('reset', (code: number) => {
      this.note(`the client reset the stream (code ${code})`);
      // Our sending half must end too, or the stream never closes and its credit never returns.
      this.abortStream(GATEWAY_CANCELLED);
      this.destroySocket();
    });
    stream.on('stop-sending', (code: number) => {
      // The connection answers with RESET_STREAM itself (RFC 9000 §3.5); the client wants nothing
      // more from this session, so the session ends.
      this.note(`the client stopped reading the stream (code ${code})`);
      this.abortStream(GATEWAY_CANCELLED);
      this.destroySocket();
    });
    stream.on('close', (info: CloseInfo) => {
      this.streamGone = true;
      this.note(`the QUIC connection closed (${info.codeName}${info.reason ? `: ${info.reason}` : ''})`);
      this.destroySocket();
    });
  }

  private destroySocket(): void {
    if (this.socket) this.socket.destroy();
    else this.finishWithoutSocket(this.reason ?? 'the stream ended', null);
  }

  /** Resets our sending half and asks the client to stop sending (both no-ops once done). */
  private abortStream(code: number): void {
    if (this.streamGone) return;
    this.streamGone = true;
    this.stream.reset(code);
    this.stream.stopSending(code);
  }
}
