/**
 * 0-RTT state of one connection (RFC 9001 §4.6, §5; RFC 9000 §7.4.1, §12.5, §17.2.3): the 0-RTT
 * packet keys (client: write; server: read), whether the server accepted, and on the client the
 * transport parameters remembered with the ticket. Bookkeeping only: `QuicConnection` seals and
 * opens the packets, `StreamManager` limits what goes into them.
 */
import type { Frame } from './frame.ts';
import type { PacketKeys } from './packetProtection.ts';
import { QuicError } from './quicError.ts';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  type TransportParameters,
} from './transportParameters.ts';

export type EarlyDataState = 'none' | 'offered' | 'accepted' | 'rejected';

/**
 * RFC 9000 §7.4.1: "a server that accepts 0-RTT data MUST NOT set values for the following
 * parameters ... that are smaller than the remembered values of the parameters."
 */
const NOT_REDUCED = [
  'activeConnectionIdLimit',
  'initialMaxData',
  'initialMaxStreamDataBidiLocal',
  'initialMaxStreamDataBidiRemote',
  'initialMaxStreamDataUni',
  'initialMaxStreamsBidi',
  'initialMaxStreamsUni',
] as const;

/**
 * What a server's 0-RTT acceptance depends on beyond TLS (RFC 9001 §4.6.3): the limits above,
 * which it seals into its tickets and compares on resumption (RFC 9000 §7.4.1: "A server MUST
 * reject 0-RTT data if the restored values for transport parameters cannot be supported"), and
 * the idle timeout, datagram size and migration setting it MAY compare.
 */
export function earlyDataContext(tp: TransportParameters): Uint8Array {
  const values = [
    ...NOT_REDUCED.map((k) => tp[k]),
    tp.maxIdleTimeout,
    tp.maxUdpPayloadSize,
    tp.disableActiveMigration ? 1 : 0,
  ];
  return new TextEncoder().encode(`quic-0rtt-v1:${values.join(',')}`);
}

/**
 * The server transport parameters a client may apply to 0-RTT, from the encoding stored with a
 * ticket: RFC 9000 §7.4.1 "A client MUST NOT use remembered values for the following parameters:
 * ack_delay_exponent, max_ack_delay, initial_source_connection_id,
 * original_destination_connection_id, preferred_address, retry_source_connection_id, and
 * stateless_reset_token". Null when the stored bytes do not decode (then no 0-RTT).
 */
export function rememberedTransportParameters(encoded: Uint8Array): TransportParameters | null {
  let stored: TransportParameters;
  try {
    stored = decodeTransportParameters(encoded, true);
  } catch (err) {
    // A damaged ticket record: resume without 0-RTT.
    if (err instanceof QuicError) return null;
    throw err;
  }
  const tp = defaultTransportParameters();
  for (const k of NOT_REDUCED) tp[k] = stored[k];
  tp.maxIdleTimeout = stored.maxIdleTimeout;
  tp.maxUdpPayloadSize = stored.maxUdpPayloadSize;
  tp.disableActiveMigration = stored.disableActiveMigration;
  return tp;
}

/**
 * RFC 9000 §12.5: "it is not possible to send the following frames in 0-RTT packets for various
 * reasons: ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE, and RETIRE_CONNECTION_ID. A
 * server MAY treat receipt of these frames in 0-RTT packets as a connection error of type
 * PROTOCOL_VIOLATION."
 */
export function allowedInZeroRtt(f: Frame): boolean {
  switch (f.type) {
    case 'ack':
    case 'crypto':
    case 'handshake_done':
    case 'new_token':
    case 'path_response':
    case 'retire_connection_id':
      return false;
    default:
      return true;
  }
}

export class EarlyData {
  state: EarlyDataState = 'none';
  /** Client: the keys of our 0-RTT packets, until 1-RTT keys are installed (RFC 9001 §4.9.3). */
  writeKeys: PacketKeys | null = null;
  /** Server: the keys to open the client's 0-RTT packets, until a 1-RTT packet arrives. */
  readKeys: PacketKeys | null = null;
  /** Client: the server limits 0-RTT works within, from the ticket. */
  readonly remembered: TransportParameters | null;

  constructor(remembered: TransportParameters | null) {
    this.remembered = remembered;
  }

  /** Client: whether 0-RTT packets can be sent now. */
  get canSend(): boolean {
    return this.writeKeys !== null && (this.state === 'offered' || this.state === 'accepted');
  }

  /**
   * Client, the server accepted: its new parameters must not be smaller than the remembered ones
   * (RFC 9000 §7.4.1, quoted at NOT_REDUCED). Throws PROTOCOL_VIOLATION otherwise.
   */
  checkNotReduced(tp: TransportParameters): void {
    const old = this.remembered;
    if (old === null) return;
    for (const k of NOT_REDUCED) {
      if (tp[k] < old[k])
        throw new QuicError(
          'PROTOCOL_VIOLATION',
          `the server accepted 0-RTT but lowered ${k} from ${old[k]} to ${tp[k]} (RFC 9000 §7.4.1)`,
        );
    }
  }
}
