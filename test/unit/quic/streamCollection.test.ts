/**
 * A finished stream's handle is freed: `QuicConnectionHandle` drops a `QuicStreamHandle` once the
 * connection forgets the stream (`stream-collected`), so streams that a peer opens and resets
 * without end do not pile up until the connection ends. Loopback, two of our own endpoints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';
const STREAMS = 1000;
const BATCH = 20;

/** Opens one stream and ends it one of four ways; resolves once the client saw its final event. */
async function churn(client: QuicConnectionHandle, n: number): Promise<void> {
  let s = client.openStream(true);
  // The server's MAX_STREAMS follows its own collection; wait for credit (bounded by the test timeout).
  while (!s) {
    await new Promise((resolve) => client.once('streams-available', resolve));
    s = client.openStream(true);
  }
  const stream = s;
  return new Promise((resolve) => {
    const s = stream;
    const way = n % 4;
    s.on('data', () => undefined);
    s.on('end', () => resolve());
    s.on('reset', () => resolve());
    s.on('close', () => resolve());
    s.write(new TextEncoder().encode(`<m n="${n}"/>`), way === 0);
    // 1: the client resets its half and stops the server's; 2: the server resets (it sees the
    // marker); 3: the client finishes and the server resets instead of echoing FIN.
    if (way === 1) {
      s.reset(7);
      s.stopSending(7);
    } else if (way === 3) s.end();
  });
}

describe('QuicConnectionHandle: finished streams are freed', { timeout: 60_000 }, () => {
  it(`keeps its stream map small while ${STREAMS} streams open, finish and reset both ways`, async () => {
    const ep = await QuicEndpoint.bind();
    const serverConns: QuicConnectionHandle[] = [];
    ep.listen({
      alpn: [ALPN],
      ...testCertificate(),
      onConnection: (c) => {
        serverConns.push(c);
        c.on('stream', (s: QuicStreamHandle) => {
          let way = -1;
          s.on('data', (chunk: Uint8Array) => {
            way = Number(/n="(\d+)"/.exec(new TextDecoder().decode(chunk))?.[1] ?? 0) % 4;
            if (way === 2) {
              s.reset(9);
              s.stopSending(9);
            } else if (way === 0) s.write(chunk);
          });
          // Way 3: answer the client's FIN with a reset; way 0: echo FIN.
          s.on('end', () => (way === 3 ? s.reset(5) : s.end()));
          s.on('reset', (code: number) => s.reset(code));
          s.on('stop-sending', (code: number) => s.reset(code));
        });
      },
    });
    const clientEp = await QuicEndpoint.bind();
    const client = clientEp.connect({
      serverName: 'quic.example',
      alpn: [ALPN],
      remoteAddress: { address: '127.0.0.1', port: ep.address.port },
    });
    client.on('peer-certificate', () => client.acceptPeer());
    try {
      await client.established;
      let peak = 0;
      for (let base = 0; base < STREAMS; base += BATCH) {
        const batch: Promise<void>[] = [];
        for (let n = base; n < base + BATCH; n++) batch.push(churn(client, n));
        await Promise.all(batch);
        peak = Math.max(peak, client.streamCount, serverConns[0]!.streamCount);
      }
      assert.equal(client.closeInfo, null);
      // A stream is forgotten once both halves are done and acknowledged: at most a few batches linger.
      assert.ok(peak <= 4 * BATCH, `peak of ${peak} stream handles after ${STREAMS} streams`);
      assert.ok(client.streamCount <= 4 * BATCH, `${client.streamCount} client stream handles left`);
      assert.ok(serverConns[0]!.streamCount <= 4 * BATCH, `${serverConns[0]!.streamCount} server stream handles left`);
    } finally {
      client.close(0, 'done');
      await clientEp.close();
      await ep.close();
    }
  });
});
