/**
 * One interface for every byte stream an XMPP stream runs over: a TCP socket (upgraded in place by
 * STARTTLS) and a direct TLS socket (`tcpTransport.ts`), and one bidirectional QUIC stream
 * (`quicStreamTransport.ts`). The XMPP stream machine never sees which. What the TLS handshake of
 * each tells the verifier is `TlsFacts` (`tlsFacts.ts`).
 */
import type { TlsFacts } from './tlsFacts.ts';

export interface TransportHandlers {
  onData(chunk: Uint8Array): void;
  /** Called once; `error` is null for an orderly end of stream. */
  onClose(error: Error | null): void;
}

export interface ByteTransport {
  /** For logs and the UI, e.g. `tcp 127.0.0.1:5222`. */
  readonly description: string;
  /** Starts delivery; no data is lost before this is called. */
  setHandlers(handlers: TransportHandlers): void;
  write(data: Uint8Array): void;
  /** Orderly close after pending writes. */
  end(): void;
  /** Immediate close. */
  destroy(): void;
}

/** A plaintext TCP transport that STARTTLS can upgrade in place. */
export interface UpgradableTransport extends ByteTransport {
  /**
   * Runs the TLS handshake over this connection; afterwards every byte is inside TLS. With
   * `hold`, the new session stays paused (nothing is read from it) until `resume`, so no byte
   * reaches the stream before the verifier has accepted the server.
   */
  startTls(options: TlsStartOptions & { hold?: boolean }): Promise<TlsFacts>;
  /** Starts reading the TLS session held by `startTls({hold: true})`. */
  resume(): void;
}

export interface TlsStartOptions {
  servername: string;
  alpn?: string[];
  timeoutMs?: number;
}
