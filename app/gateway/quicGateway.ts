/**
 * `quiver gateway`: an XMPP-over-QUIC front (XEP-0467) on an existing XMPP server. It accepts QUIC
 * connections with ALPN `xmpp-client` and joins each bidirectional stream a client opens to one
 * TCP connection to the server's plaintext port (`StreamBridge`). It owns the UDP endpoint and the
 * TCP sockets; the QUIC protocol work stays in `app/quic`.
 *
 * Limits: live connections (`maxConnections`; a connection beyond it is refused by the endpoint
 * before any handshake work, with CONNECTION_REFUSED in a stateless Initial, RFC 9000 §5.2.2, and
 * counted in one record per interval), backend TCP connections per client address and in all (a
 * stream beyond either is reset with `GATEWAY_BACKEND_LIMIT`), streams per connection (the transport parameters: initial_max_streams_bidi =
 * `maxStreamsPerConnection`, initial_max_streams_uni = 0, as XEP-0467 §2 rule 9 allows only
 * bidirectional streams), bytes buffered per stream (`StreamBridge`), the idle timeout, and the
 * endpoint's half-open caps with Retry (RFC 9000 §8.1.2) under load.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { QuicEndpoint } from '../quic/driver/quicEndpoint.ts';
import { formatHostPort } from '../contract/ipLiteral.ts';
import { CertificateSelector, type GatewayCertificate } from './certificateSelector.ts';
import type { CloseInfo, QuicConnectionHandle, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';
import { GatewayError } from './gatewayError.ts';
import { type ConnectionFacts, type GatewayLogRecord } from './gatewayLog.ts';
import { GATEWAY_BUSY, GATEWAY_CANCELLED, GATEWAY_NO_ERROR, StreamBridge } from './streamBridge.ts';

/** XEP-0467 §2 rule 6: "The ALPN protocol MUST be 'xmpp-client' when negotiating an c2s connection." */
export const GATEWAY_ALPN = 'xmpp-client';

export interface GatewayLimits {
  /** Live QUIC connections; one more is refused before its handshake, CONNECTION_REFUSED (default 1000). */
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
  /** TCP connections to the server at a time, all clients together (default 4096). */
  maxBackendConnections: number;
  /** TCP connections to the server at a time for the streams of one client IP address (default 64). */
  maxBackendPerAddress: number;
  /**
   * Of those, how many may open before their QUIC connection's handshake completed, for streams
   * opened in accepted 0-RTT (answered in 0.5-RTT data), while the address is not yet validated
   * (default 16): a forged source address with a ticket cannot take more of the address's share.
   */
  maxEarlyBackendPerAddress: number;
  /** Milliseconds a new stream may wait for its first byte before it is reset (default 10 s). */
  firstByteTimeoutMs: number;
  /**
   * Milliseconds the server's bytes may wait, above `maxBufferedPerStream`, for a client that
   * does not take them before the stream is reset (default 60 s).
   */
  sendStallTimeoutMs: number;
  /** Refused connections are logged as one count per this many milliseconds at most (default 10 s). */
  refusalLogIntervalMs: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxConnections: 1000,
  maxStreamsPerConnection: 16,
  maxBufferedPerStream: 1024 * 1024,
  idleTimeoutMs: 30_000,
  requireRetry: false,
  maxBackendConnections: 4096,
  maxBackendPerAddress: 64,
  maxEarlyBackendPerAddress: 16,
  firstByteTimeoutMs: 10_000,
  sendStallTimeoutMs: 60_000,
  refusalLogIntervalMs: 10_000,
};

export interface QuicGatewayOptions {
  /** The UDP address to listen on (port 0: any free port; see `address`). */
  listen: { address: string; port: number };
  /** The XMPP server's plaintext client port, normally on loopback. */
  forward: { host: string; port: number };
  /**
   * DER certificates, leaf first, for the names clients send as SNI (their JID domains): the
   * default, presented whenever no pair of `moreCertificates` names the SNI.
   */
  certificateChain: Uint8Array[];
  privateKey: KeyObject;
  /**
   * Further certificate/key pairs for other domains, tried in order after the first: a client
   * gets the first pair whose leaf names its SNI as a DNS-ID (`certificateSelector.ts`), else the
   * first pair.
   */
  moreCertificates?: readonly GatewayCertificate[];
  limits?: Partial<GatewayLimits>;
  /**
   * Receives one record when a connection ended, one count of refused connections per
   * `refusalLogIntervalMs` at most, and with `verbose` one record when a connection is up
   * (`gatewayLog.ts`).
   */
  log: (record: GatewayLogRecord) => void;
  /** Also log a record when a connection's handshake completes. */
  verbose?: boolean;
  /**
   * Resumption and 0-RTT: the gateway issues session tickets (sealed under a random key of this
   * process, so they resume only with it) that allow early data, and accepts a client's 0-RTT
   * when its endpoint's strike register finds it fresh and unused (RFC 8446bis §8). Early stream
   * bytes go to the server like any others. Safe for XMPP when clients send only the stream
   * header early, as Quiver does (a replay opens at most one more unauthenticated stream).
   *
   * The trade-off: each stream of a connection whose 0-RTT was accepted gets its server
   * connection on its first byte, before the handshake completes, so the server's stream features leave in
   * 0.5-RTT data and a warm start takes one round trip less. That connection is opened for an
   * address not yet validated and a client not yet confirmed (RFC 9001 §9.2: "The use of 0-RTT in
   * QUIC is similarly vulnerable to replay attack"; RFC 8446bis §8: "TLS does not provide inherent
   * replay protections for 0-RTT data", and a strike register limits it; ours, per process, lets
   * each ticket's early data in once). It counts against the same `admit()` limits
   * (`maxBackendPerAddress`, `maxBackendConnections`); what the server answers is bounded by the
   * 3x anti-amplification limit until the address is validated (RFC 9000 §8.1); and a handshake
   * that never completes closes it when the QUIC connection closes. 0-RTT that was not accepted
   * is never read; nothing else arrives before the handshake completes. Default off: no
   * tickets, no 0-RTT.
   */
  earlyData?: boolean;
}

