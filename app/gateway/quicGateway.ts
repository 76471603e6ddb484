/**
 * `quiver gateway`: an XMPP-over-QUIC front (XEP-0467) on an existing XMPP server. It accepts QUIC
 * connections with ALPN `xmpp-client` and joins each bidirectional stream a client opens to one
 * TCP connection to the server's plaintext port (`StreamBridge`). It owns the UDP endpoint and the
 * TCP sockets; the QUIC protocol work stays in `app/quic`.
 *
 * Limits: live connections (`maxConnections`; a connection beyond it is closed with
 * `GATEWAY_BUSY`), streams per connection (the transport parameters: initial_max_streams_bidi =
 * `maxStreamsPerConnection`, initial_max_streams_uni = 0, as XEP-0467 §2 rule 9 allows only
 * bidirectional streams), bytes buffered per stream (`StreamBridge`), the idle timeout, and the
 * endpoint's half-open caps with Retry (RFC 9000 §8.1.2) under load.
 */
import type { KeyObject } from 'node:crypto';
import { QuicEndpoint } from '../quic/driver/quicEndpoint.ts';
import type { CloseInfo, QuicConnectionHandle, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';
import { GatewayError } from './gatewayError.ts';
import { formatAddress, type ConnectionFacts, type GatewayLogRecord } from './gatewayLog.ts';
import { GATEWAY_BUSY, GATEWAY_CANCELLED, GATEWAY_NO_ERROR, StreamBridge } from './streamBridge.ts';

/** XEP-0467 §2 rule 6: "The ALPN protocol MUST be 'xmpp-client' when negotiating an c2s connection." */
export const GATEWAY_ALPN = 'xmpp-client';

export interface GatewayLimits {
  /** Live QUIC connections; one more is closed at once with `GATEWAY_BUSY` (default 1000). */
  maxConnections: number;
  /** Streams a client may have open at a time on one connection (default 16). */
  maxStreamsPerConnection: number;
  /**
   * Bytes from the client the server may leave unread, per stream, before the stream is ended
   * (default 1 MiB). Also the stream's flow-control window.
   */
  maxBufferedPerStream: number;
  /** Milliseconds without a packet from the client after which its connection ends (default 30 s). */
  idleTimeoutMs: number;
  /** Ask every new client for a Retry first (RFC 9000 §8.1.2; costs one round trip). */
  requireRetry: boolean;
  /** Half-open connections above which new clients get a Retry (default: the endpoint's, 64). */
  retryAbove?: number;
  /** Half-open connections above which new clients are refused (default: the endpoint's, 256). */
  maxHalfOpen?: number;
  /** Half-open connections one address may hold (default: the endpoint's, 16). */
  maxHalfOpenPerAddress?: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxConnections: 1000,
  maxStreamsPerConnection: 16,
  maxBufferedPerStream: 1024 * 1024,
  idleTimeoutMs: 30_000,
  requireRetry: false,
};

export interface QuicGatewayOptions {
  /** The UDP address to listen on (port 0: any free port; see `address`). */
  listen: { address: string; port: number };
  /** The XMPP server's plaintext client port, normally on loopback. */
  forward: { host: string; port: number };
  /** DER certificates, leaf first, for the names clients send as SNI (their JID domains). */
  certificateChain: Uint8Array[];
  privateKey: KeyObject;
  limits?: Partial<GatewayLimits>;
  /** Receives one record when a connection is up and one when it ended (`gatewayLog.ts`). */
  log: (record: GatewayLogRecord) => void;
}

/** One client's QUIC connection and the server connections of its streams. */
class GatewayConnection {
  readonly facts: ConnectionFacts;
  readonly started = performance.now();
  readonly bridges = new Set<StreamBridge>();
  streams = 0;
  bytesUp = 0;
  bytesDown = 0;

  constructor(id: number, handle: QuicConnectionHandle) {
    const { address, port } = handle.remoteAddress;
    this.facts = { id, remote: formatAddress(address, port), sni: '', alpn: null };
  }
}

export class QuicGateway {
  private readonly endpoint: QuicEndpoint;
  private readonly opts: QuicGatewayOptions;
  private readonly limits: GatewayLimits;
  private readonly connections = new Map<QuicConnectionHandle, GatewayConnection>();
  /** Close records still to be written (a connection's bridges are closing). */
  private readonly pendingLogs = new Set<Promise<void>>();
  private nextId = 1;
  private closing: Promise<void> | null = null;

  private constructor(endpoint: QuicEndpoint, opts: QuicGatewayOptions) {
    this.endpoint = endpoint;
    this.opts = opts;
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...opts.limits };
  }

  /** Binds the UDP socket and starts accepting. Rejects when the address cannot be bound. */
  static async start(opts: QuicGatewayOptions): Promise<QuicGateway> {
    let endpoint: QuicEndpoint;
    try {
      endpoint = await QuicEndpoint.bind(opts.listen);
    } catch (error) {
      const where = formatAddress(opts.listen.address, opts.listen.port);
      throw new GatewayError(
        'gateway-listen-failed',
        `cannot listen for QUIC on UDP ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; choose another address or port, or stop the program that holds it`,
        { cause: error },
      );
    }
    const gateway = new QuicGateway(endpoint, opts);
    gateway.listen();
    return gateway;
  }

  /** The UDP address actually bound. */
  get address(): { address: string; port: number } {
    return this.endpoint.address;
  }

  /** Live QUIC connections (handshaking ones included). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The endpoint's counters (Retries sent, refused Initials, ...). */
  get counters(): QuicEndpoint['counters'] {
    return this.endpoint.counters;
  }

  private listen(): void {
    const l = this.limits;
    this.endpoint.listen({
      alpn: [GATEWAY_ALPN],
      certificateChain: this.opts.certificateChain,
      privateKey: this.opts.privateKey,
      transportParams: {
        maxIdleTimeout: l.idleTimeoutMs,
        initialMaxStreamsBidi: l.maxStreamsPerConnection,
        // XEP-0467 §2 rule 9: "XMPP MUST only use bi-directional streams."
        initialMaxStreamsUni: 0,
        initialMaxStreamDataBidiRemote: l.maxBufferedPerStream,
        initialMaxStreamDataUni: 0,
        initialMaxData: l.maxBufferedPerStream * l.maxStreamsPerConnection,
      },
      requireRetry: l.requireRetry,
      ...(l.retryAbove === undefined ? {} : { retryAbove: l.retryAbove }),
      ...(l.maxHalfOpen === undefined ? {} : { maxHalfOpen: l.maxHalfOpen }),
      ...(l.maxHalfOpenPerAddress === undefined ? {} : { maxHalfOpenPerAddress: l.maxHalfOpenPerAddress }),
      onConnection: (handle) => this.accept(handle),
    });
  }

  private accept(handle: QuicConnectionHandle): void {
    const conn = new GatewayConnection(this.nextId++, handle);
    if (this.closing || this.connections.size >= this.limits.maxConnections) {
      const reason = this.closing
        ? 'the gateway is shutting down'
        : `the gateway is at its limit of ${this.limits.maxConnections} connections; try again later`;
      handle.close(GATEWAY_BUSY, reason);
      this.logClose(conn, `refused: ${reason}`);
      return;
    }
    this.connections.set(handle, conn);
    handle.established.then(
      ({ alpn }) => {
        conn.facts.alpn = alpn;
        conn.facts.sni = handle.connection.tlsFacts?.sni ?? '';
        this.opts.log({ type: 'open', time: new Date().toISOString(), ...conn.facts });
      },
      // A failed handshake is reported by the close record ('closed' below).
      (error: unknown) => void error,
    );
    handle.on('stream', (stream: QuicStreamHandle) => this.bridge(conn, stream));
    void handle.closed.then((info) => {
      // Each stream got 'close' before this (QuicConnectionHandle.dispatch), which destroyed its
      // server connection; the record waits until those sockets are closed.
      this.connections.delete(handle);
      this.logClose(conn, describeClose(info));
    });
  }

  private bridge(conn: GatewayConnection, stream: QuicStreamHandle): void {
    if (!stream.bidirectional) {
      // Unreachable while initial_max_streams_uni is 0 (the connection refuses such a stream).
      stream.stopSending(GATEWAY_CANCELLED);
      return;
    }
    conn.streams++;
    const bridge = new StreamBridge(stream, {
      forward: this.opts.forward,
      maxBuffered: this.limits.maxBufferedPerStream,
    });
    conn.bridges.add(bridge);
    void bridge.closed.then(() => {
      conn.bridges.delete(bridge);
      conn.bytesUp += bridge.totals.up;
      conn.bytesDown += bridge.totals.down;
    });
  }

  private logClose(conn: GatewayConnection, reason: string): void {
    const done = Promise.all([...conn.bridges].map((b) => b.closed)).then(() => {
      this.pendingLogs.delete(done);
      this.opts.log({
        type: 'close',
        time: new Date().toISOString(),
        ...conn.facts,
        durationMs: Math.round(performance.now() - conn.started),
        streams: conn.streams,
        bytesUp: conn.bytesUp,
        bytesDown: conn.bytesDown,
        reason,
      });
    });
    this.pendingLogs.add(done);
  }

  /**
   * Closes every connection (CONNECTION_CLOSE, application code 0) and every server connection,
   * then the socket; resolves once each connection's close record was written.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const handle of this.connections.keys()) handle.close(GATEWAY_NO_ERROR, 'the gateway is shutting down');
    await this.endpoint.close();
    // The endpoint reported 'closed' for each connection; their records wait for the sockets.
    while (this.pendingLogs.size > 0) await Promise.all(this.pendingLogs);
  }
}

/** Why a connection ended, for the close record. */
function describeClose(info: CloseInfo): string {
  const who = info.local ? 'gateway' : 'client';
  return `${who}: ${info.codeName}${info.reason ? ` (${info.reason})` : ''}`;
}
