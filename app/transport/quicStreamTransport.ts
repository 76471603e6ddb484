/**
 * A `ByteTransport` over one bidirectional QUIC stream (XEP-0467 §"Stream": one XMPP stream per
 * bidirectional QUIC stream). The XMPP stream machine above it cannot tell it from TCP or TLS.
 *
 * The stream's FIN is the orderly end (our `end()` sends it, the peer's arrives as `onClose(null)`);
 * RESET_STREAM or STOP_SENDING from the peer, or the QUIC connection closing before the peer's FIN,
 * is an error.
 *
 * Whatever ends the XMPP stream abruptly also ends the QUIC stream in both directions, because a
 * stream the peer still counts as open keeps its stream credit: RFC 9000 §4.6 "endpoints ... SHOULD
 * send MAX_STREAMS frames ... as streams are closed", and a half we never finish never closes. So a
 * peer's RESET_STREAM is answered with our RESET_STREAM (unless our FIN went first), a peer's
 * STOP_SENDING with STOP_SENDING for its half (the RESET_STREAM for ours the stream manager sends,
 * §3.5), and `destroy()` sends both.
 */
import type { ByteTransport, TransportHandlers } from './byteTransport.ts';
import { TransportError } from './transportError.ts';
import type { CloseInfo, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';

/** Application error code we use on RESET_STREAM / STOP_SENDING when destroying (no error: the XMPP layer says why). */
const RESET_CODE = 0;

export class QuicStreamTransport implements ByteTransport {
  readonly description: string;
  readonly stream: QuicStreamHandle;
  #handlers: TransportHandlers | null = null;
  /**
   * Bytes not yet handed to `onData`: those that came before `setHandlers` (a 0-RTT stream's
   * 0.5-RTT answer arrives before its lease) and, until they are delivered, any that follow them.
   */
  #pending: Uint8Array[] = [];
  /** Set when the stream ended before `onData` had everything: delivered after the pending bytes. */
  #pendingClose: { error: Error | null } | null = null;
  #closed = false;
  #localEnded = false;
  #onFinished: (() => void) | null;
  /** What of the bytes sent early (`sentEarly`) the first writes have not repeated yet. */
  #early: Uint8Array | null = null;

  /**
   * `description` is for logs, e.g. `quic 127.0.0.1:443 stream 0`. Wrap the handle as soon as it
   * exists: its 'data' events are not replayed. `onFinished` runs once, when both directions are
   * done (peer FIN or reset and our FIN, or `destroy`, or the connection closing): the session pool
   * uses it to close a connection with no streams left.
   */
  constructor(stream: QuicStreamHandle, description: string, onFinished?: () => void) {
    this.stream = stream;
    this.description = description;
    this.#onFinished = onFinished ?? null;
    stream.on('data', (chunk: Uint8Array) => {
      if (this.#closed) return;
      if (this.#handlers && this.#pending.length === 0) this.#handlers.onData(chunk);
      // The handle hands out views into its receive buffer: keep a copy until someone listens.
      else this.#pending.push(new Uint8Array(chunk));
    });
    stream.on('end', () => this.#close(null));
    stream.on('reset', (code: number) => {
      // RFC 9000 §3.2: the peer's half is done ("Reset Recvd"); ours must end too for the stream
      // to close. The XMPP stream is over, so there is nothing left to say: RESET_STREAM.
      if (!this.#localEnded) this.stream.reset(RESET_CODE);
      this.#close(
        new TransportError('quic-stream-reset', `The server reset the QUIC stream (application error ${code}).`),
      );
    });
    stream.on('stop-sending', (code: number) => {
      // RFC 9000 §3.5: "An endpoint that receives a STOP_SENDING frame MUST send a RESET_STREAM
      // frame if the stream is in the "Ready" or "Send" state" (the stream manager has queued it).
      // Whatever we write from now on would vanish, so the XMPP stream is over: the peer's half is
      // not wanted either.
      if (!this.stream.ended) this.stream.stopSending(RESET_CODE);
      this.#close(
        new TransportError(
          'quic-stream-stopped',
          `The server stopped reading the QUIC stream (application error ${code}); what Quiver sends on it is lost.`,
        ),
      );
    });
    stream.on('close', (info: CloseInfo) => {
      // A connection close after both FINs is nothing to report; before the peer's FIN it is.
      if (info.local && info.app && info.code === 0) this.#close(null);
      else
        this.#close(
          new TransportError(
            'quic-connection-closed',
            `The QUIC connection closed before the XMPP stream ended (${info.codeName}${info.reason ? `: ${info.reason}` : ''}).`,
          ),
        );
    });
  }

  /**
   * Starts delivery. What arrived before (the server's 0.5-RTT answer to a 0-RTT header, even its
   * FIN) is delivered from a microtask, never from inside this call, as a socket's first bytes
   * are: the caller may still be setting up (`StreamDriver.start` sets the handlers before it
   * starts its stream machine, which refuses bytes before `start`). Bytes arriving meanwhile queue
   * behind them; nothing is lost or reordered.
   */
  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#pending.length > 0 || this.#pendingClose) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    // `onData` may destroy the transport, which drops the rest (`destroy` empties `#pending`).
    for (let chunk = this.#pending.shift(); chunk; chunk = this.#pending.shift()) handlers.onData(chunk);
    const close = this.#pendingClose;
    if (close) {
      this.#pendingClose = null;
      handlers.onClose(close.error);
    }
  }

  /**
   * The stream began with `bytes`, already sent as early data (0-RTT, `QuicConnectionHandle.
   * openEarlyStream`). The first writes must start with exactly these bytes (the stream machine
   * writes its opening header as on any transport); they are not sent again. Writes that differ
   * end the stream: the server would otherwise read two different beginnings.
   */
  sentEarly(bytes: Uint8Array): void {
    this.#early = bytes.length > 0 ? bytes : null;
  }

  write(data: Uint8Array): void {
    if (this.#closed || this.#localEnded) return;
    const early = this.#early;
    if (early !== null) {
      const n = Math.min(early.length, data.length);
      for (let i = 0; i < n; i++) {
        if (data[i] !== early[i]) {
          // A programmer error, not the peer's: the stream cannot be repaired.
          if (!this.#localEnded) this.stream.reset(RESET_CODE);
          if (!this.stream.ended) this.stream.stopSending(RESET_CODE);
          this.#localEnded = true;
          this.#close(
            new TransportError(
              'quic-early-data-mismatch',
              'The XMPP stream did not begin with the header Quiver sent in 0-RTT; the QUIC stream was ended.',
            ),
          );
          return;
        }
      }
      this.#early = n === early.length ? null : early.subarray(n);
      if (n === data.length) return;
      data = data.subarray(n);
    }
    this.stream.write(data);
  }

  end(): void {
    if (this.#closed || this.#localEnded) return;
    this.#localEnded = true;
    this.stream.end();
    this.#maybeFinished();
  }

  destroy(): void {
    // The owner reads nothing more: bytes not yet delivered go, and its onClose comes now.
    this.#pending = [];
    if (this.#closed) return;
    // RFC 9000 §3.5: abrupt termination of a bidirectional stream is RESET_STREAM for our side and
    // STOP_SENDING for theirs.
    if (!this.#localEnded) this.stream.reset(RESET_CODE);
    if (!this.stream.ended) this.stream.stopSending(RESET_CODE);
    this.#localEnded = true;
    this.#close(null);
  }

  #close(error: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    // A reset or a closed connection leaves nothing for us to send either.
    if (error) this.#localEnded = true;
    // After the bytes that came before it (`#flush` delivers it then).
    if (this.#handlers && this.#pending.length === 0) this.#handlers.onClose(error);
    else this.#pendingClose = { error };
    this.#maybeFinished();
  }

  #maybeFinished(): void {
    if (!this.#closed || !this.#localEnded || !this.#onFinished) return;
    const done = this.#onFinished;
    this.#onFinished = null;
    done();
  }
}
