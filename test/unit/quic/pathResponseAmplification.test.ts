/**
 * PATH_RESPONSE and the anti-amplification limit (RFC 9000 §8, §8.2.2): a peer that spoofs a
 * victim's address and fills its packets with PATH_CHALLENGEs must not turn the connection into an
 * amplifier towards that address.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { decodeFrames, encodeFrame, type Frame } from '../../../app/quic/frame.ts';
import type { SentFrame } from '../../../app/quic/packetSpace.ts';
import { PathState } from '../../../app/quic/pathState.ts';
import type { QuicEvent } from '../../../app/quic/quicEvent.ts';
import { Pair } from '../../support/quicPair.ts';

const A = { address: '192.0.2.1', port: 4433 };
const VICTIM = { address: '203.0.113.50', port: 53 };

function challenges(n: number, seed: number): Uint8Array {
  const w = new ByteWriter(64);
  for (let i = 0; i < n; i++) encodeFrame(w, { type: 'path_challenge', data: new Uint8Array(8).fill(seed + i) });
  return w.finish().slice();
}

describe('PATH_RESPONSE within the anti-amplification limit (RFC 9000 §8.2.2)', () => {
  it('sends a spoofed address at most 3x what came from it: 100 probes with 4 PATH_CHALLENGEs each', () => {
    const p = new Pair();
    p.handshake();
    p.advance(100);
    const server = p.server!;
    let received = 0;
    let sentToVictim = 0;
    let responses = 0;
    for (let i = 0; i < 100; i++) {
      const before = server.stats.bytesReceived;
      assert.ok(p.injectFromClient(challenges(4, i * 4), VICTIM));
      received += server.stats.bytesReceived - before;
      for (let t = server.pollTransmit(p.now); t; t = server.pollTransmit(p.now)) {
        if (t.to.address !== VICTIM.address || t.to.port !== VICTIM.port) continue;
        sentToVictim += t.data.length;
        responses++;
      }
    }
    assert.equal(received, 100 * 65, 'each probe is a 65-byte datagram');
    assert.ok(
      sentToVictim <= 3 * received,
      `sent ${sentToVictim} bytes in ${responses} datagrams to the spoofed address after receiving ${received} (${(sentToVictim / received).toFixed(1)}x)`,
    );
    assert.ok(responses <= 100, `at most one PATH_RESPONSE per probe, got ${responses}`);
    assert.ok(responses > 0, 'challenges are still answered where the limit allows');
    // The real client's path is untouched.
    assert.deepEqual(server.remoteAddress, p.clientAddr);
  });

  it('still answers a client that probes a new path with a padded datagram, at 1200 bytes (§8.2.1)', () => {
    const p = new Pair();
    p.handshake();
    p.advance(100);
    const server = p.server!;
    const padded = new Uint8Array(1200 - 8 - 1 - 4 - 16);
    padded.set(challenges(1, 1));
    assert.ok(p.injectFromClient(padded, VICTIM));
    const out: number[] = [];
    for (let t = server.pollTransmit(p.now); t; t = server.pollTransmit(p.now)) {
      if (t.to.address === VICTIM.address) out.push(t.data.length);
    }
    assert.deepEqual(out, [1200]);
  });
});

describe('PathState PATH_RESPONSE bookkeeping', () => {
  function newPath(): PathState {
    const events: QuicEvent[] = [];
    return new PathState({ remote: A, validated: true, ceiling: 1200, events, onDatagramSize: () => {} });
  }

  it('queues at most one PATH_RESPONSE per path, the latest challenge', () => {
    const path = newPath();
    path.onDatagramReceived(100, A);
    for (let i = 1; i <= 4; i++) path.onChallenge(new Uint8Array(8).fill(i), A);
    const w = new ByteWriter(64);
    const sent: SentFrame[] = [];
    path.writeFrames(w, sent, 1000, 0);
    encodeFrame(w, { type: 'padding', length: 1 });
    const frames: Frame[] = decodeFrames(w.finish()).map((d) => d.frame);
    assert.deepEqual(frames, [
      { type: 'path_response', data: new Uint8Array(8).fill(4) },
      { type: 'padding', length: 1 },
    ]);
  });

  it('counts responses to another address against 3x what came from there', () => {
    const path = newPath();
    path.onDatagramReceived(60, VICTIM);
    path.onChallenge(new Uint8Array(8).fill(1), VICTIM);
    path.onChallenge(new Uint8Array(8).fill(2), VICTIM);
    assert.equal(path.takeForeignResponse(200), undefined, 'less credit than the smallest response');
    const r = path.takeForeignResponse(40);
    assert.deepEqual(r, { data: new Uint8Array(8).fill(2), to: VICTIM, maxLength: 180 });
    path.onSentOffPath(VICTIM, 180);
    assert.equal(path.takeForeignResponse(40), undefined, 'one response for the two challenges');
    path.onDatagramReceived(30, VICTIM);
    path.onChallenge(new Uint8Array(8).fill(3), VICTIM);
    assert.deepEqual(path.takeForeignResponse(40), { data: new Uint8Array(8).fill(3), to: VICTIM, maxLength: 90 });
  });

  it('keeps the counters of a bounded number of other addresses', () => {
    const path = newPath();
    for (let i = 0; i < 1000; i++) {
      const from = { address: '203.0.113.1', port: 1000 + i };
      path.onDatagramReceived(1200, from);
      path.onChallenge(new Uint8Array(8).fill(i & 0xff), from);
    }
    let n = 0;
    while (path.takeForeignResponse(40)) n++;
    assert.ok(n <= 8, `${n} responses owed`);
  });
});
