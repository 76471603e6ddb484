/**
 * IdleTimer (app/quic/idleTimer.ts): the idle timeout and keep-alive of RFC 9000 §10.1 on fake times.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleTimer } from '../../../app/quic/idleTimer.ts';

describe('IdleTimer (RFC 9000 §10.1)', () => {
  it('takes the smaller of both timeouts, at least three PTOs; 0 means none', () => {
    const t = new IdleTimer({ now: 0, localTimeout: 30_000, keepAliveInterval: 0 });
    t.restart(1_000, 0, 100);
    assert.equal(t.deadline, 31_000, 'peer sent none: ours');
    t.restart(1_000, 10_000, 100);
    assert.equal(t.deadline, 11_000, 'the smaller');
    t.restart(1_000, 10_000, 5_000);
    assert.equal(t.deadline, 16_000, 'three PTOs when longer');
    const none = new IdleTimer({ now: 0, localTimeout: 0, keepAliveInterval: 0 });
    none.restart(1_000, 0, 100);
    assert.equal(none.deadline, Infinity);
    none.restart(1_000, 2_000, 100);
    assert.equal(none.deadline, 3_000, "the peer's alone");
  });

  it('restarts on receipt, and on the first ack-eliciting packet sent after it only', () => {
    const t = new IdleTimer({ now: 0, localTimeout: 1_000, keepAliveInterval: 0 });
    t.onPacketReceived(100, 0, 10);
    assert.equal(t.deadline, 1_100);
    t.onAckElicitingSent(200, 0, 10);
    assert.equal(t.deadline, 1_200);
    t.onAckElicitingSent(300, 0, 10);
    assert.equal(t.deadline, 1_200, 'a second send without a receipt in between does not restart it');
    t.onPacketReceived(400, 0, 10);
    t.onAckElicitingSent(500, 0, 10);
    assert.equal(t.deadline, 1_500);
    t.stop();
    assert.equal(t.deadline, Infinity);
  });

  it('keep-alive falls due an interval after the last activity or ack-eliciting send', () => {
    const off = new IdleTimer({ now: 0, localTimeout: 1_000, keepAliveInterval: 0 });
    assert.equal(off.keepAliveDeadline, Infinity);
    const t = new IdleTimer({ now: 50, localTimeout: 30_000, keepAliveInterval: 5_000 });
    assert.equal(t.keepAliveDeadline, 5_050);
    t.onAckElicitingSent(700, 0, 10);
    assert.equal(t.keepAliveDeadline, 5_700);
    t.onPacketReceived(600, 0, 10);
    assert.equal(t.keepAliveDeadline, 5_700, 'the later of the two');
    t.onPacketReceived(900, 0, 10);
    assert.equal(t.keepAliveDeadline, 5_900);
  });
});
