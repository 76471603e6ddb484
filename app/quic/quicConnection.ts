/**
 * A QUIC v1 connection as a sans-IO state machine (RFC 9000, RFC 9001, RFC 9002), shaped like
 * quinn-proto: it owns no socket and no clock.
 *
 * Obligations of the driver (`QuicEndpoint`, or a test `Pair`):
 * - feed every datagram for this connection to `handleDatagram(data, from, now)`;
 * - after every `handle*` call and every API call (`streamWrite`, `close`, ...) call
 *   `pollTransmit(now)` until it returns undefined, and send each datagram to its `to`;
 * - drain `pollEvent()` and `pollEndpointEvent()` until undefined;
 * - arm one timer for `pollTimeout()` and call `handleTimeout(now)` when it fires.
 * Times are milliseconds on any monotonic clock. A misbehaving peer never makes these methods
 * throw: it ends in a `closed` event with the RFC 9000 error code.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ByteWriter } from './byteWriter.ts';
import { allowedInHandshakeEpochs, decodeFrames, encodeFrame, isAckEliciting, isProbing, type Frame } from './frame.ts';
import { parseHeader, QUIC_V1, unprotectPacket, type PacketHeader } from './packetHeader.ts';
import { AEAD_TAG_LENGTH, derivePacketKeys, initialKeys, type PacketKeys } from './packetProtection.ts';
import {
  EarlyData,
  allowedInZeroRtt,
  earlyDataContext,
  rememberedTransportParameters,
  type EarlyDataState,
} from './earlyData.ts';
import { fromBase64 } from './tls/tickets.ts';
import {
  APPLICATION,
  HANDSHAKE,
  INITIAL,
  PacketSpace,
  MAX_ACK_RANGES,
  SPACE_NAMES,
  type SentFrame,
  type SentPacket,
  type SpaceId,
} from './packetSpace.ts';
import { CRYPTO_ERROR_BASE, QuicError, TransportErrorCode } from './quicError.ts';
import { StreamManager } from './streamManager.ts';
import { LossRecovery } from './lossRecovery.ts';
import { MIN_INITIAL_DATAGRAM, PathState, type ValidationFailure } from './pathState.ts';
import { PacketBuilder, type PacketIds } from './packetBuilder.ts';
import { ConnectionIds } from './connectionIds.ts';
import { KeyUpdate } from './keyUpdate.ts';
import { CloseState } from './closeState.ts';
import { ControlFrames } from './controlFrames.ts';
import { IdleTimer } from './idleTimer.ts';
import { HandshakeIds } from './handshakeIds.ts';
import { HeldPackets } from './heldPackets.ts';
import { ACK_TIMERS, TIMERS, TimerTable } from './timerTable.ts';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from './transportParameters.ts';
import { TlsHandshake, type TlsEvent, type TlsServerConfig } from './tls/tlsHandshake.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import type { EndpointEvent, QuicEvent } from './quicEvent.ts';
import { sameAddress, type SocketAddress } from './socketAddress.ts';

import type {
  ClientConnectOptions,
  QuicConnectionOptions,
  QuicConnectionStats,
  ServerAcceptOptions,
  TlsSession,
} from './quicConnectionOptions.ts';

export type { EndpointEvent, QuicEvent } from './quicEvent.ts';
export type { SocketAddress } from './socketAddress.ts';
export type {
  ClientConnectOptions,
  CommonConnectionOptions,
  QuicConnectionOptions,
  QuicConnectionStats,
  ServerAcceptOptions,
  TlsSession,
} from './quicConnectionOptions.ts';

/** A PATH_RESPONSE frame: its type byte and 8 bytes of data (RFC 9000 §19.18). */
const PATH_RESPONSE_LENGTH = 9;

/** Bytes of CRYPTO data we buffer beyond the read offset before CRYPTO_BUFFER_EXCEEDED (RFC 9000 §7.5 allows >= 4096). */
const MAX_CRYPTO_BUFFER = 64 * 1024;

const DEFAULT_TP: Partial<TransportParameters> = {
  maxIdleTimeout: 30_000,
  maxUdpPayloadSize: 65527,
  initialMaxData: 16 * 1024 * 1024,
  initialMaxStreamDataBidiLocal: 4 * 1024 * 1024,
  initialMaxStreamDataBidiRemote: 4 * 1024 * 1024,
  initialMaxStreamDataUni: 1024 * 1024,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  activeConnectionIdLimit: 8,
};

export class QuicConnection {
  readonly role: 'client' | 'server';
  readonly tls: TlsSession;
  private readonly spaces: [PacketSpace, PacketSpace, PacketSpace] = [
    new PacketSpace(INITIAL),
    new PacketSpace(HANDSHAKE),
    new PacketSpace(APPLICATION),
  ];
  private readonly events: QuicEvent[] = [];
  private readonly endpointEvents: EndpointEvent[] = [];
  // Closing and draining (RFC 9000 §10.2).
  private readonly closeState = new CloseState({ events: this.events, endpointEvents: this.endpointEvents });
  private readonly recovery: LossRecovery;
  private readonly localTp: TransportParameters;
  private peerTp: TransportParameters | null = null;
  private readonly cidLength: number;
  private readonly resetTokenFor: (cid: Uint8Array) => Uint8Array;
  private now: number;

  // Handshake progress.
  private handshakeComplete = false;
  private handshakeConfirmed = false;
  private peerAccepted: boolean;
  // The handshake's connection IDs, Retry and their authentication (RFC 9000 §7.2, §7.3).
  private readonly handshakeIds: HandshakeIds;

  // The path: address, anti-amplification, validation, datagram size (RFC 9000 §8, §9, §14).
  private readonly path: PathState;

  // Connection IDs (RFC 9000 §5.1).
  private readonly cids: ConnectionIds;

  // Key update (RFC 9001 §6).
  private readonly keyUpdate = new KeyUpdate();

  // 0-RTT (RFC 9001 §4.6).
  private readonly early: EarlyData;
  // Client: the server's 0.5-RTT packets that came before our 1-RTT read keys (RFC 9000 §5.2.1).
  private readonly held = new HeldPackets<SocketAddress>();

  private readonly streams: StreamManager;
  // HANDSHAKE_DONE, PING and the order of every piece's control frames in a 1-RTT packet.
  private readonly control: ControlFrames;
  private readonly builder = new PacketBuilder();

  // Timers: the pacing deadline lives in the table; the others are copied in (armTimers).
  private readonly timers = new TimerTable();
  // The idle timeout and keep-alive (RFC 9000 §10.1).
  private readonly idle: IdleTimer;

