/**
 * Fuzzing with a fixed seed and a bounded count: random, truncated, bit-flipped and spliced
 * datagrams into client and server connections at several stages. Nothing may throw out of the
 * machine, and a connection that survives must still be able to finish its work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QuicConnection, SocketAddress } from '../../../app/quic/quicConnection.ts';
import { Pair } from '../../support/quicPair.ts';
import { seededRandom } from '../../support/seededRandom.ts';

const ROUNDS = 1500;

/** Records every datagram of a clean handshake + transfer, as raw material for mutation. */
function corpus(): { toServer: Uint8Array[]; toClient: Uint8Array[] } {
  const p = new Pair({ seed: 3 });
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const c = p.client;
  const origC = c.pollTransmit.bind(c);
  c.pollTransmit = (now: number) => {
    const t = origC(now);
    if (t) toServer.push(t.data.slice());
    return t;
  };
  p.driveUntil(() => p.server !== null);
  const s = p.server!;
  const origS = s.pollTransmit.bind(s);
  s.pollTransmit = (now: number) => {
    const t = origS(now);
    if (t) toClient.push(t.data.slice());
    return t;
  };
  p.handshake();
  const id = p.client.openStream(true)!;
  p.client.streamWrite(id, new Uint8Array(5000).fill(7), true);
  p.advance(200);
  return { toServer, toClient };
}

function mutate(rng: () => number, samples: Uint8Array[]): Uint8Array {
  const pick = samples[Math.floor(rng() * samples.length)]!;
  const kind = Math.floor(rng() * 6);
  switch (kind) {
    case 0: {
      const n = Math.floor(rng() * 1400);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
      return out;
    }
    case 1:
      return pick.slice(0, Math.floor(rng() * pick.length));
    case 2: {
      const out = pick.slice();
      const flips = 1 + Math.floor(rng() * 4);
      for (let i = 0; i < flips && out.length > 0; i++)
        out[Math.floor(rng() * out.length)]! ^= 1 << Math.floor(rng() * 8);
      return out;
    }
    case 3: {
      // Keep the header, randomize the rest (exercises header parsing with plausible prefixes).
      const out = pick.slice();
      for (let i = Math.min(out.length, 1 + Math.floor(rng() * 30)); i < out.length; i++)
        out[i] = Math.floor(rng() * 256);
      return out;
    }
    case 4: {
      // Absurd lengths: rewrite a byte in the header region to 0xff/0x3f/0xc0.
      const out = pick.slice();
      if (out.length > 0)
        out[Math.floor(rng() * Math.min(out.length, 40))] = [0xff, 0x3f, 0xc0, 0x00][Math.floor(rng() * 4)]!;
      return out;
    }
    default: {
      // Two datagrams spliced: coalescing confusion.
      const other = samples[Math.floor(rng() * samples.length)]!;
      const out = new Uint8Array(pick.length + other.length);
      out.set(pick, 0);
      out.set(other, pick.length);
      return out.subarray(0, Math.min(out.length, 1500 + Math.floor(rng() * 200)));
    }
  }
}

function hammer(
  conn: QuicConnection,
  rng: () => number,
  samples: Uint8Array[],
  from: SocketAddress,
  now: number,
  count: number,
): void {
  for (let i = 0; i < count; i++) {
    conn.handleDatagram(mutate(rng, samples), from, now + i * 0.01);
    for (let t = conn.pollTransmit(now); t; t = conn.pollTransmit(now)) {
      assert.ok(t.data.length <= 1500);
    }
    const timeout = conn.pollTimeout();
    if (timeout !== undefined && timeout <= now) conn.handleTimeout(now);
    while (conn.pollEvent());
  }
}

describe('fuzzing (fixed seed, bounded)', () => {
  const { toServer, toClient } = corpus();

  it('a fresh server survives mutated client datagrams', () => {
    const rng = seededRandom(1234);
    const p = new Pair({ seed: 11 });
    p.driveUntil(() => p.server !== null);
    hammer(p.server!, rng, toServer, p.clientAddr, p.now, ROUNDS);
  });

  it('a client mid-handshake survives mutated server datagrams', () => {
    const rng = seededRandom(99);
    const p = new Pair({ seed: 12 });
    hammer(p.client, rng, toClient, p.serverAddr, p.now, ROUNDS);
  });

  it('established connections survive garbage and still transfer data', () => {
    const rng = seededRandom(7);
    const p = new Pair({ seed: 13 });
    p.handshake();
    for (let i = 0; i < ROUNDS / 5; i++) {
      p.server!.handleDatagram(mutate(rng, toServer), p.clientAddr, p.now);
      p.client.handleDatagram(mutate(rng, toClient), p.serverAddr, p.now);
    }
    // Short-header garbage can only be dropped (it fails authentication): the connection lives on.
    assert.equal(p.client.isClosed, false);
    assert.equal(p.server!.isClosed, false);
    const id = p.client.openStream(true)!;
    p.client.streamWrite(id, new Uint8Array(20_000).fill(1), true);
    let got = 0;
    p.driveUntil(() => {
      for (const e of p.serverEvents.splice(0)) {
        if (e.type !== 'stream-readable') continue;
        for (let c = p.server!.streamRead(e.id); c; c = p.server!.streamRead(e.id)) got += c.length;
      }
      return got === 20_000;
    });
  });
});

describe('frame-level fuzzing (fixed seed, bounded)', () => {
  it('random frame payloads in authentic packets never throw and never end in INTERNAL_ERROR', () => {
    const rng = seededRandom(2024);
    let closes = 0;
    for (let conn = 0; conn < 12; conn++) {
      const p = new Pair({ seed: 100 + conn });
      p.handshake();
      for (let i = 0; i < 60 && !p.server!.isClosed; i++) {
        // Mostly valid-looking frame types with random bodies, sometimes pure noise.
        const n = 1 + Math.floor(rng() * 60);
        const payload = new Uint8Array(n);
        for (let j = 0; j < n; j++) payload[j] = Math.floor(rng() * 256);
        if (rng() < 0.8) payload[0] = Math.floor(rng() * 0x1f);
        p.injectFromClient(payload);
        p.flush();
      }
      const closed = p.serverEvents.find((e) => e.type === 'closed');
      if (closed && closed.type === 'closed') {
        closes++;
        assert.notEqual(closed.code, 0x01, `INTERNAL_ERROR: ${closed.reason}`);
      }
    }
    assert.ok(closes > 0, 'some payloads were protocol errors');
  });
});
