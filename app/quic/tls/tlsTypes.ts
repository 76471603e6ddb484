/**
 * The types of the TLS 1.3 handshake's interface: epochs, the client and server configurations
 * and the events it emits (the facts it reports are `TlsFacts`, shared with the TCP transports).
 * In a file of their own so that the facade (`tlsHandshake.ts`), the two role machines and their
 * shared queues all import them without importing one another.
 */
import type { KeyObject } from 'node:crypto';
import type { CipherSuiteInfo } from './cipherSuites.ts';
import type { StrikeRegister } from './strikeRegister.ts';
import type { StoredTicket } from './tickets.ts';

export type Epoch = 'initial' | 'handshake' | 'application';

export interface TlsClientConfig {
  role: 'client';
  serverName: string;
  /** RFC 9001 §8.1: ALPN is required. */
  alpn: string[];
  /** Our encoded quic_transport_parameters (extension 0x39). */
  transportParameters: Uint8Array;
  cipherSuites?: number[];
  /** The first group gets a key share in the first ClientHello; the others only if the server asks (HRR). */
  groups?: ('x25519' | 'secp256r1')[];
  /** Resumption (PSK with psk_dhe_ke). */
  sessionTicket?: StoredTicket | null;
  /**
   * Offer 0-RTT (the early_data extension, RFC 8446bis §4.2.10) when `sessionTicket` allows it
   * (it has `earlyData`) and was issued for one of `alpn`. Then a 'keys' event with epoch 'early'
   * follows the ClientHello, and an 'early-data' event tells whether the server accepted.
   */
  offerEarlyData?: boolean;
  randomBytes?: (n: number) => Uint8Array;
  /**
   * Wall clock, ms since the Unix epoch, read when a ticket is stored and offered (its age,
   * RFC 8446bis §4.2.11.1). The driver supplies it (Date.now): a ticket outlives the connection
   * and the process, so the connection's monotonic `now` cannot date it.
   */
  now: () => number;
}

export interface TlsServerConfig {
  role: 'server';
  alpn: string[];
  transportParameters: Uint8Array;
  /** DER, leaf first. */
  certificateChain: Uint8Array[];
  privateKey: KeyObject;
  /** Choose a certificate by SNI; null falls back to certificateChain/privateKey. */
  selectCertificate?(serverName: string | null): { certificateChain: Uint8Array[]; privateKey: KeyObject } | null;
  /** Key sealing session tickets; tickets are issued by default when it is set. */
  ticketKey?: Uint8Array;
  issueTickets?: boolean;
  ticketLifetimeSeconds?: number;
  /**
   * 0-RTT: tickets are issued with early_data (max_early_data_size 0xffffffff, RFC 9001 §4.6.1),
   * and early data is accepted on resumption only when the ticket was issued with it under the
   * same `context` (the server configuration 0-RTT depends on, RFC 9001 §4.6.3), the version,
   * cipher suite and ALPN are the ticket's (RFC 8446bis §4.2.10), no HelloRetryRequest was sent,
   * and `antiReplay` finds the ClientHello fresh and its ticket unused (§8). Without it, 0-RTT is
   * always rejected and tickets do not offer it.
   */
  earlyData?: { context: Uint8Array; antiReplay: StrikeRegister };
  /** Tests: force a HelloRetryRequest. */
  requireHelloRetry?: boolean;
  cipherSuites?: number[];
  /** Groups the server accepts, in preference order for a HelloRetryRequest. */
  groups?: ('x25519' | 'secp256r1')[];
  randomBytes?: (n: number) => Uint8Array;
  /** Wall clock, ms since the Unix epoch, as for the client: a ticket's issue time and its expiry. */
  now: () => number;
}

export type TlsEvent =
  | {
      type: 'keys';
      /** 'early': the 0-RTT keys (client_early_traffic_secret), client write and server read only. */
      epoch: 'early' | 'handshake' | 'application';
      direction: 'read' | 'write';
      suite: CipherSuiteInfo;
      secret: Uint8Array;
    }
  | { type: 'peer-transport-parameters'; data: Uint8Array }
  /** Client: CertificateVerify and server Finished already checked. On resumption: the chain stored with the ticket. */
  | { type: 'peer-certificate'; chain: Uint8Array[] }
  /** Server: after the client Finished; client: after sending its Finished. */
  | { type: 'handshake-complete' }
  /**
   * 0-RTT was offered: whether the server accepted it (client: from EncryptedExtensions, or
   * rejected at a HelloRetryRequest; server: its decision on the ClientHello).
   */
  | { type: 'early-data'; accepted: boolean }
  /** Client: a storable ticket. */
  | { type: 'session-ticket'; ticket: StoredTicket }
  /** Final. `quicError` is set where RFC 9001 asks for a transport error instead of CRYPTO_ERROR. */
  | { type: 'error'; alert: number; reason: string; quicError?: number };
