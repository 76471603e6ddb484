/**
 * PathState (app/quic/pathState.ts): the anti-amplification credit (RFC 9000 §8.1), path validation
 * (§8.2) and the return to the last validated address when it fails (§9.3.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { decodeFrames, encodeFrame, type Frame } from '../../../app/quic/frame.ts';
import type { SentFrame } from '../../../app/quic/packetSpace.ts';
import { PathState } from '../../../app/quic/pathState.ts';
import type { QuicEvent } from '../../../app/quic/quicEvent.ts';

const A = { address: '192.0.2.1', port: 4433 };
const B = { address: '198.51.100.7', port: 5000 };

function newPath(validated: boolean): { path: PathState; events: QuicEvent[]; sizes: number[] } {
  const events: QuicEvent[] = [];
  const sizes: number[] = [];
  const path = new PathState({ remote: A, validated, ceiling: 1200, events, onDatagramSize: (s) => sizes.push(s) });
  return { path, events, sizes };
}

/** The frames `writeFrames` puts in a packet (padded so the decoder sees a whole packet). */
function written(path: PathState, now: number): { frames: Frame[]; sent: SentFrame[] } {
  const w = new ByteWriter(64);
  const sent: SentFrame[] = [];
  path.writeFrames(w, sent, 1000, now);
  encodeFrame(w, { type: 'padding', length: 1 });
  return { frames: decodeFrames(w.finish()).map((d) => d.frame), sent };
}

describe('PathState anti-amplification credit (RFC 9000 §8.1)', () => {
  it('allows three times what arrived from the address until it is validated', () => {
    const { path } = newPath(false);
    assert.equal(path.onDatagramReceived(1200, A), true);
    assert.equal(path.amplificationCredit(), 3600);
    path.onSent(3000);
    assert.equal(path.amplificationCredit(), 600);
    assert.equal(path.amplificationBlocked, false);
    path.onMtuProbeSent(1300, 600);
    assert.equal(path.amplificationCredit(), 0);
    assert.equal(path.amplificationBlocked, true);
    path.markValidated();
    assert.equal(path.amplificationCredit(), Infinity);
    assert.equal(path.amplificationBlocked, false);
  });

  it('gives no credit for datagrams from another address', () => {
    const { path } = newPath(false);
    assert.equal(path.onDatagramReceived(1200, B), false);
    assert.equal(path.amplificationCredit(), 0);
    // An IPv4-mapped IPv6 address is the same address.
    assert.equal(path.onDatagramReceived(100, { address: '::ffff:192.0.2.1', port: 4433 }), true);
    assert.equal(path.amplificationCredit(), 300);
  });

  it('starts a moved path with the credit of the datagram that moved it', () => {
    const { path } = newPath(true);
    path.onDatagramReceived(5000, A);
    path.onSent(9000);
    path.onDatagramReceived(90, B);
    assert.equal(path.moveTo(B), true, 'a new address, not only a new port');
    assert.equal(path.validated, false);
    assert.equal(path.amplificationCredit(), 270);
    path.onDatagramReceived(70, { address: B.address, port: 5001 });
    assert.equal(path.moveTo({ address: B.address, port: 5001 }), false, 'only the port changed');
    assert.equal(path.amplificationCredit(), 210);
  });
});

describe('PathState validation (RFC 9000 §8.2, §9.3.2)', () => {
  it('is validated by a PATH_RESPONSE echoing its PATH_CHALLENGE', () => {
    const { path, events } = newPath(true);
    path.onDatagramReceived(100, B);
    path.moveTo(B);
    path.startValidation(B, 0);
    const { frames, sent } = written(path, 0);
    const challenge = frames.find((f) => f.type === 'path_challenge');
    assert.ok(challenge && challenge.type === 'path_challenge');
    assert.deepEqual(sent, [{ t: 'path_challenge' }]);
    assert.equal(path.takePadForPath(), true, 'a datagram with PATH_CHALLENGE is expanded');
    assert.equal(path.takePadForPath(), false);
    path.onResponse(new Uint8Array(8).fill(0xee));
    assert.equal(path.validated, false, 'other data validates nothing');
    path.onResponse(challenge.data);
    assert.equal(path.validated, true);
    assert.deepEqual(events, [{ type: 'path-validated', remote: B }]);
    assert.equal(path.validationDeadline(100), Infinity);
  });

  it('answers a PATH_CHALLENGE from another address in a datagram of its own', () => {
    const { path } = newPath(true);
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    path.onDatagramReceived(1200, B);
    path.onChallenge(data, B);
    assert.deepEqual(written(path, 0).frames, [{ type: 'padding', length: 1 }]);
    assert.deepEqual(path.takeForeignResponse(40), { data, to: B, maxLength: 1200 });
    assert.equal(path.takeForeignResponse(40), undefined);
  });

  it('goes back to the last validated address after three unanswered attempts', () => {
    const { path } = newPath(true);
    path.onDatagramReceived(100, B);
    path.moveTo(B);
    path.startValidation(B, 0);
    written(path, 0);
    assert.equal(path.validationDeadline(100), 300);
    assert.equal(path.onTimeout(299, 100), undefined);
    assert.equal(path.onTimeout(300, 100), undefined, 'first attempt lost: try again');
    assert.equal(written(path, 300).sent.length, 1, 'the challenge is sent again');
    assert.equal(path.onTimeout(600, 100), undefined);
    assert.deepEqual(path.onTimeout(900, 100), { kind: 'reverted', to: A, addressChanged: true });
    assert.equal(path.remote, A);
    assert.equal(path.validated, true);
  });

  it('has nowhere to go back to when no address was ever validated', () => {
    const { path } = newPath(false);
    path.onDatagramReceived(100, B);
    path.moveTo(B);
    path.startValidation(B, 0);
    path.onTimeout(300, 100);
    path.onTimeout(600, 100);
    assert.deepEqual(path.onTimeout(900, 100), { kind: 'no-fallback', failed: B });
  });
});