  readonly stats: QuicConnectionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsLost: 0,
    packetsDropped: 0,
    maxDatagramSize: MIN_INITIAL_DATAGRAM,
    mtuProbesSent: 0,
    mtuProbesLost: 0,
    mtuBlackHoles: 0,
    smoothedRtt: 0,
    congestionWindow: 0,
    bytesInFlight: 0,
    keyUpdates: 0,
  };

  /**
   * Prefer `QuicConnection.connect` / `QuicConnection.accept`, which create the TLS handshake.
   * Call `start()` after constructing directly.
   */
  constructor(opts: QuicConnectionOptions) {
    this.role = opts.role;
    this.now = opts.now;
    this.cidLength = opts.cidLength ?? 8;
    this.recovery = new LossRecovery(this.spaces, MIN_INITIAL_DATAGRAM, {
      role: this.role,
      handshakeConfirmed: () => this.handshakeConfirmed,
      handshakeComplete: () => this.handshakeComplete,
      amplificationBlocked: () => this.path.amplificationBlocked,
      peerMaxAckDelay: () => this.peerTp?.maxAckDelay ?? 25,
    });
    const resetKey = opts.statelessResetKey ?? randomBytes(32);
    this.resetTokenFor = opts.resetTokenFor ?? ((cid) => defaultResetToken(resetKey, cid));
    this.peerAccepted = this.role === 'server';
    this.early = new EarlyData(opts.rememberedTransportParameters ?? null);

    let localCid: Uint8Array;
    let remoteCid: Uint8Array;
    if (this.role === 'client') {
      this.handshakeIds = new HandshakeIds({ role: 'client', originalDcid: opts.initialDcid ?? randomBytes(8) });
      localCid = opts.localCid ?? randomBytes(this.cidLength);
      remoteCid = this.handshakeIds.originalDcid;
    } else {
      const s = opts.server;
      if (!s) throw new Error('QuicConnection: a server connection needs opts.server');
      this.handshakeIds = new HandshakeIds({
        role: 'server',
        originalDcid: s.originalDcid,
        clientScid: s.clientScid,
        retrySourceCid: s.retrySourceCid,
      });
      localCid = s.localCid;
      remoteCid = s.clientScid;
    }
    this.path = new PathState({
      remote: opts.remoteAddress,
      validated: this.role === 'client' || (opts.server?.addressValidated ?? false),
      ceiling: opts.maxDatagramSize ?? MIN_INITIAL_DATAGRAM,
      events: this.events,
      onDatagramSize: (size) => {
        this.stats.maxDatagramSize = size;
        this.recovery.cc.setMaxDatagramSize(size);
      },
    });

    this.localTp = { ...defaultTransportParameters(), ...DEFAULT_TP, ...opts.transportParams };
    this.idle = new IdleTimer({
      now: opts.now,
      localTimeout: this.localTp.maxIdleTimeout,
      keepAliveInterval: opts.keepAliveInterval ?? 0,
    });
    this.cids = new ConnectionIds({
      localCid,
      remoteCid,
      cidLength: this.cidLength,
      resetTokenFor: this.resetTokenFor,
      localLimit: this.localTp.activeConnectionIdLimit,
      events: this.endpointEvents,
    });
    this.localTp.initialSourceConnectionId = localCid;
    if (this.role === 'server') {
      this.localTp.originalDestinationConnectionId = this.handshakeIds.originalDcid;
      this.localTp.statelessResetToken = this.cids.initialResetToken;
      const retrySourceCid = this.handshakeIds.retrySourceCid;
      if (retrySourceCid) this.localTp.retrySourceConnectionId = retrySourceCid;
    }
    this.streams = new StreamManager(this.role, this.localTp, this.events);
    this.control = new ControlFrames(this.role, { path: this.path, streams: this.streams, cids: this.cids });

    // RFC 9001 §5.2 (see HandshakeIds.initialKeysCid).
    const keys = initialKeys(this.handshakeIds.initialKeysCid);
    const initial = this.spaces[INITIAL];
    initial.readKeys = this.role === 'client' ? keys.server : keys.client;
    initial.writeKeys = this.role === 'client' ? keys.client : keys.server;
    this.idle.restart(opts.now, 0, this.ptoDuration(APPLICATION));
    this.tls = opts.createTls(encodeTransportParameters(this.localTp));
  }

  /** A client connection with the real TLS 1.3 handshake; its first Initial is ready to poll. */
  static connect(opts: ClientConnectOptions): QuicConnection {
    const stored = opts.earlyData === true ? opts.ticket?.earlyData : undefined;
    const remembered = stored ? rememberedTransportParameters(fromBase64(stored.transportParameters)) : null;
    const conn = new QuicConnection({
      ...opts,
      role: 'client',
      rememberedTransportParameters: remembered,
      createTls: (transportParameters) =>
        new TlsHandshake({
          role: 'client',
          serverName: opts.serverName,
          alpn: opts.alpn,
          transportParameters,
          sessionTicket: opts.ticket ?? null,
          offerEarlyData: remembered !== null,
          now: opts.wallClock,
        }),
    });
    conn.start();
    return conn;
  }

  /** A server connection for a client's first Initial; feed that datagram to `handleDatagram` next. */
  static accept(opts: ServerAcceptOptions): QuicConnection {
    const server: NonNullable<QuicConnectionOptions['server']> = {
      originalDcid: opts.originalDcid,
      clientScid: opts.clientScid,
      localCid: opts.localCid,
    };
    if (opts.retrySourceCid) server.retrySourceCid = opts.retrySourceCid;
    if (opts.addressValidated) server.addressValidated = true;
    const conn = new QuicConnection({
      ...opts,
      role: 'server',
      server,
      createTls: (transportParameters) => {
        const config: TlsServerConfig = {
          role: 'server',
          alpn: opts.alpn,
          transportParameters,
          certificateChain: opts.certificateChain,
          privateKey: opts.privateKey,
          now: opts.wallClock,
        };
        if (opts.selectCertificate) config.selectCertificate = opts.selectCertificate;
        if (opts.ticketKey) config.ticketKey = opts.ticketKey;
        if (opts.earlyData) {
          config.earlyData = {
            context: earlyDataContext(decodeTransportParameters(transportParameters, true)),
            antiReplay: opts.earlyData.antiReplay,
          };
        }
        return new TlsHandshake(config);
      },
    });
    conn.start();
    return conn;
  }

  /** The encoded transport parameters to hand to TLS (RFC 9001 §8.2). */
  localTransportParameters(): Uint8Array {
    return encodeTransportParameters(this.localTp);
  }

  /** Starts the handshake (clients send their Initial). Call once, right after construction. */
  start(): void {
    this.guard(() => {
      this.tls.start();
      this.drainTls();
    });
  }

  get isClosed(): boolean {
    return this.closeState.isClosed;
  }

  get isDrained(): boolean {
    return this.closeState.isDrained;
  }

  get isHandshakeComplete(): boolean {
    return this.handshakeComplete;
  }

  get remoteAddress(): SocketAddress {
    return this.path.remote;
  }

  /** What TLS negotiated (version, cipher, group, ALPN, SNI, resumption); null before completion. */
  get tlsFacts(): TlsFacts | null {
    return (this.tls.tlsFacts as TlsFacts | null | undefined) ?? null;
  }

  get alpn(): string | null {
    return this.tls.alpn ?? null;
  }

  /** The connection IDs the driver must route to this connection right now. */
  get localConnectionIds(): Uint8Array[] {
    return this.cids.localIds;
  }

  /**
   * The idle timeout in ms: RFC 9000 §10.1 "each endpoint advertises a max_idle_timeout, but the
   * effective value at an endpoint is computed as the minimum of the two advertised values" (a side
   * that sends 0 sets none). 0 when neither side set one; our own value until the peer's is known.
   */
  get idleTimeout(): number {
    const local = this.localTp.maxIdleTimeout;
    const peer = this.peerTp?.maxIdleTimeout ?? 0;
    return local && peer ? Math.min(local, peer) : local || peer;
  }

  /** The current probe timeout of the application space in ms (RFC 9002 §6.2.1), which the idle timeout never undercuts. */
  get pto(): number {
    return this.ptoDuration(APPLICATION);
  }

  /** Milliseconds of quiet after which the connection sends a PING (RFC 9000 §10.1.2); 0: never. */
  get keepAliveInterval(): number {
    return this.idle.keepAlive;
  }

  /**
   * Turns the keep-alive on or off (0). The driver must re-arm its timer afterwards
   * (`pollTimeout`): the next PING is due `interval` ms after the last activity.
   */
  setKeepAliveInterval(interval: number): void {
    this.idle.setKeepAlive(interval);
  }

  /** The peer's transport parameters once known. */
  get peerTransportParameters(): TransportParameters | null {
    return this.peerTp;
  }

  pollEvent(): QuicEvent | undefined {
    return this.events.shift();
  }

  pollEndpointEvent(): EndpointEvent | undefined {
    return this.endpointEvents.shift();
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  /** Processes one UDP datagram from `from`. Never throws for anything the peer sent. */
  handleDatagram(data: Uint8Array, from: SocketAddress, now: number): void {
    this.now = now;
    if (this.closeState.isSilent) return;
    this.stats.bytesReceived += data.length;
    if (this.closeState.isClosing) {
      // RFC 9000 §10.2.1: respond to incoming packets with CONNECTION_CLOSE (CloseState limits
      // the rate; the path's anti-amplification credit, §8.1, limits the bytes: transmitClose).
      const onPath = this.path.onDatagramReceived(data.length, from);
      if (onPath || this.role === 'server') this.closeState.onDatagramWhileClosing();
      return;
    }
    // RFC 9000 §9: "If a client receives packets from an unknown server address, the client MUST
    // discard these packets."
    if (!this.path.onDatagramReceived(data.length, from) && this.role === 'client') {
      this.stats.packetsDropped++;
      return;
    }
    this.guard(() => {
      let offset = 0;
      let first = true;
      while (offset < data.length && !this.closeState.isSilent) {
        let header: PacketHeader;
        try {
          header = parseHeader(data, offset, this.cidLength);
        } catch (err) {
          if (!(err instanceof QuicError)) throw err;
          this.stats.packetsDropped++;
          if (first) this.checkStatelessReset(data);
          return;
        }
        const processed = this.handlePacket(data, header, from, now);
        if (!processed && header.form === 'short') this.checkStatelessReset(data);
        first = false;
        offset = header.end;
      }
    });
  }

  /**
   * For the driver, with a datagram whose Destination Connection ID it cannot route (a Stateless
   * Reset's is random): when its last 16 bytes are the reset token of the peer's connection ID in
   * use, enters the draining state (RFC 9000 §10.3.1) and returns true; otherwise changes nothing.
   * The driver offers the datagram only to connections whose peer is the datagram's source.
   */
  handleStatelessReset(data: Uint8Array, now: number): boolean {
    if (this.closeState.isClosed) return false;
    this.now = now;
    return this.checkStatelessReset(data);
  }

  private checkStatelessReset(data: Uint8Array): boolean {
    // RFC 9000 §10.3.1: compare the last 16 bytes of a datagram that cannot be processed with
    // the stateless reset tokens of the peer's connection IDs.
    if (data.length < 21 || (data[0]! & 0x80) !== 0) return false;
    if (!this.cids.isStatelessReset(data.subarray(data.length - 16))) return false;
    this.enterDraining(0, 'stateless reset received', false, false);
    return true;
  }

  /** Returns whether the packet was authenticated and processed. */
  private handlePacket(data: Uint8Array, header: PacketHeader, from: SocketAddress, now: number): boolean {
    if (header.form === 'version-negotiation') {
      this.handleVersionNegotiation(header);
      return true;
    }
    let space: PacketSpace;
    let zeroRttKeys: PacketKeys | null = null;
    if (header.form === 'long') {
      if (header.version !== QUIC_V1) {
        this.stats.packetsDropped++;
        return false;
      }
      if (header.type === 'retry') {
        this.handleRetry(data, header);
        return true;
      }
      if (header.type === '0rtt') {
        // RFC 9001 §4.6.2: "When rejecting 0-RTT, a server MUST NOT process any 0-RTT packets,
        // even if it could": only a server that accepted holds the keys. Clients never get any.
        zeroRttKeys = this.role === 'server' ? this.early.readKeys : null;
        if (zeroRttKeys === null) {
          this.stats.packetsDropped++;
          return false;
        }
        space = this.spaces[APPLICATION];
      } else {
        // RFC 9000 §14.1: "A server MUST discard an Initial packet that is carried in a UDP datagram
        // with a payload that is smaller than the smallest allowed maximum datagram size of 1200
        // bytes" (on a connection it already has, too; a server's small ACK-only Initial is fine).
        const smallInitial = header.type === 'initial' && this.role === 'server' && data.length < MIN_INITIAL_DATAGRAM;
        // RFC 9000 §17.2.2, §7.2: a server Initial with a token, or another Source Connection ID.
        if (smallInitial || !this.handshakeIds.acceptsServerPacket(header)) {
          this.stats.packetsDropped++;
          return false;
        }
        space = this.spaces[header.type === 'initial' ? INITIAL : HANDSHAKE];
      }
    } else {
      space = this.spaces[APPLICATION];
    }
    const readKeys = zeroRttKeys ?? space.readKeys;
    // The server's 0.5-RTT data before our certificate check let us compute the 1-RTT keys: kept
    // for `processHeld` rather than dropped (see HeldPackets).
    if (!readKeys && header.form === 'short' && this.role === 'client' && !this.handshakeComplete) {
      if (this.held.hold(data.subarray(header.start, header.end), from)) return true;
    }
    if (space.discarded || !readKeys) {
      this.stats.packetsDropped++;
      return false;
    }
    const isApp = space.id === APPLICATION;
    const opened = unprotectPacket(
      data,
      header,
      readKeys,
      space.largestReceived,
      (phase, pn) =>
        zeroRttKeys ?? (isApp ? this.keyUpdate.keysForPhase(space, phase, pn, this.handshakeConfirmed) : readKeys),
    );
    if (!opened) {
      this.stats.packetsDropped++;
      return false;
    }
    const { pn, firstByte, payload } = opened;
    // RFC 9000 §17.2/§17.3.1: reserved bits MUST be 0 after removing protection; otherwise PROTOCOL_VIOLATION.
    if ((header.form === 'long' && (firstByte & 0x0c) !== 0) || (header.form === 'short' && (firstByte & 0x18) !== 0)) {
      throw new QuicError('PROTOCOL_VIOLATION', 'reserved header bits set');
    }
    const lowest = space.received.min();
    if (space.received.has(pn) || (lowest !== undefined && pn < lowest)) {
      this.stats.packetsDropped++;
      return true;
    }
    if (isApp && zeroRttKeys === null && this.keyUpdate.isPeerUpdate(opened.keyPhase, pn))
      this.applyKeyUpdate(pn, false);
    // RFC 9001 §4.9.3: "a server MAY discard 0-RTT keys as soon as it receives a 1-RTT packet".
    if (header.form === 'short') this.early.readKeys = null;
    this.stats.packetsReceived++;

    // RFC 9000 §7.2: the client switches to the Source Connection ID the server chose.
    const serverScid = header.form === 'long' ? this.handshakeIds.onServerPacket(header) : null;
    if (serverScid) this.cids.replaceInitialRemote(serverScid);
    if (header.form === 'long' && header.type === 'handshake' && this.role === 'server') {
      // RFC 9001 §4.9.1: a server discards Initial keys when it first processes a Handshake packet;
      // RFC 9000 §8.1: and a Handshake packet validates the client's address.
      this.path.markValidated();
      this.discardSpace(INITIAL);
    }

    const frames = decodeFrames(payload);
    let ackEliciting = false;
    let nonProbing = false;
    for (const { frame, frameType } of frames) {
      if (zeroRttKeys !== null && !allowedInZeroRtt(frame))
        throw new QuicError('PROTOCOL_VIOLATION', `${frame.type} frame in a 0-RTT packet`, frameType);
      if (space.id !== APPLICATION && !allowedInHandshakeEpochs(frame, frameType)) {
        throw new QuicError(
          'PROTOCOL_VIOLATION',
          `${frame.type} frame in a ${SPACE_NAMES[space.id]} packet`,
          frameType,
        );
      }
      if (isAckEliciting(frame)) ackEliciting = true;
      if (!isProbing(frame)) nonProbing = true;
    }

    // RFC 9000 §9.3: a non-probing packet with the highest packet number from a new address is a migration.
    const fromNewAddress = !sameAddress(from, this.path.remote);
    if (fromNewAddress && isApp && pn > space.largestReceived && nonProbing && this.handshakeConfirmed) {
      this.onPeerAddressChange(from, now);
    }

    for (const { frame, frameType } of frames) {
      if (this.closeState.isSilent) break;
      this.handleFrame(space, frame, frameType, from, now);
    }

    space.received.insert(pn, pn + 1);
    space.received.truncateLow(MAX_ACK_RANGES * 4);
    const outOfOrder = pn !== space.largestReceived + 1;
    if (pn > space.largestReceived) {
      space.largestReceived = pn;
      space.largestReceivedTime = now;
    }
    if (ackEliciting) {
      space.unackedEliciting++;
      // RFC 9000 §13.2.1: Initial and Handshake are acknowledged immediately; 1-RTT after two
      // ack-eliciting packets or max_ack_delay, and immediately when out of order.
      if (!isApp || space.unackedEliciting >= 2 || outOfOrder) space.ackNeeded = true;
      else if (space.ackDeadline === Infinity) space.ackDeadline = now + this.localTp.maxAckDelay;
    }
    // RFC 9000 §10.1: the idle timer restarts when a packet is successfully processed.
    this.idle.onPacketReceived(now, this.peerTp?.maxIdleTimeout ?? 0, this.ptoDuration(APPLICATION));
    return true;
  }

  private handleVersionNegotiation(header: Extract<PacketHeader, { form: 'version-negotiation' }>): void {
    const failure = this.handshakeIds.versionNegotiationFailure(header, this.cids.initialLocal);
    if (failure) this.enterDraining(0, failure, true, false);
  }

  private handleRetry(data: Uint8Array, header: Extract<PacketHeader, { form: 'long' }>): void {
    const retrySourceCid = this.handshakeIds.acceptRetry(data, header, this.cids.remote);
    if (!retrySourceCid) return;
    this.cids.replaceInitialRemote(retrySourceCid);
    // RFC 9001 §5.2: Initial keys are recomputed from the new Destination Connection ID.
    const keys = initialKeys(retrySourceCid);
    const initial = this.spaces[INITIAL];
    initial.readKeys = keys.server;
    initial.writeKeys = keys.client;
    // Everything sent so far in Initial is resent (packet numbers continue, RFC 9000 §17.2.5.3).
    for (const p of this.recovery.forget(initial, this.now)) this.requeue(initial, p.frames);
    // The server kept none of our 0-RTT packets either; RFC 9001 §4.6.2: "A client MAY reattempt
    // 0-RTT if it receives a Retry": they go again (the 0-RTT keys do not depend on connection IDs).
    const app = this.spaces[APPLICATION];
    for (const p of this.recovery.forget(app, this.now)) this.requeue(app, p.frames);
  }

  private applyKeyUpdate(pn: number, local: boolean): void {
    const discardAt = this.now + 3 * this.ptoDuration(APPLICATION);
    if (!this.keyUpdate.update(this.spaces[APPLICATION], pn, local, discardAt)) return;
    this.stats.keyUpdates++;
    this.events.push({ type: 'key-update', phase: this.keyUpdate.phase, local });
  }

  /**
   * RFC 9001 §6.1: initiates a key update. Allowed once the handshake is confirmed and a packet of
   * the current phase has been acknowledged; returns false otherwise.
   */
  initiateKeyUpdate(): boolean {
    if (!this.handshakeConfirmed || !this.keyUpdate.permitted || this.isClosed) return false;
    this.applyKeyUpdate(0, true);
    this.control.queuePing();
    return true;
  }

  private onPeerAddressChange(from: SocketAddress, now: number): void {
    // RFC 9000 §9.4: reset the congestion controller and RTT estimate for the new path unless only
    // the port changed; what was in flight on the old path is resent on the new one.
    if (this.path.moveTo(from)) {
      this.recovery.resetPath();
      this.restartMtuDiscovery();
    }
    this.abandonInFlight();
    this.path.startValidation(from, now);
    this.events.push({ type: 'migrated', remote: from });
  }

  /** Declares everything in flight lost without a congestion signal and queues it again. */
  private abandonInFlight(): void {
    const app = this.spaces[APPLICATION];
    for (const p of this.recovery.forget(app, this.now)) {
      // A probe forgotten here would otherwise hold discovery forever (one probe at a time).
      if (p.mtuProbe) this.path.onProbeAbandoned(p.size);
      this.requeue(app, p.frames);
    }
  }

  /** RFC 9000 §9.3.2: the path validation failed (see `PathState.onTimeout`). */
  private onPathValidationFailed(failure: ValidationFailure): void {
    if (failure.kind === 'no-fallback') {
      const failed = failure.failed;
      this.closeState.closeSilently(
        'path validation failed',
        `no answer from ${failed.address}:${failed.port} and no validated address to return to`,
      );
      return;
    }
    if (failure.addressChanged) {
      this.recovery.resetPath();
      this.restartMtuDiscovery();
    }
    // What went to the unanswering address goes again on the old path.
    this.abandonInFlight();
    this.events.push({ type: 'migrated', remote: failure.to });
  }

  /**
   * Client: the local address is about to change (new socket or interface). Switches to an unused
   * peer connection ID, probes the path with PATH_CHALLENGE and restarts congestion control
   * (§9.4). Returns false, changing nothing, when migration is not possible now: before the
   * handshake is confirmed (§9), when the server disabled it, or when the server has given us no
   * unused connection ID. RFC 9000 §9.5: "An endpoint MUST NOT reuse a connection ID when sending
   * from more than one local address". After false the caller must not send this connection's
   * packets from the new address: keep sending from the old one and try again later (the server
   * replaces retired connection IDs), or close the connection and open a new one.
   */
  migrate(now: number): boolean {
    this.now = now;
    if (this.role !== 'client' || !this.handshakeConfirmed || this.isClosed) return false;
    if (this.peerTp?.disableActiveMigration) return false;
    // A zero-length connection ID links nothing (and the server can never send others, §19.15).
    if (this.cids.remote.length > 0 && !this.cids.switchToSpare()) return false;
    this.recovery.resetPath();
    this.restartMtuDiscovery();
    this.abandonInFlight();
    this.path.startValidation(this.path.remote, now);
    return true;
  }

  /**
   * Ends the connection at once, without a CONNECTION_CLOSE, after the local address changed and
   * `migrate` returned false: the connection may send from the new address neither its packets
   * nor a close. RFC 9000 §9: "An endpoint MUST NOT initiate connection migration before the
   * handshake is confirmed"; "If the peer sent the disable_active_migration transport parameter,
   * an endpoint also MUST NOT send packets (including probing packets) from a different local
   * address"; §9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one
   * local address". Reports `closed` (local, `cannot migrate`) and `drained`: connect again.
   */
  abandon(reason: string, now: number): void {
    this.now = now;
    if (this.isClosed) return;
    this.closeState.closeSilently('cannot migrate', reason);
  }

  private handleFrame(space: PacketSpace, f: Frame, frameType: number, from: SocketAddress, now: number): void {
    if (this.streams.handleFrame(f, frameType) || this.cids.handleFrame(f, frameType)) return;
    switch (f.type) {
      case 'padding':
      case 'ping':
        return;
      case 'ack':
        return this.onAck(space, f, frameType, now);
      case 'crypto':
        return this.onCrypto(space, f.offset, f.data, frameType);
      case 'connection_close': {
        // RFC 9000 §10.2.2: on CONNECTION_CLOSE the endpoint enters the draining state.
        this.enterDraining(f.code, f.reason, false, f.app);
        return;
      }
      case 'handshake_done':
        // RFC 9000 §19.20: a server MUST treat receipt of HANDSHAKE_DONE as PROTOCOL_VIOLATION.
        if (this.role === 'server')
          throw new QuicError('PROTOCOL_VIOLATION', 'HANDSHAKE_DONE from a client', frameType);
        this.confirmHandshake();
        return;
      case 'new_token':
        // RFC 9000 §19.7: a server MUST treat receipt of NEW_TOKEN as PROTOCOL_VIOLATION.
        if (this.role === 'server') throw new QuicError('PROTOCOL_VIOLATION', 'NEW_TOKEN from a client', frameType);
        return;
      case 'path_challenge':
        this.path.onChallenge(f.data, from);
        return;
      case 'path_response':
        this.path.onResponse(f.data);
        return;
    }
  }

  private onCrypto(space: PacketSpace, offset: number, data: Uint8Array, frameType: number): void {
    const buf = space.cryptoRecv;
    // RFC 9000 §7.5: more than the buffer we are willing to hold is CRYPTO_BUFFER_EXCEEDED.
    if (offset + data.length > buf.readOffset + MAX_CRYPTO_BUFFER)
      throw new QuicError('CRYPTO_BUFFER_EXCEEDED', 'CRYPTO data beyond the buffer limit', frameType);
    // RFC 9000 §21.7: each byte is held once; holes beyond any honest loss pattern are refused.
    if (!buf.insert(offset, data))
      throw new QuicError('CRYPTO_BUFFER_EXCEEDED', `CRYPTO data in more than ${buf.maxRanges} pieces`, frameType);
    for (let chunk = buf.read(); chunk; chunk = buf.read()) {
      this.tls.handleCrypto(SPACE_NAMES[space.id], chunk);
      this.drainTls();
      if (this.isClosed) return;
    }
  }

  private onAck(space: PacketSpace, f: Extract<Frame, { type: 'ack' }>, frameType: number, now: number): void {
    const ackDelay = (f.delay * 2 ** (this.peerTp?.ackDelayExponent ?? 3)) / 1000;
    const { acked, lost } = this.recovery.onAckReceived(space, f.ranges, ackDelay, now, frameType);
    for (const p of acked) {
      if (space.id === APPLICATION) this.keyUpdate.onPacketAcked(p.keyPhase);
      this.path.onPacketAcked(p);
      this.onFramesAcked(space, p.frames);
    }
    this.onPacketsLost(space, lost);
  }

  private onPacketsLost(space: PacketSpace, lost: SentPacket[]): void {
    if (lost.length === 0) return;
    this.stats.packetsLost += lost.length;
    for (const p of lost) this.requeue(space, p.frames);
    if (space.id === APPLICATION) {
      this.path.onPacketsLost(lost, this.now);
      this.stats.mtuProbesLost = this.path.mtuProbesLost;
      this.stats.mtuBlackHoles = this.path.mtuBlackHoles;
    }
  }

  private onFramesAcked(space: PacketSpace, frames: SentFrame[]): void {
    for (const fr of frames) {
      this.streams.onAcked(fr);
      this.cids.onAcked(fr);
      switch (fr.t) {
        case 'crypto':
          space.cryptoSend.onAck(fr.offset, fr.offset + fr.len);
          break;
        case 'ack':
          // RFC 9000 §13.2.4: once an ACK is acknowledged, ranges at or below its largest need not be repeated.
          space.received.removeBelow(Math.max(0, fr.largest - 2 * MAX_ACK_RANGES));
          break;
        default:
          break;
      }
    }
  }

  /** Schedules the repair of a lost packet's frames (RFC 9000 §13.3). */
  private requeue(space: PacketSpace, frames: SentFrame[]): void {
    for (const fr of frames) {
      this.streams.onLost(fr);
      this.cids.onLost(fr);
      this.control.onLost(fr);
      switch (fr.t) {
        case 'crypto':
          if (!space.discarded) space.cryptoSend.onLost(fr.offset, fr.offset + fr.len);
          break;
        case 'path_challenge':
          this.path.onChallengeLost();
          break;
        default:
          break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Streams (RFC 9000 §2-§4): the application's API; the work is in StreamManager.

  /**
   * Opens a stream. Returns its ID, or null when the peer's MAX_STREAMS limit is reached (a
   * `streams-available` event tells when to retry) or the connection is closed. Data written
   * before the handshake completes (and, for clients, before `acceptPeer()`) waits.
   */
  openStream(bidi: boolean): number | null {
    if (this.isClosed) return null;
    return this.streams.openStream(bidi);
  }

  /**
   * Queues a copy of `data` on a stream. Returns
   * the number of bytes queued beyond what the peer allows right now. Throws for a stream that is
   * not ours to write (a programmer error).
   */
  streamWrite(id: number, data: Uint8Array, fin = false): number {
    return this.streams.streamWrite(id, data, fin);
  }

  /** Bytes written but not yet acknowledged on a stream (for back-pressure). */
  streamBuffered(id: number): number {
    return this.streams.streamBuffered(id);
  }

  /**
   * Client: opens a bidirectional stream and writes `data` on it as early data: sent in 0-RTT
   * packets before the handshake completes, within the limits remembered with the ticket. Only
   * these bytes: whatever is written on the stream afterwards (and on any other stream) waits for
   * 1-RTT. Early data can be replayed by an attacker (RFC 9001 §9.2): pass only bytes whose
   * repetition does no harm. Returns null when 0-RTT is not possible now (no ticket allowing it,
   * not offered, already rejected or over, or the remembered stream limit is 0); then open a
   * stream as usual. If the server rejects 0-RTT, the bytes are sent again in 1-RTT and arrive once.
   */
  openEarlyStream(data: Uint8Array): number | null {
    if (this.isClosed || this.role !== 'client' || !this.early.canSend) return null;
    const id = this.streams.openStream(true);
    if (id === null) return null;
    this.streams.streamWrite(id, data);
    this.streams.markEarly(id);
    return id;
  }

  /** 0-RTT: 'none' (not offered), 'offered' (no answer yet), 'accepted' or 'rejected'. */
  get earlyDataState(): EarlyDataState {
    return this.early.state;
  }

  /**
   * Reads the next bytes available in order on a stream (one received segment: call until null),
   * or null when none are. After null, check
   * `streamFinished(id)`. Reading returns flow-control credit to the peer.
   */
  streamRead(id: number, max = Infinity): Uint8Array | null {
    return this.streams.streamRead(id, max);
  }

  /**
   * Whether the peer finished the stream and everything has been read, or the stream existed and
   * is gone. False for a stream that was never opened.
   */
  streamFinished(id: number): boolean {
    return this.streams.streamFinished(id);
  }

  /** RFC 9000 §3.1: abruptly ends our sending half (RESET_STREAM with `code`). */
  streamReset(id: number, code: number): void {
    this.streams.streamReset(id, code);
  }

  /** RFC 9000 §3.5: asks the peer to stop sending (STOP_SENDING); further data is discarded. */
  stopSending(id: number, code: number): void {
    this.streams.stopSending(id, code);
  }

  // ---------------------------------------------------------------------------------------------
  // TLS

  private drainTls(): void {
    for (;;) {
      const out = this.tls.pollOutput();
      if (out) {
        const space =
          this.spaces[out.epoch === 'initial' ? INITIAL : out.epoch === 'handshake' ? HANDSHAKE : APPLICATION];
        space.cryptoSend.write(out.data);
        continue;
      }
      const ev = this.tls.pollEvent();
      if (!ev) return;
      this.handleTlsEvent(ev);
      if (this.isClosed) return;
    }
  }

  private handleTlsEvent(ev: TlsEvent): void {
    switch (ev.type) {
      case 'keys': {
        const keys = derivePacketKeys(ev.suite, ev.secret);
        if (ev.epoch === 'early') return this.onEarlyKeys(keys, ev.direction);
        const space = this.spaces[ev.epoch === 'handshake' ? HANDSHAKE : APPLICATION];
        if (ev.direction === 'read') space.readKeys = keys;
        else space.writeKeys = keys;
        // RFC 9001 §4.9.3: "a client SHOULD discard 0-RTT keys as soon as it installs 1-RTT keys".
        if (ev.epoch === 'application' && ev.direction === 'write') this.early.writeKeys = null;
        return;
      }
      case 'early-data':
        return this.onEarlyDataAnswer(ev.accepted);
      case 'peer-transport-parameters':
        return this.onPeerTransportParameters(ev.data);
      case 'peer-certificate':
        if (this.role === 'client') this.events.push({ type: 'peer-certificate', chain: ev.chain });
        return;
      case 'handshake-complete':
        this.handshakeComplete = true;
        this.events.push({ type: 'handshake-complete', alpn: this.tls.alpn ?? null });
        if (this.role === 'server') {
          // RFC 9001 §4.1.2: the server's handshake is confirmed when it completes; it sends HANDSHAKE_DONE.
          this.control.queueHandshakeDone();
          this.confirmHandshake();
        }
        this.streams.wakeAll();
        return;
      case 'session-ticket':
        this.events.push({ type: 'session-ticket', ticket: ev.ticket });
        return;
      case 'error':
        // RFC 9001 §4.8: a TLS alert becomes CRYPTO_ERROR 0x0100 + alert.
        this.closeWith(ev.quicError ?? CRYPTO_ERROR_BASE + (ev.alert & 0xff), ev.reason, false);
        return;
    }
  }

  private onPeerTransportParameters(data: Uint8Array): void {
    const tp = decodeTransportParameters(data, this.role === 'client');
    // RFC 9000 §7.3: authenticate the connection IDs exchanged during the handshake.
    this.handshakeIds.authenticate(tp);
    if (this.role === 'client' && tp.statelessResetToken) this.cids.setInitialRemoteResetToken(tp.statelessResetToken);
    this.peerTp = tp;
    this.streams.setPeerParameters(tp);
    // 0-RTT rejected at a HelloRetryRequest: the streams start over now that the limits are known.
    if (this.role === 'client' && this.early.state === 'rejected') this.streams.onEarlyDataAnswered(tp, true);
  }

  /** 0-RTT keys from TLS: client write keys after offering early data, server read keys after accepting. */
  private onEarlyKeys(keys: PacketKeys, direction: 'read' | 'write'): void {
    if (direction === 'read') {
      if (this.role === 'server') this.early.readKeys = keys;
      return;
    }
    if (this.role !== 'client' || this.early.remembered === null) return;
    this.early.writeKeys = keys;
    this.early.state = 'offered';
    this.streams.setRememberedParameters(this.early.remembered);
  }

  /** TLS reports whether the server accepted 0-RTT (client: EncryptedExtensions or HelloRetryRequest). */
  private onEarlyDataAnswer(accepted: boolean): void {
    this.early.state = accepted ? 'accepted' : 'rejected';
    if (this.role === 'client') {
      const tp = this.peerTp;
      if (accepted) {
        this.early.checkNotReduced(tp as TransportParameters);
        this.streams.onEarlyDataAnswered(tp as TransportParameters, false);
      } else {
        // RFC 9001 §4.6.3: "A client SHOULD stop sending 0-RTT data if it receives an indication
        // that 0-RTT data has been rejected." The server kept none of our 0-RTT packets: they
        // leave the books without counting as lost, and their data goes again in 1-RTT.
        this.early.writeKeys = null;
        this.recovery.forget(this.spaces[APPLICATION], this.now);
        if (tp !== null) this.streams.onEarlyDataAnswered(tp, true);
      }
    }
    this.events.push({ type: 'early-data', accepted });
  }

  private confirmHandshake(): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    // RFC 9001 §4.9.2: Handshake keys are discarded when the handshake is confirmed.
    this.discardSpace(INITIAL);
    this.discardSpace(HANDSHAKE);
    this.cids.issue(this.peerTp?.activeConnectionIdLimit ?? 2);
    this.recovery.setTimer(this.now);
    this.restartMtuDiscovery();
  }

  // ---------------------------------------------------------------------------------------------
  // Path MTU discovery (RFC 9000 §14.3, RFC 8899): the path owns it (PathState, MtuDiscovery).

  /**
   * The driver learned a new upper bound for this path's datagrams (the local interface's MTU,
   * after binding or moving to a new socket). Discovery starts over below it.
   */
  setMaxDatagramSize(ceiling: number): void {
    if (this.path.setCeiling(ceiling) && this.handshakeConfirmed) this.restartMtuDiscovery();
  }

  /** A new path (or a new bound): back to 1200 bytes until probes prove more. */
  private restartMtuDiscovery(): void {
    this.path.restartMtuDiscovery(this.peerTp?.maxUdpPayloadSize ?? MIN_INITIAL_DATAGRAM, this.now);
  }

  /** Whether path MTU discovery is still searching on this path. */
  get pathMtuSearching(): boolean {
    return this.path.mtuSearching;
  }

  /**
   * A PMTU probe when one is due: a 1-RTT packet of exactly the probed size holding PING and
   * PADDING (RFC 9000 §14.4). It counts against the congestion window but its loss is no
   * congestion signal, and it is never retransmitted.
   */
  private transmitMtuProbe(now: number): { data: Uint8Array; to: SocketAddress } | undefined {
    const space = this.spaces[APPLICATION];
    if (!this.handshakeConfirmed || !space.writeKeys || space.probes > 0) return undefined;
    const size = this.path.mtuProbeSize(now, this.recovery.cc.available);
    if (size === null) return undefined;
    const frames = this.builder.frames(APPLICATION);
    encodeFrame(frames, { type: 'ping' });
    const pad = size - this.headerLength(space) - AEAD_TAG_LENGTH - frames.offset;
    const data = this.sealPacket(space, frames.finish(), [{ t: 'ping' }], true, pad, true);
    this.path.onMtuProbeSent(size, data.length);
    this.stats.mtuProbesSent = this.path.mtuProbesSent;
    this.stats.bytesSent += data.length;
    return { data, to: this.path.remote };
  }

  /** Client: the verifier accepted the server's certificate; the handshake may finish. */
  acceptPeer(): void {
    if (this.peerAccepted || this.isClosed) return;
    this.peerAccepted = true;
    this.guard(() => {
      this.tls.acceptPeer();
      this.drainTls();
      this.processHeld();
    });
  }

  /** Client: the 1-RTT packets held until our 1-RTT read keys existed, in the order they came. */
  private processHeld(): void {
    if (this.held.size === 0 || !this.spaces[APPLICATION].readKeys) return;
    for (const p of this.held.take()) {
      if (this.closeState.isSilent) return;
      const header = parseHeader(p.data, 0, this.cidLength);
      if (!this.handlePacket(p.data, header, p.from, this.now)) this.checkStatelessReset(p.data);
    }
  }

  /** Client: the verifier rejected the server; closes with CRYPTO_ERROR (bad_certificate by default). */
  rejectPeer(reason: string, alert = 42): void {
    if (this.isClosed) return;
    this.guard(() => this.tls.rejectPeer(alert, reason));
    this.closeWith(CRYPTO_ERROR_BASE + alert, reason, false);
  }

  private discardSpace(id: SpaceId): void {
    const space = this.spaces[id];
    if (space.discarded) return;
    // RFC 9002 §6.4: discarding keys removes the space's packets from bytes in flight.
    space.discarded = true;
    space.readKeys = null;
    space.writeKeys = null;
    space.ackNeeded = false;
    space.cryptoSend.retransmit.clear();
    // Out-of-order CRYPTO data of a discarded epoch can never be read: let it go.
    space.cryptoRecv.clear();
    this.recovery.forget(space, this.now);
  }

  // ---------------------------------------------------------------------------------------------
  // Closing (RFC 9000 §10)

  /**
   * Closes the connection with an application error code (CONNECTION_CLOSE 0x1d) and reason. The
   * connection stays in the closing state for three PTOs, then reports `drained`.
   */
  close(code: number, reason: string, now = this.now): void {
    this.now = now;
    this.closeWith(code, reason, true);
  }

  private closeWith(code: number, reason: string, app: boolean, frameType = 0): void {
    if (this.closeState.close(code, reason, app, frameType, this.now + 3 * this.ptoDuration(APPLICATION)))
      this.stopAllTimersForClose();
  }

  private enterDraining(code: number, reason: string, local: boolean, app: boolean): void {
    if (this.closeState.enterDraining(code, reason, local, app, this.now + 3 * this.ptoDuration(APPLICATION)))
      this.stopAllTimersForClose();
  }

  private stopAllTimersForClose(): void {
    this.recovery.timer = Infinity;
    this.idle.stop();
    this.timers.clear('pacing');
    for (const s of this.spaces) s.ackDeadline = Infinity;
  }

  /** Runs `fn`, turning a peer's protocol error into CONNECTION_CLOSE and anything else into INTERNAL_ERROR. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof QuicError) {
        this.closeWith(err.errorCode, err.message, false, err.frameType);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.closeWith(TransportErrorCode.INTERNAL_ERROR, `internal error: ${message}`, false);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  private ptoDuration(id: SpaceId): number {
    return this.recovery.ptoDuration(id);
  }

  /**
   * Copies the deadlines the pieces own into the timer table (pacing is kept there).
   * RFC 9000 §10.2: a closing or draining connection only waits for the end of that period.
   */
  private armTimers(): void {
    const timers = this.timers;
    timers.set('close', this.closeState.deadline);
    if (this.closeState.isClosed) {
      for (const timer of TIMERS) if (timer !== 'close') timers.clear(timer);
      return;
    }
    timers.set('idle', this.idle.deadline);
    for (const s of this.spaces) timers.set(ACK_TIMERS[s.id], s.ackDeadline);
    timers.set('keyDiscard', this.keyUpdate.discardDeadline);
    timers.set('keepAlive', this.handshakeComplete && !this.control.pingDue ? this.idle.keepAliveDeadline : Infinity);
    timers.set('pathValidation', this.path.validationDeadline(this.ptoDuration(APPLICATION)));
    // A probe that is due goes with the next transmit; only a future one needs the timer.
    const probeAt = this.path.mtuDeadline;
    timers.set('mtuProbe', probeAt > this.now ? probeAt : Infinity);
    timers.set('lossDetection', this.recovery.timer);
  }

  /** The earliest time `handleTimeout` must be called, or undefined when nothing is scheduled. */
  pollTimeout(): number | undefined {
    if (this.closeState.isDrained) return undefined;
    this.armTimers();
    return this.timers.next();
  }

  /** Fires every timer due at `now`. */
  handleTimeout(now: number): void {
    this.now = now;
    if (this.closeState.isDrained) return;
    this.armTimers();
    const timers = this.timers;
    if (timers.isExpired('close', now)) {
      this.closeState.drain();
      return;
    }
    if (this.closeState.isClosed) return;
    if (timers.isExpired('idle', now)) {
      // RFC 9000 §10.1: the connection is silently closed and its state discarded.
      this.closeState.closeSilently('idle timeout', 'idle timeout: no packets from the peer');
      return;
    }
    this.guard(() => {
      for (const s of this.spaces) {
        if (timers.isExpired(ACK_TIMERS[s.id], now)) {
          s.ackNeeded = true;
          s.ackDeadline = Infinity;
        }
      }
      if (timers.isExpired('pacing', now)) timers.clear('pacing');
      if (timers.isExpired('keyDiscard', now)) this.keyUpdate.onTimeout(now);
      if (timers.isExpired('keepAlive', now)) this.control.queuePing();
      if (timers.isExpired('pathValidation', now)) {
        const failure = this.path.onTimeout(now, this.ptoDuration(APPLICATION));
        if (failure) this.onPathValidationFailed(failure);
      }
      // A failed validation requeued what was in flight, which moved the loss detection timer.
      timers.set('lossDetection', this.recovery.timer);
      if (timers.isExpired('lossDetection', now) && !this.isClosed) this.onLossDetectionTimeout(now);
    });
  }

  /** RFC 9002 A.9: time-threshold losses, or a PTO that sends probes carrying data when possible. */
  private onLossDetectionTimeout(now: number): void {
    const outcome = this.recovery.onTimeout(now);
    if (outcome.kind === 'lost') {
      this.onPacketsLost(outcome.space, outcome.packets);
      return;
    }
    const s = outcome.space;
    // RFC 9002 §6.2.4: probes retransmit data when possible (the packets stay in flight).
    let n = 0;
    for (const p of s.sent.values()) {
      if (!p.ackEliciting) continue;
      this.requeue(s, p.frames);
      if (s.id === APPLICATION && ++n >= 2) break;
    }
    if (s.id !== APPLICATION) {
      // During the handshake, resend all unacknowledged CRYPTO data of the other handshake space as well.
      const other = this.spaces[s.id === INITIAL ? HANDSHAKE : INITIAL];
      if (!other.discarded && other.writeKeys) for (const p of other.sent.values()) this.requeue(other, p.frames);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  /**
   * Returns the next datagram to send and where, or undefined when nothing is due (then wait
   * for input or `pollTimeout()`). Call repeatedly until undefined.
   */
  pollTransmit(now: number): { data: Uint8Array; to: SocketAddress } | undefined {
    this.now = now;
    if (this.closeState.isSilent) return undefined;
    try {
      return this.transmit(now);
    } catch (err) {
      // A bug in packet assembly must not take the process down; the connection ends instead.
      const message = err instanceof Error ? err.message : String(err);
      if (!this.closeState.isClosing)
        this.closeWith(TransportErrorCode.INTERNAL_ERROR, `internal error: ${message}`, false);
      this.closeState.drain();
      return undefined;
    }
  }

  private transmit(now: number): { data: Uint8Array; to: SocketAddress } | undefined {
    if (this.closeState.isClosing) return this.transmitClose();

    // Path responses to another address go in their own datagram (RFC 9000 §8.2.2), expanded
    // towards 1200 bytes only as far as that address's anti-amplification credit allows (§8).
    const app = this.spaces[APPLICATION];
    const overhead = this.headerLength(app) + AEAD_TAG_LENGTH;
    const r = app.writeKeys ? this.path.takeForeignResponse(overhead + PATH_RESPONSE_LENGTH) : undefined;
    if (r) {
      const w = new ByteWriter(16);
      encodeFrame(w, { type: 'path_response', data: r.data });
      const pkt = this.sealPacket(app, w.finish().slice(), [], false, Math.max(0, r.maxLength - overhead - w.offset));
      this.path.onSentOffPath(r.to, pkt.length);
      this.stats.bytesSent += pkt.length;
      return { data: pkt, to: r.to };
    }

    const probe = this.transmitMtuProbe(now);
    if (probe) return probe;

    const credit = this.path.amplificationCredit();
    // PTO probes go at 1200 bytes: if the path stopped carrying larger datagrams (a black hole),
    // they still get through and their acknowledgment declares the large packets lost.
    const limit = Math.min(app.probes > 0 ? MIN_INITIAL_DATAGRAM : this.path.maxDatagramSize, credit);
    if (limit < 64) return undefined;
    const parts: Uint8Array[] = [];
    let used = 0;
    let containsInitial = false;
    let ackElicitingInitial = false;
    const builds: {
      space: PacketSpace;
      zeroRtt: PacketKeys | null;
      frames: ByteWriter;
      sent: SentFrame[];
      ackEliciting: boolean;
    }[] = [];
    for (const space of this.spaces) {
      // Client: until 1-RTT keys exist, early data goes in 0-RTT packets of the application space.
      const zeroRtt = space.id === APPLICATION && !space.writeKeys && this.early.canSend ? this.early.writeKeys : null;
      if ((!space.writeKeys && !zeroRtt) || space.discarded) continue;
      const overhead = this.headerLength(space, zeroRtt !== null) + AEAD_TAG_LENGTH;
      const room = limit - used - overhead;
      if (room < 32) break;
      const b = zeroRtt ? this.buildZeroRttFrames(space, room) : this.buildFrames(space, room, now);
      if (!b) continue;
      builds.push({ space, zeroRtt, ...b });
      used += overhead + b.frames.offset;
      if (space.id === INITIAL) {
        containsInitial = true;
        if (b.ackEliciting) ackElicitingInitial = true;
      }
    }
    if (builds.length === 0) return undefined;
    // RFC 9000 §14.1: a client MUST pad datagrams carrying Initial packets to at least 1200 bytes;
    // a server MUST pad those carrying ack-eliciting Initial packets.
    let pad = 0;
    if (containsInitial && (this.role === 'client' || ackElicitingInitial))
      pad = Math.max(0, Math.min(MIN_INITIAL_DATAGRAM, credit) - used);
    // RFC 9000 §8.2.1/§8.2.2: datagrams with PATH_CHALLENGE or PATH_RESPONSE are expanded to 1200
    // bytes unless the anti-amplification limit does not permit it.
    if (this.path.takePadForPath()) {
      pad = Math.max(pad, Math.min(MIN_INITIAL_DATAGRAM, credit) - used);
    }
    for (let i = 0; i < builds.length; i++) {
      const b = builds[i]!;
      const last = i === builds.length - 1;
      const frames = b.frames.finish();
      parts.push(this.sealPacket(b.space, frames, b.sent, b.ackEliciting, last ? pad : 0, false, b.zeroRtt));
    }
    const data = this.builder.coalesce(parts);
    const total = data.length;
    this.path.onSent(total);
    this.stats.bytesSent += total;
    // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a Handshake packet.
    if (this.role === 'client' && builds.some((b) => b.space.id === HANDSHAKE)) this.discardSpace(INITIAL);
    return { data, to: this.path.remote };
  }

  private transmitClose(): { data: Uint8Array; to: SocketAddress } | undefined {
    if (!this.closeState.takeCloseDue()) return undefined;
    // RFC 9000 §10.2.3: send CONNECTION_CLOSE in every space the peer might be able to read
    // (`CloseState.frameFor` says how it looks in each).
    const frames: { space: PacketSpace; bytes: Uint8Array }[] = [];
    let used = 0;
    for (const space of this.spaces) {
      if (!space.writeKeys || space.discarded) continue;
      if (space.id === APPLICATION && !this.handshakeComplete && this.role === 'server' && frames.length > 0) continue;
      const w = new ByteWriter(64);
      encodeFrame(w, this.closeState.frameFor(space.id)!);
      frames.push({ space, bytes: w.finish().slice() });
      used += this.headerLength(space) + AEAD_TAG_LENGTH + w.offset;
    }
    if (frames.length === 0) return undefined;
    // RFC 9000 §14.1: a client's datagram carrying an Initial packet is at least 1200 bytes.
    const pad =
      this.role === 'client' && frames[0]!.space.id === INITIAL ? Math.max(0, MIN_INITIAL_DATAGRAM - used) : 0;
    // RFC 9000 §8.1: the closing state does not lift the limit on an unvalidated address (the
    // closing packet is not sent at all rather than sent in part).
    if (used + pad > this.path.amplificationCredit()) return undefined;
    const parts = frames.map((f, i) => this.sealPacket(f.space, f.bytes, [], false, i === frames.length - 1 ? pad : 0));
    const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    this.path.onSent(data.length);
    this.stats.bytesSent += data.length;
    return { data, to: this.path.remote };
  }

  /** The connection IDs and token for the next packet's header. */
  private packetIds(): PacketIds {
    return { dcid: this.cids.remote, scid: this.cids.initialLocal, token: this.handshakeIds.token };
  }

  /** Exact header length of the next packet in `space` (including its packet number). */
  private headerLength(space: PacketSpace, zeroRtt = false): number {
    return this.builder.headerLength(space, this.packetIds(), zeroRtt);
  }

  /**
   * A 0-RTT packet's frames: only stream bytes the application wrote as early data
   * (`openEarlyStream`), within the congestion window and the remembered limits. RFC 9001 §5.6: "A
   * client otherwise treats 0-RTT keys as equivalent to 1-RTT keys, except that it cannot send
   * certain frames with 0-RTT keys"; §9.2: "A client therefore MUST NOT use 0-RTT for application
   * data unless specifically requested by the application that is in use."
   *
   * A PTO in the application space before 1-RTT keys exist (only 0-RTT packets in flight) is
   * answered here: RFC 9002 §6.2.4 "When a PTO timer expires, a sender MUST send at least one
   * ack-eliciting packet in the packet number space as a probe", with the early bytes the PTO put
   * back or else a PING, and like every probe it is not held by the congestion window (§7.5).
   */
  private buildZeroRttFrames(
    space: PacketSpace,
    roomIn: number,
  ): { frames: ByteWriter; sent: SentFrame[]; ackEliciting: boolean } | null {
    const probe = space.probes > 0;
    const need = Math.min(roomIn, this.path.maxDatagramSize, MIN_INITIAL_DATAGRAM);
    if (!probe && this.recovery.dataAvailable < need) return null;
    const room = probe ? roomIn : Math.min(roomIn, Math.max(need, Math.floor(this.recovery.dataAvailable)));
    const w = this.builder.frames(space.id);
    const sent: SentFrame[] = [];
    let any = this.streams.writeStreamFrames(w, sent, room, true);
    if (probe && !any && w.offset + 1 <= room) {
      encodeFrame(w, { type: 'ping' });
      sent.push({ t: 'ping' });
      any = true;
    }
    if (!any) return null;
    if (probe) space.probes--;
    return { frames: w, sent, ackEliciting: true };
  }

  /**
   * Chooses frames for one packet in `space` within `room` bytes of plaintext. Returns null when
   * the space has nothing to send.
   */
  private buildFrames(
    space: PacketSpace,
    roomIn: number,
    now: number,
  ): { frames: ByteWriter; sent: SentFrame[]; ackEliciting: boolean } | null {
    let room = roomIn;
    const w = this.builder.frames(space.id);
    const sent: SentFrame[] = [];
    const isApp = space.id === APPLICATION;

    // ACK: never congestion-limited (RFC 9002 §7). A delayed ACK rides along with anything else
    // we send in this space; on its own it waits for ackNeeded (RFC 9000 §13.2.1).
    const ack = this.builder.ackFrame(space, now, this.localTp.ackDelayExponent);
    if (ack) room -= ack.frame.length;

    // Congestion and pacing gate everything ack-eliciting, except PTO probes (RFC 9002 §7.5).
    // The gate asks for room for a small packet, not for a full datagram: once path MTU discovery
    // has found loopback's 64 KiB datagrams, waiting for 64 KiB of window or pacing credit held a
    // 100-byte XMPP stanza back for hundreds of milliseconds. The packet is then cut to what the
    // window allows, so it never takes bytes in flight past the congestion window (§7), and the
    // pacer is charged what was really sent. The PMTU probe in flight does not count here
    // (`LossRecovery.dataAvailable`).
    const probe = space.probes > 0;
    const need = Math.min(room, this.path.maxDatagramSize, MIN_INITIAL_DATAGRAM);
    let cwndOk = probe || this.recovery.dataAvailable >= need;
    if (cwndOk && !probe && isApp) {
      const wait = this.recovery.cc.pacingDelay(
        need,
        now,
        this.recovery.rtt.hasSample ? this.recovery.rtt.smoothedRtt : 0,
      );
      if (wait > 0) {
        this.timers.set('pacing', wait);
        cwndOk = false;
      }
    }
    if (cwndOk && !probe) room = Math.min(room, Math.max(need, Math.floor(this.recovery.dataAvailable)));
    let ackEliciting = false;
    const fits = (n: number): boolean => w.offset + n <= room;

    if (cwndOk) {
      // CRYPTO: lost ranges first, then new data.
      if (this.builder.cryptoFrames(space, w, sent, room)) ackEliciting = true;
      if (isApp) ackEliciting = this.control.write(w, sent, room, this.now) || ackEliciting;
      // Stream data: a client after its handshake completes; a server as soon as it has 1-RTT
      // keys, i.e. after its Finished, before the client's (0.5-RTT data, RFC 9000 §7.1: "the
      // server's first flight contains Initial packets, Handshake packets, and "0.5-RTT data" in
      // 1-RTT packets"; RFC 8446bis §4.4.4: "Servers MAY send data after sending their first
      // flight, but because the handshake is not yet complete, they have no assurance of either
      // the peer's identity or its liveness (i.e., the ClientHello might have been replayed)").
      // The path's anti-amplification credit (§8.1, `limit` in transmit) and the congestion
      // window bound it like anything else; the application decides what it may answer early.
      if (isApp && this.peerAccepted && (this.handshakeComplete || this.role === 'server'))
        ackEliciting = this.streams.writeStreamFrames(w, sent, room) || ackEliciting;
      if ((probe || (isApp && this.control.pingDue)) && !ackEliciting && fits(1)) {
        encodeFrame(w, { type: 'ping' });
        sent.push({ t: 'ping' });
        ackEliciting = true;
      }
      if (isApp && ackEliciting) this.control.onAckElicitingPacket();
      if (probe && ackEliciting) space.probes--;
    }
    if (ack && (space.ackNeeded || w.offset > 0)) {
      w.bytes(ack.frame);
      sent.push({ t: 'ack', largest: ack.largest });
      space.ackNeeded = false;
      space.ackDeadline = Infinity;
      space.unackedEliciting = 0;
    }
    if (w.offset === 0) return null;
    return { frames: w, sent, ackEliciting };
  }

  private sealPacket(
    space: PacketSpace,
    frames: Uint8Array,
    sentFrames: SentFrame[],
    ackEliciting: boolean,
    pad: number,
    mtuProbe = false,
    zeroRttKeys: PacketKeys | null = null,
  ): Uint8Array {
    const keys = zeroRttKeys ?? space.writeKeys!;
    const { packet, pn, padded } = this.builder.seal(
      space,
      frames,
      pad,
      this.packetIds(),
      this.keyUpdate.phase,
      zeroRttKeys,
    );
    const inFlight = ackEliciting || padded;
    this.recovery.onPacketSent(
      space,
      {
        pn,
        timeSent: this.now,
        size: packet.length,
        ackEliciting,
        inFlight,
        frames: sentFrames,
        keyPhase: this.keyUpdate.phase,
        mtuProbe,
      },
      this.now,
    );
    // RFC 9000 §10.1: sending the first ack-eliciting packet after receiving restarts the idle timer.
    if (ackEliciting)
      this.idle.onAckElicitingSent(this.now, this.peerTp?.maxIdleTimeout ?? 0, this.ptoDuration(APPLICATION));
    this.stats.packetsSent++;
    // RFC 9001 §6.6 (see KeyUpdate.onPacketSent): update before the confidentiality limit, or close.
    if (space.id === APPLICATION && zeroRttKeys === null && this.keyUpdate.onPacketSent(keys.suite.aead)) {
      if (!this.initiateKeyUpdate() && this.keyUpdate.limitReached) {
        this.closeWith(TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD confidentiality limit reached', false);
      }
    }
    this.stats.smoothedRtt = this.recovery.rtt.smoothedRtt;
    this.stats.congestionWindow = this.recovery.cc.congestionWindow;
    this.stats.bytesInFlight = this.recovery.cc.bytesInFlight;
    return packet;
  }
}

/** RFC 9000 §10.3.2: a stateless reset token derived from a static key and the connection ID. */
export function defaultResetToken(key: Uint8Array, cid: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(cid).digest().subarray(0, 16));
}
