/**
 * The types of a `QuicConnection`'s construction and reporting: the TLS session it drives, its
 * options (`connect`, `accept`, or the constructor), and its counters. Types only: no state.
 */
import type { SocketAddress } from './socketAddress.ts';
import type { Epoch, StoredTicket, TlsEvent, TlsServerConfig } from './tls/tlsHandshake.ts';
import type { StrikeRegister } from './tls/strikeRegister.ts';
import type { TransportParameters } from './transportParameters.ts';

/** What the connection needs from a TLS 1.3 handshake (structurally satisfied by `TlsHandshake`). */
export interface TlsSession {
  start(): void;
  handleCrypto(epoch: Epoch, data: Uint8Array): void;
  pollOutput(): { epoch: Epoch; data: Uint8Array } | undefined;
  pollEvent(): TlsEvent | undefined;
  acceptPeer(): void;
  rejectPeer(alert?: number, reason?: string): void;
  readonly alpn?: string | null | undefined;
  readonly tlsFacts?: unknown;
}

export interface QuicConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  packetsLost: number;
  packetsDropped: number;
  /** The largest UDP payload in use (1200 until path MTU discovery proves more). */
  maxDatagramSize: number;
  mtuProbesSent: number;
  mtuProbesLost: number;
  /** Times the path stopped carrying our datagram size and we fell back to 1200 bytes. */
  mtuBlackHoles: number;
  smoothedRtt: number;
  congestionWindow: number;
  bytesInFlight: number;
  keyUpdates: number;
}

export interface QuicConnectionOptions {
  role: 'client' | 'server';
  /** Creates the TLS handshake given our encoded transport parameters (RFC 9001 §8.2). */
  createTls: (transportParameters: Uint8Array) => TlsSession;
  remoteAddress: SocketAddress;
  now: number;
  /** Local limits advertised to the peer (merged over sensible defaults). */
  transportParams?: Partial<TransportParameters>;
  /** Our connection ID length for issued IDs (the driver parses short headers with it). Default 8. */
  cidLength?: number;
  /** Key for stateless reset tokens (RFC 9000 §10.3.2): HMAC(key, cid). */
  statelessResetKey?: Uint8Array;
  /**
   * The largest UDP payload this connection may ever send: the upper bound of path MTU discovery
   * (RFC 9000 §14.3), normally the local interface's MTU less the IP and UDP headers (the endpoint
   * works it out). Sizes above 1200 are used only once a probe of that size was acknowledged.
   * Default 1200: no discovery.
   */
  maxDatagramSize?: number;
  /** Send a PING after this many ms of silence (0 = off). */
  keepAliveInterval?: number;
  /** Client: the Destination Connection ID of the first Initial (default random 8 bytes). */
  initialDcid?: Uint8Array;
  /** Client: our Source Connection ID (default random). */
  localCid?: Uint8Array;
  /** Server: from the client's first Initial. */
  server?: {
    originalDcid: Uint8Array;
    clientScid: Uint8Array;
    localCid: Uint8Array;
    retrySourceCid?: Uint8Array;
    addressValidated?: boolean;
  };
  /** Function used to derive stateless reset tokens; defaults to HMAC-SHA256 over `statelessResetKey`. */
  resetTokenFor?: (cid: Uint8Array) => Uint8Array;
  /** Client offering 0-RTT: the server's limits remembered with the ticket (RFC 9000 §7.4.1). */
  rememberedTransportParameters?: TransportParameters | null;
}

/** Options common to `connect` and `accept`. */
export type CommonConnectionOptions = Pick<
  QuicConnectionOptions,
  | 'remoteAddress'
  | 'now'
  | 'transportParams'
  | 'cidLength'
  | 'statelessResetKey'
  | 'maxDatagramSize'
  | 'keepAliveInterval'
  | 'resetTokenFor'
>;

export interface ClientConnectOptions extends CommonConnectionOptions {
  /** SNI: per XEP-0467 the JID's domain. */
  serverName: string;
  alpn: string[];
  localCid?: Uint8Array;
  initialDcid?: Uint8Array;
  /** A ticket from an earlier `session-ticket` event, for resumption. */
  ticket?: StoredTicket | null;
  /**
   * Offer 0-RTT when `ticket` allows it. Nothing is sent as early data unless the application
   * passes it to `openEarlyStream`; `earlyDataState` and the 'early-data' event tell the outcome.
   */
  earlyData?: boolean;
  /** Wall clock, ms since the Unix epoch (the driver's Date.now): dates session tickets (TLS `now`). */
  wallClock: () => number;
}

export interface ServerAcceptOptions extends CommonConnectionOptions {
  alpn: string[];
  /** DER, leaf first. */
  certificateChain: Uint8Array[];
  privateKey: TlsServerConfig['privateKey'];
  selectCertificate?: TlsServerConfig['selectCertificate'];
  ticketKey?: Uint8Array;
  /**
   * Accept 0-RTT (RFC 9001 §4.6): tickets offer it, and a resumption's early data is accepted
   * when `antiReplay` (one register for the whole server) finds it fresh and its ticket unused.
   * Without it 0-RTT is always rejected.
   */
  earlyData?: { antiReplay: StrikeRegister };
  /** From the client's first Initial: its Destination and Source Connection IDs. */
  originalDcid: Uint8Array;
  clientScid: Uint8Array;
  /** The connection ID we route on (the driver picks it). */
  localCid: Uint8Array;
  /** After a Retry: the Source Connection ID of our Retry packet (its token validated the address). */
  retrySourceCid?: Uint8Array;
  addressValidated?: boolean;
  /** Wall clock, ms since the Unix epoch (the driver's Date.now): dates session tickets (TLS `now`). */
  wallClock: () => number;
}
