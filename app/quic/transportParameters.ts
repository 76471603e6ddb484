/**
 * RFC 9000 §18: transport parameters, carried in the TLS quic_transport_parameters extension.
 * `decodeTransportParameters` validates as §18.2 and §7.4 require and throws `QuicError`
 * TRANSPORT_PARAMETER_ERROR on a violation.
 */
import { ByteReader } from './byteReader.ts';
import { ByteWriter } from './byteWriter.ts';
import { QuicError } from './quicError.ts';

export interface PreferredAddress {
  ipv4: Uint8Array;
  ipv4Port: number;
  ipv6: Uint8Array;
  ipv6Port: number;
  cid: Uint8Array;
  resetToken: Uint8Array;
}

export interface TransportParameters {
  originalDestinationConnectionId?: Uint8Array;
  /** Milliseconds; 0 means no idle timeout. */
  maxIdleTimeout: number;
  statelessResetToken?: Uint8Array;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  preferredAddress?: PreferredAddress;
  activeConnectionIdLimit: number;
  initialSourceConnectionId?: Uint8Array;
  retrySourceConnectionId?: Uint8Array;
}

/** RFC 9000 §18.2 defaults for absent parameters. */
export function defaultTransportParameters(): TransportParameters {
  return {
    maxIdleTimeout: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
  };
}

const ID = {
  originalDestinationConnectionId: 0x00,
  maxIdleTimeout: 0x01,
  statelessResetToken: 0x02,
  maxUdpPayloadSize: 0x03,
  initialMaxData: 0x04,
  initialMaxStreamDataBidiLocal: 0x05,
  initialMaxStreamDataBidiRemote: 0x06,
  initialMaxStreamDataUni: 0x07,
  initialMaxStreamsBidi: 0x08,
  initialMaxStreamsUni: 0x09,
  ackDelayExponent: 0x0a,
  maxAckDelay: 0x0b,
  disableActiveMigration: 0x0c,
  preferredAddress: 0x0d,
  activeConnectionIdLimit: 0x0e,
  initialSourceConnectionId: 0x0f,
  retrySourceConnectionId: 0x10,
} as const;

const INTEGER_PARAMS = [
  'maxIdleTimeout',
  'maxUdpPayloadSize',
  'initialMaxData',
  'initialMaxStreamDataBidiLocal',
  'initialMaxStreamDataBidiRemote',
  'initialMaxStreamDataUni',
  'initialMaxStreamsBidi',
  'initialMaxStreamsUni',
  'ackDelayExponent',
  'maxAckDelay',
  'activeConnectionIdLimit',
] as const;

const CID_PARAMS = ['originalDestinationConnectionId', 'initialSourceConnectionId', 'retrySourceConnectionId'] as const;

export function encodeTransportParameters(tp: TransportParameters): Uint8Array {
  const w = new ByteWriter(128);
  const defaults = defaultTransportParameters();
  for (const name of CID_PARAMS) {
    const v = tp[name];
    if (v) w.varint(ID[name]).varint(v.length).bytes(v);
  }
  for (const name of INTEGER_PARAMS) {
    const v = tp[name];
    if (v === defaults[name]) continue;
    const inner = new ByteWriter(8).varint(v).finish();
    w.varint(ID[name]).varint(inner.length).bytes(inner);
  }
  if (tp.statelessResetToken) w.varint(ID.statelessResetToken).varint(16).bytes(tp.statelessResetToken);
  if (tp.disableActiveMigration) w.varint(ID.disableActiveMigration).varint(0);
  if (tp.preferredAddress) {
    const p = tp.preferredAddress;
    const inner = new ByteWriter(64)
      .bytes(p.ipv4)
      .u16(p.ipv4Port)
      .bytes(p.ipv6)
      .u16(p.ipv6Port)
      .u8(p.cid.length)
      .bytes(p.cid)
      .bytes(p.resetToken)
      .finish();
    w.varint(ID.preferredAddress).varint(inner.length).bytes(inner);
  }
  return w.finish().slice();
}

