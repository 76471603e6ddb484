/** Packet numbers (RFC 9000 Appendix A), RTT estimation (RFC 9002 §5), NewReno (RFC 9002 §7), range sets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CongestionController } from '../../../app/quic/congestionController.ts';
import { decodePacketNumber, packetNumberLength } from '../../../app/quic/packetNumber.ts';
import { RangeSet } from '../../../app/quic/rangeSet.ts';
import { RttEstimator } from '../../../app/quic/rttEstimator.ts';

describe('packet numbers (RFC 9000 Appendix A)', () => {
  it('decodes the Appendix A.3 example', () => {
    assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
  });

  it('encodes with enough bytes for twice the unacknowledged range (A.2)', () => {
    assert.equal(packetNumberLength(0xac5c02, 0xabe8b3), 2);
    assert.equal(packetNumberLength(0xace8fe, 0xabe8b3), 3);
    assert.equal(packetNumberLength(0, -1), 1);
  });

  it('round-trips across window edges', () => {
    for (const [largest, pn] of [
      [-1, 0],
      [254, 255],
      [255, 300],
      [65534, 65600],
      [2 ** 32, 2 ** 32 + 5],
    ] as const) {
      const len = packetNumberLength(pn, largest);
      const truncated = pn % 2 ** (8 * len);
      assert.equal(decodePacketNumber(largest, truncated, 8 * len), pn);
    }
  });
});

describe('RTT estimator (RFC 9002 §5.3)', () => {
  it('takes the first sample as is, then smooths with ack delay', () => {
    const r = new RttEstimator();
    r.update(100, 0, false, 25);
    assert.deepEqual([r.smoothedRtt, r.rttVar, r.minRtt], [100, 50, 100]);
    r.update(120, 10, true, 25);
    assert.equal(r.smoothedRtt, 0.875 * 100 + 0.125 * 110);
  });
});

describe('NewReno (RFC 9002 §7)', () => {
  it('grows in slow start, halves once per recovery period, never below the minimum', () => {
    const cc = new CongestionController(1200);
    assert.equal(cc.congestionWindow, 12000);
    cc.onPacketSent(1200, 0);
    cc.onPacketAcked(1200, 0, false);
    assert.equal(cc.congestionWindow, 13200);
    cc.onCongestionEvent(5, 10);
    assert.equal(cc.congestionWindow, 6600);
    cc.onCongestionEvent(8, 11); // sent before recovery started: no second reduction
    assert.equal(cc.congestionWindow, 6600);
    cc.onPersistentCongestion();
    assert.equal(cc.congestionWindow, 2400);
  });

  it('paces: a full bucket sends at once, an empty one waits', () => {
    const cc = new CongestionController(1200);
    assert.equal(cc.pacingDelay(1200, 0, 100), 0);
    for (let i = 0; i < 10; i++) cc.onPacketSent(1200, 0);
    assert.ok(cc.pacingDelay(1200, 0, 100) > 0);
  });
});

describe('RangeSet', () => {
  it('merges, removes and lists ranges', () => {
    const s = new RangeSet();
    s.insert(0, 5);
    s.insert(10, 15);
    s.insert(5, 10);
    assert.deepEqual(s.descending(), [[0, 15]]);
    assert.equal(s.insert(3, 7), false);
    s.remove(4, 6);
    assert.deepEqual(s.descending(), [
      [6, 15],
      [0, 4],
    ]);
    s.insert(20, 21);
    s.insert(2, 30);
    assert.deepEqual(s.descending(), [[0, 30]]);
    s.removeBelow(12);
    assert.deepEqual(s.first(), [12, 30]);
    assert.ok(s.has(29) && !s.has(30) && !s.has(11));
  });
});

describe('LossRecovery (RFC 9002 Appendix A)', async () => {
  const { LossRecovery } = await import('../../../app/quic/lossRecovery.ts');
  const { PacketSpace, APPLICATION } = await import('../../../app/quic/packetSpace.ts');
  const ctx = {
    role: 'client' as const,
    handshakeConfirmed: () => true,
    handshakeComplete: () => true,
    amplificationBlocked: () => false,
    peerMaxAckDelay: () => 25,
  };
  const packet = (pn: number, timeSent: number) => ({
    pn,
    timeSent,
    size: 1200,
    ackEliciting: true,
    inFlight: true,
    frames: [],
    keyPhase: 0,
    mtuProbe: false,
  });

  it('a PMTU probe in flight rides on top of the window, but data never goes past the window', () => {
    const spaces = [new PacketSpace(0), new PacketSpace(1), new PacketSpace(APPLICATION)];
    const r = new LossRecovery(spaces, 1200, ctx);
    const app = spaces[2]!;
    let pn = 0;
    const send = (size: number, mtuProbe: boolean) => r.onPacketSent(app, { ...packet(pn++, 1), size, mtuProbe }, 1);
    const cwnd = r.cc.congestionWindow;
    send(r.cc.available, true); // a probe sized to the whole window
    assert.equal(r.dataAvailable, cwnd, 'the probe does not take the window from data');
    let data = 0;
    for (let i = 0; i < 1000 && r.dataAvailable >= 1200; i++) {
      send(1200, false);
      data += 1200;
    }
    assert.ok(data <= cwnd, `data in flight stays within the window (${data} of ${cwnd})`);
    assert.ok(data > cwnd - 1200);
    assert.equal(r.dataAvailable, cwnd - data);
  });

  it('declares a packet lost exactly when its time threshold is reached, despite float rounding', () => {
    const spaces = [new PacketSpace(0), new PacketSpace(1), new PacketSpace(APPLICATION)];
    const r = new LossRecovery(spaces, 1200, ctx);
    const app = spaces[2]!;
    // Values where timeSent + lossDelay === now but now - lossDelay < timeSent in doubles.
    const timeSent = 4053.520509799004;
    const rtt = 47.5893390058355;
    r.onPacketSent(app, packet(0, timeSent), timeSent);
    r.onPacketSent(app, packet(1, timeSent + 1), timeSent + 1);
    app.nextPn = 2;
    r.rtt.update(rtt, 0, true, 25);
    const { lost } = r.onAckReceived(app, [[1, 1]], 0, timeSent + 1 + rtt, 0);
    assert.equal(lost.length, 0, 'not yet: one packet reordered is within both thresholds');
    const at = app.lossTime;
    assert.equal(r.timer, at);
    const outcome = r.onTimeout(at);
    assert.equal(outcome.kind, 'lost');
    assert.deepEqual(outcome.kind === 'lost' ? outcome.packets.map((p) => p.pn) : [], [0]);
    assert.equal(app.lossTime, Infinity, 'no timer left armed at the same instant');
  });

  it('declares packets lost by the packet threshold and rejects ACKs of unsent packets', () => {
    const spaces = [new PacketSpace(0), new PacketSpace(1), new PacketSpace(APPLICATION)];
    const r = new LossRecovery(spaces, 1200, ctx);
    const app = spaces[2]!;
    for (let pn = 0; pn < 5; pn++) r.onPacketSent(app, packet(pn, 100 + pn), 100 + pn);
    app.nextPn = 5;
    const { acked, lost } = r.onAckReceived(app, [[3, 4]], 0, 130, 0);
    assert.deepEqual(
      acked.map((p) => p.pn),
      [3, 4],
    );
    assert.deepEqual(
      lost.map((p) => p.pn),
      [0, 1],
      'kPacketThreshold = 3',
    );
    assert.throws(() => r.onAckReceived(app, [[9, 9]], 0, 131, 0x02), /unsent/);
  });
});
