/**
 * The I/O driver for QUIC: owns a `node:dgram` socket and one timer, demultiplexes datagrams to
 * `QuicConnection`s by Destination Connection ID, and answers statelessly where RFC 9000 says so
 * (Version Negotiation §6.1, Retry §8.1.2, Stateless Reset §10.3). Client and server share it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { QuicConnectionHandle } from './quicConnectionHandle.ts';
import {
  defaultResetToken,
  QuicConnection,
  type ClientConnectOptions,
  type ServerAcceptOptions,
  type SocketAddress,
} from '../quicConnection.ts';
import { parseHeader, QUIC_V1, versionNegotiationPacket } from '../packetHeader.ts';
import { buildRetryPacket, buildStatelessReset, RetryToken } from '../retryToken.ts';
import { MAX_UDP_PAYLOAD, pathCeiling } from './pathMtu.ts';
import { PeerIndex } from './peerIndex.ts';
import { StrikeRegister } from '../tls/strikeRegister.ts';
import {
  admitInitial,
  connectionRefusedPacket,
  DEFAULT_MAX_HALF_OPEN_PER_ADDRESS,
  DEFAULT_MAX_HALF_OPEN,
  DEFAULT_RETRY_ABOVE,
  initialOpens,
  type TokenState,
} from './initialAdmission.ts';

const CID_LENGTH = 8;
/**
 * Datagrams and bytes sent per event-loop turn (all connections) before yielding to pending I/O:
 * whichever runs out first. Sealing and sending costs per datagram and per byte; with these
 * bounds a turn stays within a few milliseconds for any datagram size.
 */
const MAX_BURST = 64;
const MAX_BURST_BYTES = 256 * 1024;

export interface ListenOptions extends Pick<
  ServerAcceptOptions,
  | 'alpn'
  | 'certificateChain'
  | 'privateKey'
  | 'selectCertificate'
  | 'ticketKey'
  | 'transportParams'
  | 'maxDatagramSize'
  | 'keepAliveInterval'
> {
  /** RFC 9000 §8.1.2: send a Retry to every new client first (address validation). */
  requireRetry?: boolean;
  /**
   * Half-open connections (accepted, handshake not complete) above which a new client gets a
   * Retry and must come back from its address with the token (default 64).
   */
  retryAbove?: number;
  /** Half-open connections above which every new client is refused, validated or not (default 256). */
  maxHalfOpen?: number;
  /** Half-open connections one source address may hold before it must validate or is refused (default 16). */
  maxHalfOpenPerAddress?: number;
  /**
   * Asked before each new connection is created (its Initial decrypted, past the half-open caps):
   * a reason refuses it statelessly, with an Initial carrying CONNECTION_CLOSE CONNECTION_REFUSED
   * and that reason (RFC 9000 §5.2.2), before any handshake work; null accepts it. The owner's
   * connection budget (e.g. the gateway's `maxConnections`) is checked here.
   */
  refuseConnection?: () => string | null;
  /** Called for every accepted connection (before its handshake completes). */
  onConnection: (conn: QuicConnectionHandle) => void;
  /**
   * Accept 0-RTT (needs `ticketKey`): tickets allow early data, and a resumption's early data is
   * accepted when this endpoint's strike register (RFC 8446bis §8, in memory, bounded) finds the
   * ClientHello fresh and its ticket not used for 0-RTT before. Early stream data then arrives
   * before the handshake completes, as 'stream' and 'data' events: it may be a replay sent to
   * another server holding the same ticket key, so it must be safe to process twice. Default off:
   * 0-RTT is rejected.
   */
  earlyData?: boolean;
}

/**
 * `maxDatagramSize` here caps path MTU discovery (default: no cap but the path's own, which the
 * endpoint works out from the local interface's and the route's MTU).
 */
export type EndpointConnectOptions = Omit<
  ClientConnectOptions,
  'now' | 'wallClock' | 'cidLength' | 'statelessResetKey' | 'resetTokenFor'
>;

