/**
 * The connection IDs of the handshake and their authentication (RFC 9000 §7.2, §7.3): the client's
 * original Destination Connection ID, the Retry's Source Connection ID and token (§17.2.5), the
 * peer's Initial Source Connection ID, and whether the client has heard from the server yet (which
 * ends the time a Version Negotiation or Retry packet may be accepted, §6.2, §17.2.5.2).
 *
 * The connection IDs in use are not here: `ConnectionIds` owns them, and the connection replaces
 * the initial remote one with what `onServerPacket` and `acceptRetry` return. Obligations of the
 * caller (`QuicConnection`):
 * - derive Initial keys from `initialKeysCid` (again after an accepted Retry);
 * - drop, before decrypting it, every long-header packet `acceptsServerPacket` refuses (clients),
 *   and report every authenticated one to `onServerPacket`;
 * - let `versionNegotiationFailure` and `acceptRetry` judge Version Negotiation and Retry packets;
 * - check the peer's transport parameters with `authenticate` before using them;
 * - put `token` in the Initial packets it sends.
 */
import { equalBytes } from './equalBytes.ts';
import { QUIC_V1, type PacketHeader } from './packetHeader.ts';
import { retryIntegrityTag } from './packetProtection.ts';
import { QuicError } from './quicError.ts';
import type { TransportParameters } from './transportParameters.ts';

export type HandshakeIdsOptions =
  | { role: 'client'; originalDcid: Uint8Array }
  | {
      role: 'server';
      /** The Destination Connection ID of the client's first Initial. */
      originalDcid: Uint8Array;
      /** The client's Source Connection ID. */
      clientScid: Uint8Array;
      /** Ours, when the client came back after our Retry. */
      retrySourceCid?: Uint8Array | undefined;
    };

export class HandshakeIds {
  private readonly role: 'client' | 'server';
  readonly originalDcid: Uint8Array;
  private retrySource: Uint8Array | null = null;
  private retryToken: Uint8Array = new Uint8Array(0);
  private receivedFirstServerPacket = false;
  private peerInitialScid: Uint8Array | null = null;

  constructor(opts: HandshakeIdsOptions) {
    this.role = opts.role;
    this.originalDcid = opts.originalDcid;
    if (opts.role === 'server') {
      this.retrySource = opts.retrySourceCid ?? null;
      this.peerInitialScid = opts.clientScid;
    }
  }

  /** The Source Connection ID of the Retry (the client's received, the server's sent); null without one. */
  get retrySourceCid(): Uint8Array | null {
    return this.retrySource;
  }

  /**
   * RFC 9001 §5.2: Initial keys come from the Destination Connection ID of the client's Initial
   * packet: after a Retry, that is the Retry's Source Connection ID.
   */
  get initialKeysCid(): Uint8Array {
    return this.retrySource ?? this.originalDcid;
  }

  /** The token for our Initial packets. A server's stays empty: its Initial packets carry a zero-length token. */
  get token(): Uint8Array {
    return this.retryToken;
  }

  /**
   * Client: whether a long-header Initial or Handshake packet from the server may be processed
   * at all (judged before decryption; a refused packet is dropped, not answered).
   * RFC 9000 §17.2.2: "Initial packets sent by the server MUST set the Token Length field to 0;
   * clients that receive an Initial packet with a non-zero Token Length field MUST either discard
   * the packet or generate a connection error of type PROTOCOL_VIOLATION." Discarding it keeps a
   * forged Initial (its keys are public) from ending the connection.
   * RFC 9000 §7.2: "Once a client has received a valid Initial packet from the server, it MUST
   * discard any subsequent packet it receives on that connection with a different Source
   * Connection ID."
   */
  acceptsServerPacket(header: Extract<PacketHeader, { form: 'long' }>): boolean {
    if (this.role !== 'client') return true;
    if (header.type === 'initial' && header.token.length > 0) return false;
    return !this.receivedFirstServerPacket || equalBytes(header.scid, this.peerInitialScid!);
  }

