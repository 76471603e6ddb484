/**
 * Smaller rules of RFC 9000 that hostile or broken peers test: the Token Length and Source
 * Connection ID of server Initial packets (§17.2.2, §7.2), the size of datagrams carrying a
 * client's Initial packets (§14.1), and migration without a spare connection ID (§9.5).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { encodeFrame } from '../../../app/quic/frame.ts';
import { protectPacket, writeLongHeader } from '../../../app/quic/packetHeader.ts';
import { initialKeys, type PacketKeys } from '../../../app/quic/packetProtection.ts';
import { QuicConnection, type QuicEvent } from '../../../app/quic/quicConnection.ts';
import { Pair, testCertificate } from '../../support/quicPair.ts';

const ODCID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const CLIENT_CID = Uint8Array.of(0xc, 0xc, 0xc, 0xc, 0xc, 0xc, 0xc, 0xc);
/** The Pair's server connection ID. */
const SERVER_CID = Uint8Array.of(9, 9, 9, 9, 1, 2, 3, 4);
const CLIENT_ADDR = { address: '10.0.0.1', port: 50000 };
const SERVER_ADDR = { address: '10.0.0.2', port: 443 };

/** The private state a test needs to forge packets. */
interface Internals {
  spaces: { nextPn: number; writeKeys: PacketKeys | null }[];
  cids: { remote: Uint8Array; initialLocal: Uint8Array };
  path: { validating: boolean };
}

const internals = (c: QuicConnection): Internals => c as unknown as Internals;

/** CONNECTION_CLOSE (PROTOCOL_VIOLATION) padded to `size` bytes: processing it is observable. */
function closeFrames(size: number): Uint8Array {
  const w = new ByteWriter(64);
  encodeFrame(w, { type: 'connection_close', app: false, code: 0x0a, frameType: 0, reason: 'forged' });
  const out = new Uint8Array(Math.max(size, 32));
  out.set(w.finish());
  return out;
}

/** An Initial packet protected with `keys`. */
function initialPacket(
  keys: PacketKeys,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  pn: number,
  frames: Uint8Array,
): Uint8Array {
  const header = new Uint8Array(64 + token.length);
  const pnOffset = writeLongHeader(header, 'initial', dcid, scid, token, 4, 2);
  return protectPacket(keys, header, pnOffset, 4, pn, frames, true);
}

function closed(conn: QuicConnection, events: QuicEvent[]): boolean {
  for (let e = conn.pollEvent(); e; e = conn.pollEvent()) events.push(e);
  return events.some((e) => e.type === 'closed');
}

function clientPair(): Pair {
  return new Pair({ client: { initialDcid: ODCID, localCid: CLIENT_CID } });
}

describe('server Initial packets at the client (RFC 9000 §17.2.2, §7.2)', () => {
  it('discards a server Initial with a non-zero Token Length (§17.2.2)', () => {
    const p = clientPair();
    const server = initialKeys(ODCID).server;
    const dropped = p.client.stats.packetsDropped;
    const withToken = initialPacket(server, CLIENT_CID, SERVER_CID, Uint8Array.of(1, 2, 3), 0, closeFrames(40));
    p.client.handleDatagram(withToken, p.serverAddr, p.now);
    assert.equal(closed(p.client, p.clientEvents), false, 'the packet with a token was processed');
    assert.equal(p.client.stats.packetsDropped, dropped + 1);
    // The same packet without a token is processed: a small server Initial is fine (§14.1 binds servers only).
    const plain = initialPacket(server, CLIENT_CID, SERVER_CID, new Uint8Array(0), 1, closeFrames(40));
    assert.ok(plain.length < 1200);
    p.client.handleDatagram(plain, p.serverAddr, p.now);
    assert.equal(closed(p.client, p.clientEvents), true);
  });

  it('discards server packets with another Source Connection ID once one was valid (§7.2)', () => {
    const now = 1000;
    const client = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: SERVER_ADDR,
      initialDcid: ODCID,
      localCid: CLIENT_CID,
      now,
      wallClock: Date.now,
    });
    const server = QuicConnection.accept({
      alpn: ['xmpp-client'],
      ...testCertificate(),
      originalDcid: ODCID,
      clientScid: CLIENT_CID,
      localCid: SERVER_CID,
      remoteAddress: CLIENT_ADDR,
      now,
      wallClock: Date.now,
    });
    server.handleDatagram(client.pollTransmit(now)!.data, CLIENT_ADDR, now);
    // The server's first flight reaches the client; the client sends nothing yet, so it keeps
    // its Initial keys.
    client.handleDatagram(server.pollTransmit(now)!.data, SERVER_ADDR, now);
    const events: QuicEvent[] = [];
    assert.equal(closed(client, events), false);
    assert.deepEqual(internals(client).cids.remote, SERVER_CID);
    const keys = initialKeys(ODCID).server;
    const other = Uint8Array.of(6, 6, 6, 6, 6, 6, 6, 6);
    client.handleDatagram(
      initialPacket(keys, CLIENT_CID, other, new Uint8Array(0), 50, closeFrames(40)),
      SERVER_ADDR,
      now,
    );
    assert.equal(closed(client, events), false, 'the packet with another SCID was processed');
    assert.deepEqual(internals(client).cids.remote, SERVER_CID, 'the server connection ID stays');
    client.handleDatagram(
      initialPacket(keys, CLIENT_CID, SERVER_CID, new Uint8Array(0), 51, closeFrames(40)),
      SERVER_ADDR,
      now,
    );
    assert.equal(closed(client, events), true, 'the same packet with the server SCID is processed');
  });
});