function tpError(message: string): QuicError {
  return new QuicError('TRANSPORT_PARAMETER_ERROR', message);
}

/**
 * Decodes and validates the peer's parameters. `fromServer` says who sent them: RFC 9000 §18.2
 * forbids a client from sending original_destination_connection_id, preferred_address,
 * retry_source_connection_id and stateless_reset_token.
 */
export function decodeTransportParameters(data: Uint8Array, fromServer: boolean): TransportParameters {
  const tp = defaultTransportParameters();
  const seen = new Set<number>();
  const r = new ByteReader(data);
  try {
    while (r.remaining > 0) {
      const id = r.varint();
      const len = r.varint();
      const body = new ByteReader(r.bytesView(len));
      // RFC 9000 §7.4: an endpoint MUST NOT send a parameter more than once.
      if (seen.has(id)) throw tpError(`duplicate transport parameter 0x${id.toString(16)}`);
      seen.add(id);
      const intName = INTEGER_PARAMS.find((n) => ID[n] === id);
      if (intName) {
        tp[intName] = body.varint();
        if (body.remaining !== 0) throw tpError(`transport parameter 0x${id.toString(16)} has trailing bytes`);
        continue;
      }
      const cidName = CID_PARAMS.find((n) => ID[n] === id);
      if (cidName) {
        if (len > 20) throw tpError('connection ID parameter longer than 20 bytes');
        tp[cidName] = body.copy(len);
        continue;
      }
      switch (id) {
        case ID.statelessResetToken:
          if (len !== 16) throw tpError('stateless_reset_token must be 16 bytes');
          tp.statelessResetToken = body.copy(16);
          break;
        case ID.disableActiveMigration:
          if (len !== 0) throw tpError('disable_active_migration must be empty');
          tp.disableActiveMigration = true;
          break;
        case ID.preferredAddress: {
          const ipv4 = body.copy(4);
          const ipv4Port = body.u16();
          const ipv6 = body.copy(16);
          const ipv6Port = body.u16();
          const cidLen = body.u8();
          // RFC 9000 §18.2: a zero-length connection ID here is TRANSPORT_PARAMETER_ERROR.
          if (cidLen < 1 || cidLen > 20) throw tpError('preferred_address connection ID length outside 1..20');
          const cid = body.copy(cidLen);
          const resetToken = body.copy(16);
          tp.preferredAddress = { ipv4, ipv4Port, ipv6, ipv6Port, cid, resetToken };
          break;
        }
        default:
          // RFC 9000 §7.4.2: an endpoint MUST ignore transport parameters that it does not support.
          break;
      }
    }
  } catch (err) {
    if (err instanceof QuicError && err.code === 'FRAME_ENCODING_ERROR')
      throw tpError(`malformed transport parameters: ${err.message}`);
    throw err;
  }
  if (!fromServer) {
    for (const id of [
      ID.originalDestinationConnectionId,
      ID.preferredAddress,
      ID.retrySourceConnectionId,
      ID.statelessResetToken,
    ]) {
      if (seen.has(id)) throw tpError(`client sent server-only transport parameter 0x${id.toString(16)}`);
    }
  }
  // RFC 9000 §18.2 value constraints.
  if (tp.maxUdpPayloadSize < 1200) throw tpError('max_udp_payload_size below 1200');
  if (tp.ackDelayExponent > 20) throw tpError('ack_delay_exponent above 20');
  if (tp.maxAckDelay >= 2 ** 14) throw tpError('max_ack_delay of 2^14 or more');
  if (tp.activeConnectionIdLimit < 2) throw tpError('active_connection_id_limit below 2');
  if (tp.initialMaxStreamsBidi > 2 ** 60 || tp.initialMaxStreamsUni > 2 ** 60)
    throw tpError('initial_max_streams above 2^60');
  if (!seen.has(ID.initialSourceConnectionId)) throw tpError('initial_source_connection_id missing');
  if (fromServer && !seen.has(ID.originalDestinationConnectionId))
    throw tpError('original_destination_connection_id missing');
  return tp;
}
