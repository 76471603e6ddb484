/**
 * TimerTable (app/quic/timerTable.ts): a connection's deadlines as one table, on fake times.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACK_TIMERS, TIMERS, TimerTable } from '../../../app/quic/timerTable.ts';
import { APPLICATION, HANDSHAKE, INITIAL } from '../../../app/quic/packetSpace.ts';

describe('TimerTable', () => {
  it('starts with nothing armed', () => {
    const t = new TimerTable();
    assert.equal(t.next(), undefined);
    for (const timer of TIMERS) assert.equal(t.get(timer), Infinity);
    assert.deepEqual(t.expired(1e12), []);
  });

  it('next is the earliest armed deadline, whatever the slot', () => {
    const t = new TimerTable();
    t.set('idle', 30_000);
    assert.equal(t.next(), 30_000);
    t.set('lossDetection', 1_250);
    t.set('ackApplication', 1_025);
    assert.equal(t.next(), 1_025);
    t.clear('ackApplication');
    assert.equal(t.next(), 1_250);
    assert.equal(t.get('ackApplication'), Infinity);
    t.set('lossDetection', Infinity);
    assert.equal(t.next(), 30_000, 'setting Infinity disarms');
  });

  it('a timer expires at its deadline, not before', () => {
    const t = new TimerTable();
    t.set('pacing', 100.5);
    assert.equal(t.isExpired('pacing', 100), false);
    assert.equal(t.isExpired('pacing', 100.5), true);
    assert.equal(t.isExpired('pacing', 200), true);
    assert.equal(t.isExpired('idle', 1e12), false, 'an unarmed timer never expires');
  });

  it('expired lists the due timers in handling order (close and idle first, loss detection last)', () => {
    const t = new TimerTable();
    t.set('lossDetection', 10);
    t.set('keepAlive', 15);
    t.set('idle', 20);
    t.set('close', 5);
    t.set('pathValidation', 50);
    assert.deepEqual(t.expired(4), []);
    assert.deepEqual(t.expired(10), ['close', 'lossDetection']);
    assert.deepEqual(t.expired(20), ['close', 'idle', 'keepAlive', 'lossDetection']);
    t.clear('close');
    assert.deepEqual(t.expired(60), ['idle', 'keepAlive', 'pathValidation', 'lossDetection']);
  });

  it('has one delayed-ACK timer per packet number space', () => {
    const t = new TimerTable();
    t.set(ACK_TIMERS[INITIAL], 1);
    t.set(ACK_TIMERS[HANDSHAKE], 2);
    t.set(ACK_TIMERS[APPLICATION], 3);
    assert.deepEqual(t.expired(3), ['ackInitial', 'ackHandshake', 'ackApplication']);
    assert.deepEqual(t.expired(2), ['ackInitial', 'ackHandshake']);
  });
});
