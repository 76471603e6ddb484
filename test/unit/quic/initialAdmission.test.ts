/**
 * Admission of client Initials for unknown connections (app/quic/driver/initialAdmission.ts):
 * the half-open threshold above which only Retry answers, the hard cap, and the stateless
 * decryption check that keeps garbage from creating state.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { admitInitial, initialOpens } from '../../../app/quic/driver/initialAdmission.ts';
import { parseHeader } from '../../../app/quic/packetHeader.ts';
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
