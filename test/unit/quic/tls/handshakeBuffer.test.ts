/**
 * The bytes of an epoch the TLS machine has not yet parsed into messages: appending must cost
 * the same per byte however the peer splits a message (RFC 9000 §21.7 applies to CRYPTO data
 * too: a peer that sends a large handshake message one byte per CRYPTO frame must not make each
 * byte cost a copy of everything before it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeBuffer } from '../../../../app/quic/tls/handshakeIo.ts';
import { MAX_BUFFERED_HANDSHAKE_BYTES, TlsHandshake } from '../../../../app/quic/tls/tlsHandshake.ts';

describe('HandshakeBuffer', () => {
  it('appends, peeks and takes whole messages in order', () => {
    const b = new HandshakeBuffer(MAX_BUFFERED_HANDSHAKE_BYTES);
    for (let i = 0; i < 10; i++) b.append(Uint8Array.of(i * 2, i * 2 + 1));
    assert.equal(b.length, 20);
    assert.equal(b.at(3), 3);
    assert.deepEqual(b.take(5), Uint8Array.of(0, 1, 2, 3, 4));
    assert.equal(b.length, 15);
    assert.equal(b.at(0), 5);
    const rest = b.take(15);
    assert.deepEqual(
      rest,
      Uint8Array.from({ length: 15 }, (_, i) => i + 5),
    );
    assert.equal(b.length, 0);
    b.append(Uint8Array.of(42));
    assert.deepEqual(b.take(1), Uint8Array.of(42));
  });

  it('a taken message is a copy that later appends do not change', () => {
    const b = new HandshakeBuffer(MAX_BUFFERED_HANDSHAKE_BYTES);
    b.append(Uint8Array.of(1, 2, 3, 4));
    const taken = b.take(2);
    b.append(new Uint8Array(1000).fill(9));
    assert.deepEqual(taken, Uint8Array.of(1, 2));
    assert.deepEqual(b.take(2), Uint8Array.of(3, 4));
  });
});

describe('TlsHandshake input (RFC 9000 §21.7)', () => {
  it('each byte of a handshake message fed one byte at a time costs the same, however much is buffered', () => {
    // A ServerHello header announcing a message just under the limit, `buffered` bytes of its
    // body, then 6,000 more one byte per call (one CRYPTO frame each). Nothing can be parsed.
    const perByte = (buffered: number): number => {
      let best = Infinity;
      for (let rep = 0; rep < 5; rep++) {
        const tls = new TlsHandshake({
          role: 'client',
          serverName: 'quic.example',
          alpn: ['xmpp-client'],
          transportParameters: new Uint8Array(0),
          now: () => 0,
        });
        tls.start();
        while (tls.pollOutput()) continue;
        const length = MAX_BUFFERED_HANDSHAKE_BYTES - 4;
        tls.handleCrypto('initial', Uint8Array.of(2, length >> 16, (length >> 8) & 0xff, length & 0xff));
        tls.handleCrypto('initial', new Uint8Array(buffered));
        const one = Uint8Array.of(0);
        const t0 = performance.now();
        for (let i = 0; i < 6_000; i++) tls.handleCrypto('initial', one);
        best = Math.min(best, (performance.now() - t0) / 6_000);
        assert.equal(tls.pollEvent(), undefined, 'nothing happens before the message is complete');
      }
      return best;
    };
    const empty = perByte(0);
    const full = perByte(MAX_BUFFERED_HANDSHAKE_BYTES - 10_000);
    assert.ok(
      full < 3 * empty,
      `${(full * 1000).toFixed(3)} µs per byte behind 54 KB, ${(empty * 1000).toFixed(3)} behind nothing`,
    );
  });
});
