/**
 * CloseState (app/quic/closeState.ts): closing and draining (RFC 9000 §10.2) on fake times.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseState } from '../../../app/quic/closeState.ts';
import { APPLICATION, HANDSHAKE, INITIAL } from '../../../app/quic/packetSpace.ts';
import type { EndpointEvent, QuicEvent } from '../../../app/quic/quicEvent.ts';

function setup(): { c: CloseState; events: QuicEvent[]; endpointEvents: EndpointEvent[] } {
  const events: QuicEvent[] = [];
  const endpointEvents: EndpointEvent[] = [];
  return { c: new CloseState({ events, endpointEvents }), events, endpointEvents };
}

describe('CloseState (RFC 9000 §10.2)', () => {
  it('starts open, with no deadline and nothing to send', () => {
    const { c, events } = setup();
    assert.equal(c.phase, 'open');
    assert.equal(c.isClosed, false);
    assert.equal(c.isSilent, false);
    assert.equal(c.deadline, Infinity);
    assert.equal(c.takeCloseDue(), false);
    assert.equal(c.frameFor(APPLICATION), null);
    assert.deepEqual(events, []);
  });

  it('closing: reports closed once, sends CONNECTION_CLOSE again when datagrams arrive (§10.2.1)', () => {
    const { c, events } = setup();
    assert.equal(c.close(0x0a, 'bad frame', false, 0x08, 1300), true);
    assert.equal(c.phase, 'closing');
    assert.equal(c.isClosed, true);
    assert.equal(c.isSilent, false);
    assert.equal(c.deadline, 1300);
    assert.deepEqual(events, [
      { type: 'closed', code: 0x0a, codeName: 'PROTOCOL_VIOLATION', reason: 'bad frame', local: true, app: false },
    ]);
    assert.equal(c.takeCloseDue(), true);
    assert.equal(c.takeCloseDue(), false, 'sent once until the peer sends again');
    c.onDatagramWhileClosing();
    c.onDatagramWhileClosing();
    assert.equal(c.takeCloseDue(), true);
    assert.equal(c.takeCloseDue(), false);
    assert.deepEqual(c.frameFor(APPLICATION), {
      type: 'connection_close',
      app: false,
      code: 0x0a,
      frameType: 0x08,
      reason: 'bad frame',
    });
    // A second close changes nothing.
    assert.equal(c.close(1, 'again', true, 0, 9999), false);
    assert.equal(c.deadline, 1300);
    assert.equal(events.length, 1);
  });

  it('an application close is APPLICATION_ERROR without the reason in Initial and Handshake (§10.2.3)', () => {
    const { c, events } = setup();
    c.close(7, 'bye', true, 0, 500);
    assert.equal(events[0]?.type === 'closed' && events[0].codeName, 'application 7');
    const hidden = { type: 'connection_close', app: false, code: 0x0c, frameType: 0, reason: '' };
    assert.deepEqual(c.frameFor(INITIAL), hidden);
    assert.deepEqual(c.frameFor(HANDSHAKE), hidden);
    assert.deepEqual(c.frameFor(APPLICATION), {
      type: 'connection_close',
      app: true,
      code: 7,
      frameType: 0,
      reason: 'bye',
    });
  });

  it('cuts the reason phrase of the frame to 256 characters, not the one reported', () => {
    const { c, events } = setup();
    const long = 'x'.repeat(300);
    c.close(1, long, true, 0, 10);
    assert.equal(c.frameFor(APPLICATION)?.reason.length, 256);
    assert.equal(events[0]?.type === 'closed' && events[0].reason.length, 300);
  });

  it('draining on the peer CONNECTION_CLOSE: reported, silent, then drained at the deadline (§10.2.2)', () => {
    const { c, events, endpointEvents } = setup();
    assert.equal(c.enterDraining(0, 'peer done', false, false, 2000), true);
    assert.equal(c.phase, 'draining');
    assert.equal(c.isSilent, true);
    assert.equal(c.deadline, 2000);
    assert.equal(c.takeCloseDue(), false, 'a draining endpoint sends nothing');
    assert.deepEqual(events, [
      { type: 'closed', code: 0, codeName: 'NO_ERROR', reason: 'peer done', local: false, app: false },
    ]);
    assert.equal(c.enterDraining(1, 'again', false, false, 3000), false);
    assert.equal(c.deadline, 2000);
    c.drain();
    assert.equal(c.isDrained, true);
    assert.equal(c.deadline, Infinity);
    c.drain();
    assert.deepEqual(endpointEvents, [{ type: 'drained' }], 'drained is reported once');
  });

  it('closing then draining keeps the first closed event and takes the new deadline', () => {
    const { c, events } = setup();
    c.close(0, 'done', true, 0, 100);
    c.takeCloseDue();
    assert.equal(c.enterDraining(0, 'peer closed too', false, false, 250), true);
    assert.equal(c.deadline, 250);
    assert.equal(events.length, 1);
    c.onDatagramWhileClosing();
    assert.equal(c.takeCloseDue(), false, 'no CONNECTION_CLOSE once draining');
  });

  it('a silent close reports closed and drained at once (§10.1, §9.3.2)', () => {
    const { c, events, endpointEvents } = setup();
    c.closeSilently('idle timeout', 'no packets');
    assert.equal(c.isDrained, true);
    assert.equal(c.deadline, Infinity);
    assert.deepEqual(events, [
      { type: 'closed', code: 0, codeName: 'idle timeout', reason: 'no packets', local: true, app: false },
    ]);
    assert.deepEqual(endpointEvents, [{ type: 'drained' }]);
    assert.equal(c.close(1, 'late', false, 0, 5), false);
  });
});
