/**
 * `QuicSessions` against one of our own QUIC endpoints on loopback: two streams to the same
 * (address, port, SNI) share one connection, the connection closes after its last stream, and a
 * verifier that says no rejects the peer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { QuicSessions, type QuicTarget } from '../../../app/connect/quicSessions.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import type { QuicStreamTransport } from '../../../app/transport/quicStreamTransport.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';

/** A server that ends each stream when the client ends it. */
async function server(): Promise<{ ep: QuicEndpoint; conns: QuicConnectionHandle[] }> {
  const ep = await QuicEndpoint.bind();
  const conns: QuicConnectionHandle[] = [];
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    onConnection: (c) => {
      conns.push(c);
      c.on('stream', (s: QuicStreamHandle) => {
        s.on('data', () => undefined);
        s.on('end', () => s.end());
      });
    },
  });
  return { ep, conns };
}

function closedOf(t: QuicStreamTransport): Promise<Error | null> {
  return new Promise((resolve) => t.setHandlers({ onData: () => undefined, onClose: resolve }));
}

describe('QuicSessions', { timeout: 20_000 }, () => {
  it('shares one connection between two streams and closes it after the last one', async () => {
    const { ep, conns } = await server();
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const verified: number[] = [];
      const verify = async (chain: Uint8Array[]) => {
        verified.push(chain.length);
        return true;
      };
      const [a, b] = await Promise.all([
        pool.acquire(target, { timeoutMs: 5000, verify }),
        pool.acquire(target, { timeoutMs: 5000, verify }),
      ]);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 2 });
      assert.equal(conns.length, 1);
      assert.equal(b.shared, true);
      assert.equal(b.tlsFacts?.alpn, ALPN);
      assert.equal(b.tlsFacts?.version, 'TLSv1.3');
      // Each caller verified the chain for itself.
      assert.deepEqual(verified, [1, 1]);

      const aClosed = closedOf(a.transport);
      a.transport.end();
      assert.equal(await aClosed, null);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 1 });

      const bClosed = closedOf(b.transport);
      b.transport.end();
      assert.equal(await bClosed, null);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 0, streams: 0 });
      const info = await conns[0]!.closed;
      assert.deepEqual([info.code, info.app, info.local], [0, true, false]);
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it('rejects the peer when the verifier says no', async () => {
    const { ep } = await server();
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      await assert.rejects(
        pool.acquire(target, { timeoutMs: 5000, verify: async () => false }),
        (e: unknown) => e instanceof ConnectError && e.code === 'untrusted',
      );
      assert.equal(pool.stats().streams, 0);
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});