export interface BindOptions {
  /**
   * The static key of RFC 9000 §10.3.2 from which the reset token of every connection ID this
   * endpoint issues is derived (32 random bytes; default: new ones for this endpoint). A server
   * should keep it across restarts: only then can the restarted endpoint reset the connections
   * of the old one, so that their clients learn at once that the connection is gone (§10.3)
   * instead of waiting for their idle timeout. Keep it secret: whoever knows it can reset them.
   */
  statelessResetKey?: Uint8Array;
}

function key(cid: Uint8Array): string {
  return Buffer.from(cid.buffer, cid.byteOffset, cid.byteLength).toString('hex');
}

export class QuicEndpoint {
  private socket: Socket;
  private readonly family: 'udp4' | 'udp6';
  private readonly routes = new Map<string, QuicConnectionHandle>();
  private readonly handles = new Set<QuicConnectionHandle>();
  /** The connections by peer address, to recognise a Stateless Reset (RFC 9000 §10.3.1). */
  private readonly peers = new PeerIndex<QuicConnectionHandle>();
  /** Server connections whose handshake has not completed: capped (initialAdmission.ts). */
  private readonly halfOpen = new Set<QuicConnectionHandle>();
  private readonly resetKey: Uint8Array;
  private readonly retryTokens = new RetryToken();
  private server: ListenOptions | null = null;
  /** One anti-replay register for every connection this endpoint accepts (ListenOptions.earlyData). */
  private readonly antiReplay = new StrikeRegister();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closing = false;
  private socketClosed = false;
  private readonly flushQueued = new Set<QuicConnectionHandle>();
  /** Counters for tests and the bench. */
  readonly counters = {
    datagramsIn: 0,
    datagramsOut: 0,
    dropped: 0,
    versionNegotiation: 0,
    retries: 0,
    statelessResets: 0,
    /** Initials refused by the half-open cap or for an invalid token (no state was created). */
    refused: 0,
    /** Initials that did not open with their Initial keys (no state was created). */
    undecryptable: 0,
    /** New connections refused by `refuseConnection` with CONNECTION_REFUSED (no state was created). */
    connectionRefused: 0,
  };

  private constructor(socket: Socket, family: 'udp4' | 'udp6', opts: BindOptions) {
    this.socket = socket;
    this.family = family;
    if (opts.statelessResetKey && opts.statelessResetKey.length < 16)
      throw new RangeError('statelessResetKey must be at least 16 bytes (32 random bytes recommended)');
    this.resetKey = opts.statelessResetKey ?? randomBytes(32);
    this.attach(socket);
  }

  /** Binds a UDP socket (port 0 for an ephemeral port). */
  static async bind(
    local: { address: string; port: number } = { address: '127.0.0.1', port: 0 },
    opts: BindOptions = {},
  ): Promise<QuicEndpoint> {
    const family = isIP(local.address) === 6 ? 'udp6' : 'udp4';
    const socket = await QuicEndpoint.openSocket(family, local);
    return new QuicEndpoint(socket, family, opts);
  }