/** One client's QUIC connection and the server connections of its streams. */
class GatewayConnection {
  readonly facts: ConnectionFacts;
  readonly started = performance.now();
  readonly opened = new Date().toISOString();
  readonly host: string;
  readonly bridges = new Set<StreamBridge>();
  streams = 0;
  bytesUp = 0;
  bytesDown = 0;

  readonly handle: QuicConnectionHandle;

  constructor(id: number, handle: QuicConnectionHandle) {
    this.handle = handle;
    const { address, port } = handle.remoteAddress;
    this.host = address;
    this.facts = { id, remote: formatHostPort(address, port), sni: '', alpn: null };
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
  /** Backend TCP connections open, in all and per client IP address. */
  private backendCount = 0;
  private readonly backendPerAddress = new Map<string, number>();
  /**
   * Per client address: streams allowed a server connection before their QUIC connection's
   * handshake completed (0.5-RTT answers), counted until it completes. The address is not yet
   * validated (a spoofed one is possible with a ticket), so these have a small budget of their own:
   * a spoofer cannot take more than `maxEarlyBackendPerAddress` of the address's server connections.
   */
  private readonly earlyPerAddress = new Map<string, number>();
  /** Connections refused since the last refusal record, and the reason of the latest. */
  private refused = { count: 0, reason: '', since: '' };
  private refusalTimer: NodeJS.Timeout | null = null;

  private readonly selector: CertificateSelector | null;

  private constructor(endpoint: QuicEndpoint, opts: QuicGatewayOptions, selector: CertificateSelector | null) {
    this.endpoint = endpoint;
    this.opts = opts;
    this.selector = selector;
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...opts.limits };
  }