describe('client Initial packets at the server (RFC 9000 §14.1)', () => {
  /** A forged client Initial in a datagram of `size` bytes, to the existing server connection. */
  function forgedInitial(size: number): { p: Pair; events: QuicEvent[] } {
    const p = clientPair();
    p.step();
    assert.ok(p.server, 'the server connection exists');
    const c = internals(p.client);
    const keys = c.spaces[0]!.writeKeys;
    if (!keys) assert.fail('client Initial keys already discarded');
    const overhead = 1 + 4 + 1 + 8 + 1 + 8 + 1 + 2 + 4 + 16;
    const pkt = initialPacket(keys, c.cids.remote, CLIENT_CID, new Uint8Array(0), 40, closeFrames(size - overhead));
    assert.equal(pkt.length, size);
    const events: QuicEvent[] = [];
    p.server.handleDatagram(pkt, p.clientAddr, p.now);
    return { p, events };
  }

  it('discards a client Initial carried in a datagram under 1200 bytes on an existing connection', () => {
    const { p, events } = forgedInitial(1199);
    assert.equal(closed(p.server!, events), false, 'the small Initial was processed');
  });

  it('processes the same Initial in a 1200-byte datagram', () => {
    const { p, events } = forgedInitial(1200);
    assert.equal(closed(p.server!, events), true);
  });
});

describe('active migration (RFC 9000 §9.5)', () => {
  it('does not migrate without an unused connection ID from the server, and does once one arrives', () => {
    const p = new Pair({ client: { transportParams: { activeConnectionIdLimit: 2 } } });
    p.handshake();
    p.advance(100);
    const c = internals(p.client);
    const first = c.cids.remote.slice();
    p.clientAddr = { address: '10.0.0.77', port: 40000 };
    assert.equal(p.client.migrate(p.now), true, 'the one spare connection ID is used');
    const second = c.cids.remote.slice();
    assert.notDeepEqual(second, first);
    // Before the server's next NEW_CONNECTION_ID arrives nothing unused is left: "An endpoint MUST
    // NOT reuse a connection ID when sending from more than one local address".
    assert.equal(p.client.migrate(p.now), false, 'migrated with a connection ID already used on another path');
    assert.deepEqual(c.cids.remote, second);
    p.driveUntil(() => p.clientEvents.some((e) => e.type === 'path-validated'));
    p.advance(200);
    p.clientAddr = { address: '10.0.0.78', port: 40001 };
    assert.equal(p.client.migrate(p.now), true, 'the replacement connection ID arrived');
    assert.notDeepEqual(c.cids.remote, second);
    p.driveUntil(() => p.clientEvents.filter((e) => e.type === 'path-validated').length === 2);
  });
});
