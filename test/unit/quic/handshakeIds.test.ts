/**
 * HandshakeIds (app/quic/handshakeIds.ts): Retry, Version Negotiation and the authentication of
 * the handshake's connection IDs (RFC 9000 §6.2, §7.2, §7.3, §17.2.5).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeIds } from '../../../app/quic/handshakeIds.ts';
import { parseHeader, QUIC_V1, versionNegotiationPacket, type PacketHeader } from '../../../app/quic/packetHeader.ts';
import { QuicError } from '../../../app/quic/quicError.ts';
import { buildRetryPacket } from '../../../app/quic/retryToken.ts';
import { defaultTransportParameters, type TransportParameters } from '../../../app/quic/transportParameters.ts';

const ODCID = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1);
const CLIENT_SCID = Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2);
const SERVER_SCID = Uint8Array.of(3, 3, 3, 3, 3, 3, 3, 3);
const TOKEN = Uint8Array.of(9, 8, 7);

function long(data: Uint8Array): Extract<PacketHeader, { form: 'long' }> {
  const h = parseHeader(data, 0, 8);
  if (h.form !== 'long') throw new Error('not a long header');
  return h;
}

function vn(versions: number[]): Extract<PacketHeader, { form: 'version-negotiation' }> {
  const h = parseHeader(versionNegotiationPacket(CLIENT_SCID, ODCID, versions, 0x11), 0, 8);
  if (h.form !== 'version-negotiation') throw new Error('not a VN packet');
  return h;
}

function tp(fields: Partial<TransportParameters>): TransportParameters {
  return { ...defaultTransportParameters(), ...fields };
}

function transportError(reason: string): (err: unknown) => boolean {
  return (err) => err instanceof QuicError && err.code === 'TRANSPORT_PARAMETER_ERROR' && err.message === reason;
}

describe('HandshakeIds', () => {
  it('accepts one authentic Retry before any other server packet (§17.2.5.2)', () => {
    const ids = new HandshakeIds({ role: 'client', originalDcid: ODCID });
    assert.deepEqual(ids.initialKeysCid, ODCID);
    const retry = buildRetryPacket(CLIENT_SCID, SERVER_SCID, TOKEN, ODCID);
    const forged = buildRetryPacket(CLIENT_SCID, SERVER_SCID, TOKEN, Uint8Array.of(4, 4, 4, 4));
    assert.equal(ids.acceptRetry(forged, long(forged), ODCID), null, 'integrity tag for another ODCID');
    assert.equal(ids.acceptRetry(retry, long(retry), SERVER_SCID), null, 'Retry SCID equal to the DCID in use');
    const empty = buildRetryPacket(CLIENT_SCID, SERVER_SCID, new Uint8Array(0), ODCID);
    assert.equal(ids.acceptRetry(empty, long(empty), ODCID), null, 'no token');
    assert.deepEqual(ids.acceptRetry(retry, long(retry), ODCID), SERVER_SCID);
    assert.deepEqual(ids.token, TOKEN);
    assert.deepEqual(ids.initialKeysCid, SERVER_SCID, 'RFC 9001 §5.2: Initial keys from the Retry SCID');
    const second = buildRetryPacket(CLIENT_SCID, Uint8Array.of(5, 5, 5, 5), TOKEN, ODCID);
    assert.equal(ids.acceptRetry(second, long(second), SERVER_SCID), null, 'at most one');
  });

  it('ignores Retry and Version Negotiation once the server was heard (§6.2, §7.2)', () => {
    const ids = new HandshakeIds({ role: 'client', originalDcid: ODCID });
    const initial = long(buildRetryPacket(CLIENT_SCID, SERVER_SCID, TOKEN, ODCID));
    assert.deepEqual(ids.onServerPacket(initial), SERVER_SCID, 'the first one gives the server SCID');
    assert.equal(ids.onServerPacket(initial), null, 'only the first');
    const retry = buildRetryPacket(CLIENT_SCID, Uint8Array.of(6, 6, 6, 6), TOKEN, ODCID);
    assert.equal(ids.acceptRetry(retry, long(retry), SERVER_SCID), null);
    assert.equal(ids.versionNegotiationFailure(vn([0xff00001d]), CLIENT_SCID), null);
  });

  it('ends on a Version Negotiation without our version, addressed to us (§6.2)', () => {
    const ids = new HandshakeIds({ role: 'client', originalDcid: ODCID });
    assert.equal(ids.versionNegotiationFailure(vn([QUIC_V1, 0xff00001d]), CLIENT_SCID), null, 'lists v1');
    assert.equal(ids.versionNegotiationFailure(vn([0xff00001d]), SERVER_SCID), null, 'not our SCID');
    assert.equal(
      ids.versionNegotiationFailure(vn([0xff00001d, 0x6b3343cf]), CLIENT_SCID),
      'server supports none of our versions (it offered 0xff00001d, 0x6b3343cf)',
    );
    const server = new HandshakeIds({ role: 'server', originalDcid: ODCID, clientScid: CLIENT_SCID });
    assert.equal(server.versionNegotiationFailure(vn([0xff00001d]), CLIENT_SCID), null, 'servers ignore VN');
  });

  it("authenticates the server's connection IDs (§7.3)", () => {
    const ids = new HandshakeIds({ role: 'client', originalDcid: ODCID });
    ids.onServerPacket(long(buildRetryPacket(CLIENT_SCID, SERVER_SCID, TOKEN, ODCID)));
    const good = { originalDestinationConnectionId: ODCID, initialSourceConnectionId: SERVER_SCID };
    ids.authenticate(tp(good));
    assert.throws(
      () => ids.authenticate(tp({ ...good, originalDestinationConnectionId: SERVER_SCID })),
      transportError('original_destination_connection_id mismatch'),
    );
    assert.throws(
      () => ids.authenticate(tp({ ...good, retrySourceConnectionId: SERVER_SCID })),
      transportError('retry_source_connection_id without a Retry'),
    );
    assert.throws(
      () => ids.authenticate(tp({ ...good, initialSourceConnectionId: CLIENT_SCID })),
      transportError('initial_source_connection_id mismatch'),
    );
  });

  it('after a Retry, the server must name its Retry SCID (§7.3)', () => {
    const ids = new HandshakeIds({ role: 'client', originalDcid: ODCID });
    const retry = buildRetryPacket(CLIENT_SCID, SERVER_SCID, TOKEN, ODCID);
    ids.acceptRetry(retry, long(retry), ODCID);
    assert.throws(
      () => ids.authenticate(tp({ originalDestinationConnectionId: ODCID })),
      transportError('retry_source_connection_id mismatch'),
    );
    ids.authenticate(tp({ originalDestinationConnectionId: ODCID, retrySourceConnectionId: SERVER_SCID }));
  });

  it("a server checks only the client's Initial SCID, and keeps its own Retry SCID", () => {
    const ids = new HandshakeIds({
      role: 'server',
      originalDcid: ODCID,
      clientScid: CLIENT_SCID,
      retrySourceCid: SERVER_SCID,
    });
    assert.deepEqual(ids.retrySourceCid, SERVER_SCID);
    assert.deepEqual(ids.initialKeysCid, SERVER_SCID);
    assert.equal(ids.token.length, 0, 'a server sends Initial packets without a token');
    ids.authenticate(tp({ initialSourceConnectionId: CLIENT_SCID }));
    assert.throws(
      () => ids.authenticate(tp({ initialSourceConnectionId: ODCID })),
      transportError('initial_source_connection_id mismatch'),
    );
  });
});