  /**
   * Binds the UDP socket and starts accepting. Rejects when the address cannot be bound, and
   * (before binding) with a SecurityError `bad-certificate` when a leaf of `moreCertificates`
   * cannot be parsed.
   */
  static async start(opts: QuicGatewayOptions): Promise<QuicGateway> {
    const more = opts.moreCertificates ?? [];
    const selector =
      more.length === 0
        ? null
        : new CertificateSelector([{ certificateChain: opts.certificateChain, privateKey: opts.privateKey }, ...more]);
    let endpoint: QuicEndpoint;
    try {
      endpoint = await QuicEndpoint.bind(opts.listen);
    } catch (error) {
      const where = formatHostPort(opts.listen.address, opts.listen.port);
      throw new GatewayError(
        'gateway-listen-failed',
        `cannot listen for QUIC on UDP ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; choose another address or port, or stop the program that holds it`,
        { cause: error },
      );
    }
    const gateway = new QuicGateway(endpoint, opts, selector);
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

  /** Backend TCP connections open now. */
  get backendConnectionCount(): number {
    return this.backendCount;
  }

  /** The endpoint's counters (Retries sent, refused Initials, ...). */
  get counters(): QuicEndpoint['counters'] {
    return this.endpoint.counters;
  }

  private listen(): void {
    const l = this.limits;
    const { certificateChain, privateKey } = this.opts;
    const selector = this.selector;
    this.endpoint.listen({
      alpn: [GATEWAY_ALPN],
      certificateChain,
      privateKey,
      ...(selector === null ? {} : { selectCertificate: (name: string | null) => selector.select(name) }),
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
      // A connection beyond the budget is refused before its handshake costs anything.
      refuseConnection: () => {
        const reason = this.refusal();
        if (reason !== null) this.countRefusal(reason);
        return reason;
      },
      onConnection: (handle) => this.accept(handle),
      ...(this.opts.earlyData ? { ticketKey: new Uint8Array(randomBytes(32)), earlyData: true } : {}),
    });
  }

  /** Why a new connection is refused now, or null when it may come in. */
  private refusal(): string | null {
    if (this.closing) return 'the gateway is shutting down';
    if (this.connections.size >= this.limits.maxConnections)
      return `the gateway is at its limit of ${this.limits.maxConnections} connections; try again later`;
    return null;
  }

  private accept(handle: QuicConnectionHandle): void {
    // The endpoint asked `refusal` just before creating this connection; this is a safety net.
    const reason = this.refusal();
    if (reason !== null) {
      handle.close(GATEWAY_BUSY, reason);
      // Initials are cheap to send from spoofed addresses: one line per refusal would let anyone
      // flood the log, so refusals are counted and logged once per interval.
      this.countRefusal(reason);
      return;
    }
    const conn = new GatewayConnection(this.nextId++, handle);
    this.connections.set(handle, conn);
    handle.established.then(
      ({ alpn }) => {
        conn.facts.alpn = alpn;
        conn.facts.sni = handle.connection.tlsFacts?.sni ?? '';
        if (this.opts.verbose) this.opts.log({ type: 'open', time: new Date().toISOString(), ...conn.facts });
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
    const l = this.limits;
    const bridge = new StreamBridge(stream, {
      forward: this.opts.forward,
      maxBuffered: l.maxBufferedPerStream,
      firstByteTimeoutMs: l.firstByteTimeoutMs,
      sendStallTimeoutMs: l.sendStallTimeoutMs,
      admit: () => this.admitBackend(conn.host),
      handshakeDone: this.earlyHold(conn),
    });
    conn.bridges.add(bridge);
    void bridge.closed.then(() => {
      conn.bridges.delete(bridge);
      conn.bytesUp += bridge.totals.up;
      conn.bytesDown += bridge.totals.down;
    });
  }

  /**
   * What a new stream's bytes wait for before its server connection opens (`StreamBridgeOptions.
   * handshakeDone`): nothing once the handshake is complete, nor for the streams a client opened
   * in 0-RTT that the gateway accepted (the strike register lets each ticket's early data in
   * once), so the server's answer leaves in 0.5-RTT data; the handshake otherwise.
   */
  private earlyHold(conn: GatewayConnection): Promise<unknown> | undefined {
    const connection = conn.handle.connection;
    if (connection.isHandshakeComplete) return undefined;
    const early = this.earlyPerAddress.get(conn.host) ?? 0;
    if (connection.earlyDataState !== 'accepted' || early >= this.limits.maxEarlyBackendPerAddress)
      return conn.handle.established;
    // Counted until the handshake ends either way: from then on the address is validated (or gone).
    this.earlyPerAddress.set(conn.host, early + 1);
    const done = (): void => {
      const left = (this.earlyPerAddress.get(conn.host) ?? 1) - 1;
      if (left <= 0) this.earlyPerAddress.delete(conn.host);
      else this.earlyPerAddress.set(conn.host, left);
    };
    conn.handle.established.then(done, done);
    return undefined;
  }

  /** A backend connection slot for a stream of a client at `host`, within both caps. */
  private admitBackend(host: string): { release: () => void } | { refused: string } {
    const l = this.limits;
    const mine = this.backendPerAddress.get(host) ?? 0;
    if (mine >= l.maxBackendPerAddress)
      return {
        refused: `the client's address already has ${l.maxBackendPerAddress} server connections (the gateway's per-address limit)`,
      };
    if (this.backendCount >= l.maxBackendConnections)
      return { refused: `the gateway is at its limit of ${l.maxBackendConnections} server connections` };
    this.backendCount++;
    this.backendPerAddress.set(host, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.backendCount--;
        const left = (this.backendPerAddress.get(host) ?? 1) - 1;
        if (left === 0) this.backendPerAddress.delete(host);
        else this.backendPerAddress.set(host, left);
      },
    };
  }

  private countRefusal(reason: string): void {
    if (this.refused.count === 0) this.refused.since = new Date().toISOString();
    this.refused.count++;
    this.refused.reason = reason;
    this.refusalTimer ??= setTimeout(() => this.flushRefusals(), this.limits.refusalLogIntervalMs);
  }

  /** Writes the refusal count since the last record, if any. */
  private flushRefusals(): void {
    if (this.refusalTimer) clearTimeout(this.refusalTimer);
    this.refusalTimer = null;
    const { count, reason, since } = this.refused;
    if (count === 0) return;
    this.refused = { count: 0, reason: '', since: '' };
    this.opts.log({ type: 'refused', time: new Date().toISOString(), since, count, reason });
  }

  private logClose(conn: GatewayConnection, reason: string): void {
    const done = Promise.all([...conn.bridges].map((b) => b.closed)).then(() => {
      this.pendingLogs.delete(done);
      this.opts.log({
        type: 'close',
        time: new Date().toISOString(),
        opened: conn.opened,
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
    this.flushRefusals();
  }
}

/** Why a connection ended, for the close record. */
function describeClose(info: CloseInfo): string {
  const who = info.local ? 'gateway' : 'client';
  return `${who}: ${info.codeName}${info.reason ? ` (${info.reason})` : ''}`;
}
