/**
 * What a finished TLS handshake tells the verifier and the security record, whichever transport
 * ran it: STARTTLS and direct TLS (Node's TLS, `tcpTransport.ts`) and QUIC (our TLS 1.3,
 * `app/quic/tls/`). One type, so `security/` judges all three on the same facts.
 *
 * Types only: the pure QUIC code imports this file, so it must not import Node I/O.
 */

/** RFC 9266 channel binding data of a TLS session. */
export interface ChannelBinding {
  type: 'tls-exporter';
  data: Uint8Array;
}

export interface TlsFacts {
  /** As Node names it ('TLSv1.3', 'TLSv1.2'); null when Node cannot tell. QUIC: always 'TLSv1.3'. */
  version: string | null;
  /** The cipher suite's standard name (TLS_AES_128_GCM_SHA256); null when unknown. */
  cipher: string | null;
  /** The negotiated ALPN protocol; null when none was agreed. */
  alpn: string | null;
  /**
   * The server_name the client sent (RFC 6066 §3); '' when it sent none (an IP literal is never
   * sent). On the server side of a QUIC handshake: the name received, '' when there was none.
   */
  sni: string;
  /**
   * The peer's certificates as it sent them: DER, end-entity first. QUIC: on a resumed session,
   * the chain stored with the ticket; on the server side, empty (no client certificates).
   */
  chain: Uint8Array[];
  /**
   * tls-exporter (RFC 9266) when the session is TLS 1.3, where it is defined without extended
   * master secret. Null under TLS 1.2, and over QUIC, whose handshake exports no keying material.
   */
  channelBinding: ChannelBinding | null;
  /** The key exchange group ('x25519', 'secp256r1'). QUIC only: the TCP adapters do not report it. */
  group?: string;
  /** Whether the session was resumed from a ticket (PSK). QUIC only. */
  resumed?: boolean;
  /** The server's CertificateVerify signature scheme; null on resumption (none is sent). QUIC only. */
  signatureScheme?: string | null;
  /**
   * Encrypted Client Hello is not implemented: the server name travels in clear in the
   * ClientHello. QUIC says so explicitly; over TCP it is equally true and left unsaid.
   */
  ech?: 'not-available';
}