  /**
   * Client: an authenticated long-header packet. Returns the server's Source Connection ID when it
   * is the first one (RFC 9000 §7.2: the client switches to the connection ID the server chose).
   */
  onServerPacket(header: Extract<PacketHeader, { form: 'long' }>): Uint8Array | null {
    if (this.role !== 'client' || this.receivedFirstServerPacket) return null;
    this.receivedFirstServerPacket = true;
    this.peerInitialScid = header.scid.slice();
    return this.peerInitialScid;
  }

  /**
   * A Version Negotiation packet: returns why the connection must end (the server supports none of
   * our versions), or null when the packet is to be ignored. `initialLocal` is our first Source
   * Connection ID.
   */
  versionNegotiationFailure(
    header: Extract<PacketHeader, { form: 'version-negotiation' }>,
    initialLocal: Uint8Array,
  ): string | null {
    // RFC 9000 §6.2: a client MUST discard a VN packet once it has processed any other packet,
    // and one that lists the version it chose.
    if (this.role !== 'client' || this.receivedFirstServerPacket) return null;
    if (!equalBytes(header.scid, this.originalDcid) || !equalBytes(header.dcid, initialLocal)) return null;
    if (header.versions.includes(QUIC_V1)) return null;
    return `server supports none of our versions (it offered ${header.versions.map((v) => '0x' + v.toString(16)).join(', ') || 'nothing'})`;
  }

  /**
   * A Retry packet (`data` holds it between `header.start` and `header.end`) while `remote` is the
   * peer's connection ID in use. Returns the new remote connection ID when the Retry is accepted
   * (its token then goes in our Initial packets), null when it is to be ignored.
   */
  acceptRetry(
    data: Uint8Array,
    header: Extract<PacketHeader, { form: 'long' }>,
    remote: Uint8Array,
  ): Uint8Array | null {
    // RFC 9000 §17.2.5.2: a client MUST accept and process at most one Retry packet, and only
    // before it has received any other packet from the server.
    if (this.role !== 'client' || this.retrySource || this.receivedFirstServerPacket) return null;
    if (header.token.length === 0) return null;
    if (equalBytes(header.scid, remote)) return null;
    const packet = data.subarray(header.start, header.end);
    const tag = retryIntegrityTag(this.originalDcid, packet.subarray(0, packet.length - 16));
    if (!equalBytes(tag, packet.subarray(packet.length - 16))) return null;
    this.retrySource = header.scid.slice();
    this.retryToken = header.token.slice();
    return this.retrySource;
  }

  /** RFC 9000 §7.3: authenticates the connection IDs exchanged during the handshake; throws TRANSPORT_PARAMETER_ERROR. */
  authenticate(tp: TransportParameters): void {
    if (this.role === 'client') {
      if (!tp.originalDestinationConnectionId || !equalBytes(tp.originalDestinationConnectionId, this.originalDcid)) {
        throw new QuicError('TRANSPORT_PARAMETER_ERROR', 'original_destination_connection_id mismatch');
      }
      if (this.retrySource) {
        if (!tp.retrySourceConnectionId || !equalBytes(tp.retrySourceConnectionId, this.retrySource))
          throw new QuicError('TRANSPORT_PARAMETER_ERROR', 'retry_source_connection_id mismatch');
      } else if (tp.retrySourceConnectionId) {
        throw new QuicError('TRANSPORT_PARAMETER_ERROR', 'retry_source_connection_id without a Retry');
      }
    }
    if (
      this.peerInitialScid &&
      (!tp.initialSourceConnectionId || !equalBytes(tp.initialSourceConnectionId, this.peerInitialScid))
    ) {
      throw new QuicError('TRANSPORT_PARAMETER_ERROR', 'initial_source_connection_id mismatch');
    }
  }
}
