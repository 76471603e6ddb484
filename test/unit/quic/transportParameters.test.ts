/** RFC 9000 §18: transport parameter encoding and validation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicError } from '../../../app/quic/quicError.ts';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../../../app/quic/transportParameters.ts';

const cid = Uint8Array.from([1, 2, 3, 4]);

function server(): TransportParameters {
  return {
    ...defaultTransportParameters(),
    originalDestinationConnectionId: Uint8Array.from([8, 8, 8, 8, 8, 8, 8, 8]),
    initialSourceConnectionId: cid,
    statelessResetToken: new Uint8Array(16).fill(5),
    maxIdleTimeout: 30000,
    initialMaxData: 1 << 20,
    initialMaxStreamDataBidiLocal: 1000,
    initialMaxStreamDataBidiRemote: 2000,
    initialMaxStreamDataUni: 3000,
    initialMaxStreamsBidi: 10,
    initialMaxStreamsUni: 3,
    maxAckDelay: 20,
    disableActiveMigration: true,
    activeConnectionIdLimit: 4,
    maxUdpPayloadSize: 1452,
  };
}

const isTpError = (err: unknown): boolean => err instanceof QuicError && err.code === 'TRANSPORT_PARAMETER_ERROR';

describe('transport parameters (RFC 9000 §18)', () => {
  it('round-trips server parameters', () => {
    const tp = server();
    assert.deepEqual(decodeTransportParameters(encodeTransportParameters(tp), true), tp);
  });

  it('ignores unknown parameters (§7.4.2)', () => {
    const enc = encodeTransportParameters(server());
    const withGrease = Uint8Array.from([...enc, 0x40, 0x1b, 2, 0xab, 0xcd]);
    assert.equal(decodeTransportParameters(withGrease, true).initialMaxStreamsBidi, 10);
  });

  it('rejects server-only parameters from a client', () => {
    assert.throws(() => decodeTransportParameters(encodeTransportParameters(server()), false), isTpError);
  });

  it('rejects duplicates, bad values and missing connection IDs', () => {
    const enc = encodeTransportParameters({
      ...defaultTransportParameters(),
      initialSourceConnectionId: cid,
      initialMaxData: 5,
    });
    assert.throws(() => decodeTransportParameters(Uint8Array.from([...enc, 0x04, 1, 5]), false), isTpError);
    for (const bad of [
      { maxUdpPayloadSize: 1199 },
      { ackDelayExponent: 21 },
      { maxAckDelay: 2 ** 14 },
      { activeConnectionIdLimit: 1 },
    ]) {
      const e = encodeTransportParameters({ ...defaultTransportParameters(), initialSourceConnectionId: cid, ...bad });
      assert.throws(() => decodeTransportParameters(e, false), isTpError, JSON.stringify(bad));
    }
    assert.throws(
      () => decodeTransportParameters(encodeTransportParameters(defaultTransportParameters()), false),
      isTpError,
    );
    assert.throws(() => decodeTransportParameters(Uint8Array.from([0x04, 5, 1]), false), isTpError);
  });
});