  private static openSocket(family: 'udp4' | 'udp6', local: { address: string; port: number }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createSocket({
        type: family,
        recvBufferSize: 4 * 1024 * 1024,
        sendBufferSize: 4 * 1024 * 1024,
        lookup: literalLookup,
      });
      s.once('error', reject);
      s.bind(local.port, local.address, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  }

  private attach(socket: Socket): void {
    socket.on('message', (msg, rinfo) => {
      if (socket !== this.socket) return;
      this.onDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
        address: rinfo.address,
        port: rinfo.port,
      });
    });
    socket.on('error', (err) => {
      // UDP errors (ICMP unreachable and the like) are per-datagram; loss recovery handles them.
      this.counters.dropped++;
      void err;
    });
  }

  get address(): SocketAddress {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** Accepts connections with the given certificate and ALPN list. */
  listen(opts: ListenOptions): void {
    this.server = opts;
  }

  /** Starts a client connection; await `handle.established`. */
  connect(opts: EndpointConnectOptions): QuicConnectionHandle {
    const conn = QuicConnection.connect({
      ...opts,
      // Discovery starts once the path's ceiling is known (setPathCeiling).
      maxDatagramSize: undefined,
      now: performance.now(),
      wallClock: Date.now,
      cidLength: CID_LENGTH,
      resetTokenFor: (cid) => defaultResetToken(this.resetKey, cid),
    });
    const handle = this.register(conn);
    this.setPathCeiling(handle, opts.maxDatagramSize);
    return handle;
  }

  /** Caps of path MTU discovery asked for by the application, per connection. */
  private readonly datagramCaps = new WeakMap<QuicConnectionHandle, number>();

  /**
   * Works out the largest datagram the connection's path can carry (the local interface's and
   * the route's MTU) and lets the connection discover up to it (RFC 9000 §14.3). Again after
   * every rebind and whenever the peer moves.
   */
  private setPathCeiling(handle: QuicConnectionHandle, cap = this.datagramCaps.get(handle) ?? MAX_UDP_PAYLOAD): void {
    if (this.closing || this.socketClosed) return;
    this.datagramCaps.set(handle, cap);
    const socket = this.socket;
    void pathCeiling(this.address.address, handle.connection.remoteAddress).then((ceiling) => {
      if (socket !== this.socket || !this.handles.has(handle)) return;
      handle.connection.setMaxDatagramSize(Math.min(cap, ceiling));
      this.service(handle);
    });
  }

  /** Half-open connections whose peer is `address` (at most `maxHalfOpen` to look through). */
  private halfOpenFrom(address: string): number {
    let n = 0;
    for (const handle of this.halfOpen) if (handle.connection.remoteAddress.address === address) n++;
    return n;
  }

  private register(conn: QuicConnection): QuicConnectionHandle {
    const handle: QuicConnectionHandle = new QuicConnectionHandle(conn, () => this.service(handle));
    this.handles.add(handle);
    this.peers.set(handle, conn.remoteAddress);
    for (const cid of conn.localConnectionIds) this.routes.set(key(cid), handle);
    queueMicrotask(() => this.service(handle));
    return handle;
  }

  /**
   * Moves to a fresh UDP socket (new local port) and migrates every client connection to it
   * (RFC 9000 §9: active migration). The old socket is closed. A client connection that cannot
   * migrate ends with `closed` (`cannot migrate`) instead of breaking RFC 9000 §9.5.
   */
  async rebind(local: { address: string; port: number } = { address: this.address.address, port: 0 }): Promise<void> {
    const next = await QuicEndpoint.openSocket(this.family, local);
    const old = this.socket;
    this.socket = next;
    this.attach(next);
    old.close();
    const now = performance.now();
    for (const h of this.handles) {
      if (h.connection.role === 'client' && !h.connection.migrate(now)) {
        // It may not send from the new socket, and the old one is gone: it ends, and its owner
        // connects again (QuicConnection.abandon).
        h.connection.abandon(
          'the network changed and this connection could not move with it (handshake not confirmed, migration disabled by the server, or no unused connection ID)',
          now,
        );
      }
      this.service(h);
      this.setPathCeiling(h);
    }
  }

  private onDatagram(data: Uint8Array, from: SocketAddress): void {
    this.counters.datagramsIn++;
    let header;
    try {
      header = parseHeader(data, 0, CID_LENGTH);
    } catch (err) {
      void err;
      this.counters.dropped++;
      return;
    }
    const existing = this.routes.get(key(header.dcid));
    if (existing) {
      existing.connection.handleDatagram(data, from, performance.now());
      // RFC 9000 §13.2.1: "A receiver MAY process multiple available packets before determining
      // whether to send an ACK frame in response." Every datagram libuv has ready is fed in first;
      // the connection is serviced (ACKs, data, events) once, in the check phase that follows.
      this.queueService(existing);
      return;
    }
    if (header.form === 'short') {
      // RFC 9000 §10.3.1: a Stateless Reset carries a DCID we cannot route; it is recognised by
      // its last 16 bytes, and never answered with a reset of our own (§10.3.3: no loops).
      if (this.acceptStatelessReset(data, from)) return;
      // RFC 9000 §10.3: an endpoint that cannot map a short-header packet sends a Stateless Reset.
      const reset = buildStatelessReset(defaultResetToken(this.resetKey, header.dcid), data.length);
      if (reset) {
        this.counters.statelessResets++;
        this.sendRaw(reset, from);
      }
      return;
    }
    if (!this.server || this.closing || header.form !== 'long') {
      this.counters.dropped++;
      return;
    }
    // RFC 9000 §14.1: a server MUST discard an Initial in a datagram smaller than 1200 bytes.
    if (data.length < 1200) {
      this.counters.dropped++;
      return;
    }
    if (header.version !== QUIC_V1) {
      // RFC 9000 §6.1: answer an unsupported version with Version Negotiation.
      this.counters.versionNegotiation++;
      this.sendRaw(versionNegotiationPacket(header.scid, header.dcid, [QUIC_V1, 0x1a2a3a4a], randomBytes(1)[0]!), from);
      return;
    }
    if (header.type !== 'initial') {
      this.counters.dropped++;
      return;
    }
    // RFC 9000 §7.2: the client's Destination Connection ID MUST be at least 8 bytes.
    if (header.dcid.length < 8) {
      this.counters.dropped++;
      return;
    }
    const token = header.token.length === 0 ? null : this.retryTokens.validate(from, header.token, Date.now());
    // A token of ours is valid only with the connection ID our Retry told the client to use.
    const tokenState: TokenState =
      header.token.length === 0 ? 'none' : token && equal(token.retryScid, header.dcid) ? 'valid' : 'invalid';
    const limits = {
      requireRetry: this.server.requireRetry ?? false,
      retryAbove: this.server.retryAbove ?? DEFAULT_RETRY_ABOVE,
      maxHalfOpen: this.server.maxHalfOpen ?? DEFAULT_MAX_HALF_OPEN,
      maxHalfOpenPerAddress: this.server.maxHalfOpenPerAddress ?? DEFAULT_MAX_HALF_OPEN_PER_ADDRESS,
    };
    const admission = admitInitial(limits, this.halfOpen.size, tokenState, this.halfOpenFrom(from.address));
    if (admission === 'retry') {
      const retryScid = randomBytes(CID_LENGTH);
      const retryToken = this.retryTokens.mint(from, header.dcid, retryScid, Date.now());
      this.counters.retries++;
      this.sendRaw(buildRetryPacket(header.scid, retryScid, retryToken, header.dcid), from);
      return;
    }
    if (admission === 'refuse') {
      // RFC 9000 §8.1.3: an invalid token may be dropped (the client times out); so is a
      // validated client when even the reserve above the Retry threshold is full.
      this.counters.refused++;
      return;
    }
    if (!initialOpens(data, header)) {
      this.counters.undecryptable++;
      return;
    }
    const refusal = this.server.refuseConnection?.() ?? null;
    if (refusal !== null) {
      this.counters.connectionRefused++;
      this.sendRaw(connectionRefusedPacket(header, randomBytes(CID_LENGTH), refusal), from);
      return;
    }
    const validated = tokenState === 'valid' ? token : null;
    const originalDcid = validated ? validated.odcid : header.dcid.slice();
    const retrySourceCid = validated ? validated.retryScid : undefined;
    const addressValidated = validated !== null;
    const s = this.server;
    const acceptOpts: ServerAcceptOptions = {
      alpn: s.alpn,
      certificateChain: s.certificateChain,
      privateKey: s.privateKey,
      originalDcid,
      clientScid: header.scid.slice(),
      localCid: randomBytes(CID_LENGTH),
      remoteAddress: from,
      now: performance.now(),
      wallClock: Date.now,
      cidLength: CID_LENGTH,
      resetTokenFor: (cid) => defaultResetToken(this.resetKey, cid),
      addressValidated,
    };
    if (retrySourceCid) acceptOpts.retrySourceCid = retrySourceCid;
    if (s.selectCertificate) acceptOpts.selectCertificate = s.selectCertificate;
    if (s.ticketKey) acceptOpts.ticketKey = s.ticketKey;
    if (s.ticketKey && s.earlyData) acceptOpts.earlyData = { antiReplay: this.antiReplay };
    if (s.transportParams) acceptOpts.transportParams = s.transportParams;
    if (s.keepAliveInterval) acceptOpts.keepAliveInterval = s.keepAliveInterval;
    const conn = QuicConnection.accept(acceptOpts);
    const handle = this.register(conn);
    this.halfOpen.add(handle);
    // The path's ceiling is worked out once the handshake completes: an unvalidated, possibly
    // spoofed, address costs no route lookup.
    this.datagramCaps.set(handle, s.maxDatagramSize ?? MAX_UDP_PAYLOAD);
    // Retransmitted Initials still carry the client's chosen DCID.
    this.routes.set(key(header.dcid), handle);
    s.onConnection(handle);
    conn.handleDatagram(data, from, performance.now());
    this.service(handle);
  }

  /**
   * Offers an unroutable datagram to the connections whose peer sent it (RFC 9000 §10.3.1:
   * only tokens "associated with the remote address on which the datagram was received", and
   * only those of connection IDs in use); true when one of them took it as its Stateless Reset.
   */
  private acceptStatelessReset(data: Uint8Array, from: SocketAddress): boolean {
    // §10.3: "an endpoint SHOULD ... treat [a datagram of 21 bytes or more] as a Stateless Reset
    // candidate"; shorter ones cannot carry 5 unpredictable bytes and a token.
    if (data.length < 21) return false;
    const now = performance.now();
    for (const h of this.peers.at(from)) {
      if (!h.connection.handleStatelessReset(data, now)) continue;
      this.service(h);
      return true;
    }
    return false;
  }

  private sendRaw(data: Uint8Array, to: SocketAddress): void {
    if (this.socketClosed) return;
    this.counters.datagramsOut++;
    // A send callback costs more than the send itself; only shutdown needs to know when the
    // last datagrams (CONNECTION_CLOSE) have left. Errors otherwise arrive as 'error' events.
    if (this.closing) {
      this.pendingSends++;
      this.socket.send(data, to.port, to.address, this.onSent);
    } else {
      this.socket.send(data, to.port, to.address);
    }
  }

  private pendingSends = 0;
  private sendsDrained: (() => void) | null = null;
  private readonly onSent = (err: Error | null): void => {
    // A failed send is a lost datagram; loss recovery repairs it.
    if (err) this.counters.dropped++;
    if (--this.pendingSends === 0 && this.sendsDrained) this.sendsDrained();
  };

  /** Services `handle` in this event-loop turn's check phase, after pending input was read. */
  private queueService(handle: QuicConnectionHandle): void {
    this.flushQueued.add(handle);
    this.scheduleTurn();
  }

  /** Flushes a connection: transmit, events, routing updates, timer. */
  private service(handle: QuicConnectionHandle): void {
    this.flush(handle);
    this.armTimer();
  }

  private flush(handle: QuicConnectionHandle): void {
    const conn = handle.connection;
    const now = performance.now();
    this.transmit(conn, now);
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      // The peer moved: the route to its new address may be narrower, and a Stateless Reset
      // now comes from there.
      if (e.type === 'migrated') {
        this.peers.set(handle, conn.remoteAddress);
        this.setPathCeiling(handle);
      }
      if (e.type === 'handshake-complete' && this.halfOpen.delete(handle)) this.setPathCeiling(handle);
      handle.dispatch(e);
    }
    for (let e = conn.pollEndpointEvent(); e; e = conn.pollEndpointEvent()) {
      if (e.type === 'cid-issued') this.routes.set(key(e.cid), handle);
      else if (e.type === 'cid-retired') this.routes.delete(key(e.cid));
      else this.forget(handle);
    }
    // Events may have queued more (a handler wrote to a stream): one more transmit pass.
    const more = this.transmit(conn, now);
    // When this turn's send budget ran out, continue after pending I/O (ACKs) had its turn, so
    // a large congestion window never blocks the event loop.
    if (more && !this.flushQueued.has(handle)) {
      this.flushQueued.add(handle);
      this.scheduleTurn();
    }
    handle.pumpDrain();
  }

  /** Datagrams this endpoint may still send in the current event-loop turn. */
  private budget = MAX_BURST;
  private budgetBytes = MAX_BURST_BYTES;
  private turnScheduled = false;

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.budget = MAX_BURST;
      this.budgetBytes = MAX_BURST_BYTES;
      const pending = [...this.flushQueued];
      this.flushQueued.clear();
      for (const h of pending) if (this.handles.has(h) && !this.socketClosed) this.flush(h);
      this.armTimer();
    });
  }

  /** Sends while the turn's budget lasts; returns true when the connection may have more to send. */
  private transmit(conn: QuicConnection, now: number): boolean {
    while (this.budget > 0 && this.budgetBytes > 0) {
      const t = conn.pollTransmit(now);
      if (!t) return false;
      this.sendRaw(t.data, t.to);
      this.budget--;
      this.budgetBytes -= t.data.length;
    }
    this.scheduleTurn();
    return true;
  }

  private forget(handle: QuicConnectionHandle): void {
    this.handles.delete(handle);
    this.peers.delete(handle);
    this.halfOpen.delete(handle);
    for (const [k, h] of this.routes) if (h === handle) this.routes.delete(k);
  }

  private armTimer(): void {
    let next = Infinity;
    for (const h of this.handles) next = Math.min(next, h.connection.pollTimeout() ?? Infinity);
    // A timer due no later than `next` stays: firing early is harmless (onTimer only handles
    // connections whose deadline passed, then re-arms), and re-arming per packet is not free.
    if (next >= this.timerAt && this.timer) return;
    if (next === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - performance.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    for (const h of [...this.handles]) {
      const t = h.connection.pollTimeout();
      if (t !== undefined && t <= now) {
        h.connection.handleTimeout(now);
        this.flush(h);
      }
    }
    this.armTimer();
  }

  /** Number of live connections (tests, bench). */
  get connectionCount(): number {
    return this.handles.size;
  }

  /** Server connections accepted whose handshake has not completed (capped by `maxHalfOpen`). */
  get halfOpenCount(): number {
    return this.halfOpen.size;
  }

  /**
   * Closes every connection (application code 0) and the socket once they have sent their
   * CONNECTION_CLOSE; it does not wait out the draining period.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closedPromise ?? undefined;
    this.closing = true;
    this.closedPromise = this.shutdown();
    return this.closedPromise;
  }

  private closedPromise: Promise<void> | null = null;

  private async shutdown(): Promise<void> {
    for (const h of [...this.handles]) {
      if (!h.connection.isClosed) h.connection.close(0, 'endpoint closing', performance.now());
      this.service(h);
    }
    // Kicks already queued by the application run first.
    await Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Let the CONNECTION_CLOSE datagrams leave before the socket goes.
    if (this.pendingSends > 0) await new Promise<void>((resolve) => (this.sendsDrained = resolve));
    this.socketClosed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    this.handles.clear();
    this.routes.clear();
    this.peers.clear();
    this.halfOpen.clear();
  }

  /**
   * Closes the socket at once, sending nothing: the peers are not told (as after a crash). Each
   * connection still reports 'closed' locally. A server restarted with the same
   * `statelessResetKey` resets the old connections when their peers next send.
   */
  abort(): void {
    if (this.socketClosed) return;
    this.closing = true;
    this.socketClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    for (const h of [...this.handles]) {
      if (!h.connection.isClosed) h.connection.close(0, 'endpoint aborted', now);
      // The socket is marked closed: flushing only delivers the events.
      this.flush(h);
    }
    this.socket.close();
    this.handles.clear();
    this.routes.clear();
    this.peers.clear();
    this.halfOpen.clear();
  }
}

/**
 * `dgram` resolves the address of every `send` through `dns.lookup`, which answers even an IP
 * literal on the next tick. Connections only ever send to IP literals: answer those at once
 * (anything else, including a literal of the other family, still goes to `dns.lookup`).
 */
function literalLookup(
  hostname: string,
  options: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  // dgram passes the socket's family as a bare number (4 or 6).
  const wanted = typeof options === 'number' ? options : options.family;
  if (family !== 0 && (wanted === undefined || wanted === 0 || wanted === family)) callback(null, hostname, family);
  else dnsLookup(hostname, options as LookupOneOptions, callback);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
