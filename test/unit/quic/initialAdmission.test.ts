/**
 * Admission of client Initials for unknown connections (app/quic/driver/initialAdmission.ts):
 * the half-open threshold above which only Retry answers, the hard cap, and the stateless
 * decryption check that keeps garbage from creating state.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { admitInitial, connectionRefusedPacket, initialOpens } from '../../../app/quic/driver/initialAdmission.ts';
import { parseHeader, unprotectPacket } from '../../../app/quic/packetHeader.ts';
import { initialKeys } from '../../../app/quic/packetProtection.ts';
import { decodeFrames } from '../../../app/quic/frame.ts';
import { QuicConnection } from '../../../app/quic/quicConnection.ts';

const LIMITS = { requireRetry: false, retryAbove: 4, maxHalfOpen: 8, maxHalfOpenPerAddress: 3 };

describe('admitInitial', () => {
  it('accepts below the threshold, sends Retry at and above it', () => {
    assert.equal(admitInitial(LIMITS, 3, 'none', 0), 'accept');
    assert.equal(admitInitial(LIMITS, 4, 'none', 0), 'retry');
    assert.equal(admitInitial(LIMITS, 100, 'none', 0), 'retry');
  });

  it('holds one source address to its share: a validated one is refused beyond it, others must validate', () => {
    assert.equal(admitInitial(LIMITS, 5, 'valid', 2), 'accept');
    assert.equal(admitInitial(LIMITS, 5, 'valid', 3), 'refuse');
    assert.equal(admitInitial(LIMITS, 0, 'none', 2), 'accept');
    assert.equal(admitInitial(LIMITS, 0, 'none', 3), 'retry');
  });

  it('lets a validated address use the reserve up to the hard cap, no further', () => {
    assert.equal(admitInitial(LIMITS, 7, 'valid', 0), 'accept');
    assert.equal(admitInitial(LIMITS, 8, 'valid', 0), 'refuse');
  });

  it('refuses an invalid token where a Retry would be sent (a client takes one Retry only)', () => {
    assert.equal(admitInitial(LIMITS, 3, 'invalid', 0), 'accept');
    assert.equal(admitInitial(LIMITS, 4, 'invalid', 0), 'refuse');
    assert.equal(admitInitial({ ...LIMITS, requireRetry: true }, 0, 'invalid', 0), 'refuse');
    assert.equal(admitInitial({ ...LIMITS, requireRetry: true }, 0, 'none', 0), 'retry');
  });

  it('never lets the threshold exceed the cap', () => {
    assert.equal(admitInitial({ ...LIMITS, retryAbove: 50 }, 8, 'none', 0), 'retry');
  });
});

describe('initialOpens', () => {
  function clientInitial(): Uint8Array {
    const c = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: { address: '127.0.0.1', port: 443 },
      now: 0,
      wallClock: () => 0,
    });
    return c.pollTransmit(0)!.data;
  }

  function longHeader(d: Uint8Array): Extract<ReturnType<typeof parseHeader>, { form: 'long' }> {
    const h = parseHeader(d, 0, 8);
    if (h.form !== 'long') throw new Error('not a long header');
    return h;
  }

  it("opens a real client's Initial", () => {
    const d = clientInitial();
    assert.equal(initialOpens(d, longHeader(d)), true);
  });

  it('refuses random bytes behind a valid header, and a flipped payload byte', () => {
    const d = clientInitial();
    const h = longHeader(d);
    const garbage = d.slice();
    garbage.set(randomBytes(garbage.length - h.pnOffset), h.pnOffset);
    assert.equal(initialOpens(garbage, h), false);
    const flipped = d.slice();
    flipped[h.pnOffset + 40]! ^= 1;
    assert.equal(initialOpens(flipped, h), false);
  });
});

describe('connectionRefusedPacket', () => {
  it('is a server Initial to the client, under the Initial keys of its DCID, holding CONNECTION_CLOSE CONNECTION_REFUSED with the reason', () => {
    const client = { dcid: randomBytes(8), scid: randomBytes(8) };
    const serverCid = randomBytes(8);
    const packet = connectionRefusedPacket(client, serverCid, 'full: try again later');
    assert.ok(packet.length < 1200, 'no amplification');
    const header = parseHeader(packet, 0, 8);
    assert.ok(header.form === 'long' && header.type === 'initial');
    assert.deepEqual([...header.dcid], [...client.scid]);
    assert.deepEqual([...header.scid], [...serverCid]);
    assert.equal(header.token.length, 0, 'a server Initial carries no token');
    const keys = initialKeys(client.dcid).server;
    const opened = unprotectPacket(packet, header, keys, -1, () => keys);
    assert.ok(opened, 'opens with the server Initial keys of the client DCID');
    assert.deepEqual(
      decodeFrames(opened.payload).map((f) => f.frame),
      [{ type: 'connection_close', app: false, code: 0x02, frameType: 0, reason: 'full: try again later' }],
    );
    const other = initialKeys(randomBytes(8)).server;
    assert.equal(
      unprotectPacket(packet, header, other, -1, () => other),
      null,
    );
  });
});
