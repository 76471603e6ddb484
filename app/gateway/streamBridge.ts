/**
 * One bidirectional QUIC stream joined to one TCP connection to the XMPP server's plaintext port
 * (XEP-0467 §2 rule 9: "Multiple bi-directional MAY be opened in one session and MUST be treated
 * as a separate connections"). Bytes are copied both ways; whichever side ends first ends the
 * other, so no session stays logged in on the server once its QUIC stream is gone.
 *
 * - client FIN -> backend half-close (`end`); backend FIN -> stream FIN.
 * - client RESET_STREAM or STOP_SENDING, the QUIC connection closing (any reason, the idle timeout
 *   included) -> the backend socket is destroyed at once.
 * - backend error (refused, reset) -> RESET_STREAM and STOP_SENDING with `GATEWAY_BACKEND_ERROR`.
 * - server -> client: when the stream's send buffer is full (`write` returns false) the backend is
 *   no longer read until 'drain'.
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

export interface StreamBridgeOptions {
  forward: { host: string; port: number };
  /** Bytes from the client the backend may leave unread before the stream is ended. */
  maxBuffered: number;
}

export interface BridgeTotals {
  /** Client to server bytes. */
  up: number;
  /** Server to client bytes. */
  down: number;
}

/**
 * Joins `stream` to a new TCP connection to `forward`. `closed` resolves once the backend socket
 * is closed (whatever closed it), with the reason; the stream's own end may follow later (the
 * client's FIN).
 */
export class StreamBridge {
  readonly totals: BridgeTotals = { up: 0, down: 0 };
  readonly closed: Promise<string>;
  private readonly stream: QuicStreamHandle;
  private readonly socket: Socket;
  private readonly maxBuffered: number;
  private reason: string | null = null;
  private resolveClosed!: (reason: string) => void;

  constructor(stream: QuicStreamHandle, opts: StreamBridgeOptions) {
    this.stream = stream;
    this.maxBuffered = opts.maxBuffered;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // allowHalfOpen false: once the server ends its side, the socket ends ours too (nothing after
    // the server's FIN can be delivered to it).
    this.socket = connect({ host: opts.forward.host, port: opts.forward.port, allowHalfOpen: false });
    // XMPP is request/response in small stanzas: Nagle's delay would only add latency.
    this.socket.setNoDelay(true);
    this.wireBackend();
    this.wireStream();
  }

  /** Whether the backend socket is closed. */
  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Ends both sides at once (the gateway is shutting down or the connection closed). */
  destroy(reason: string): void {
    this.note(reason);
    this.socket.destroy();
  }

  private note(reason: string): void {
    this.reason ??= reason;
  }

  private wireBackend(): void {
    const { socket, stream } = this;
    socket.on('data', (chunk: Buffer) => {
      if (this.streamGone) return;
      this.totals.down += chunk.length;
      if (!stream.write(chunk)) socket.pause();
    });
    socket.on('end', () => {
      this.note('the server closed the connection');
      if (!this.streamGone) stream.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' follows; the stream learns of the failure by a reset (RFC 9000 §3.1).
      this.note(`the server connection failed: ${error.code ?? error.message}`);
      this.abortStream(GATEWAY_BACKEND_ERROR);
    });
    socket.on('close', () => this.resolveClosed(this.reason ?? 'the server connection closed'));
  }

  /** The stream can no longer carry anything to the client (reset, stopped, connection gone). */
  private streamGone = false;

  private wireStream(): void {
    const { socket, stream } = this;
    stream.on('data', (chunk: Uint8Array) => {
      if (socket.destroyed || socket.writableEnded) return; // the server is gone: discard
      this.totals.up += chunk.length;
      socket.write(chunk);
      if (socket.writableLength > this.maxBuffered) {
        this.note(
          `the server left more than ${this.maxBuffered} bytes from the client unread (the gateway's per-stream buffer limit)`,
        );
        this.abortStream(GATEWAY_BUFFER_LIMIT);
        socket.destroy();
      }
    });
    stream.on('end', () => {
      this.note('the client closed the stream');
      if (!socket.destroyed) socket.end();
    });
    stream.on('drain', () => socket.resume());
    stream.on('reset', (code: number) => {
      this.note(`the client reset the stream (code ${code})`);
      // Our sending half must end too, or the stream never closes and its credit never returns.
      this.abortStream(GATEWAY_CANCELLED);
      socket.destroy();
    });
    stream.on('stop-sending', (code: number) => {
      // The connection answers with RESET_STREAM itself (RFC 9000 §3.5); the client wants nothing
      // more from this session, so the session ends.
      this.note(`the client stopped reading the stream (code ${code})`);
      this.abortStream(GATEWAY_CANCELLED);
      socket.destroy();
    });
    stream.on('close', (info: CloseInfo) => {
      this.streamGone = true;
      this.note(`the QUIC connection closed (${info.codeName}${info.reason ? `: ${info.reason}` : ''})`);
      socket.destroy();
    });
  }

  /** Resets our sending half and asks the client to stop sending (both no-ops once done). */
  private abortStream(code: number): void {
    if (this.streamGone) return;
    this.streamGone = true;
    this.stream.reset(code);
    this.stream.stopSending(code);
  }
}
