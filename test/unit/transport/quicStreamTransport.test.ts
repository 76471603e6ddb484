/**
 * `QuicStreamTransport` over two of our own `QuicEndpoint`s on loopback: bytes both ways, the
 * orderly end (FIN), and a peer's RESET_STREAM reaching `onClose` as an error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { QuicStreamTransport } from '../../../app/transport/quicStreamTransport.ts';
import { TransportError } from '../../../app/transport/transportError.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';
const text = new TextDecoder();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Setup {
  server: QuicEndpoint;
  client: QuicEndpoint;
  conn: QuicConnectionHandle;
  /** The server's side, wrapped as soon as the stream opens (the handle emits data right away). */
  serverStream: Promise<QuicStreamTransport>;
}

async function setup(): Promise<Setup> {
  const server = await QuicEndpoint.bind();
  let gotStream!: (s: QuicStreamTransport) => void;
  const serverStream = new Promise<QuicStreamTransport>((res) => (gotStream = res));
  server.listen({
    alpn: [ALPN],
    ...testCertificate(),
    onConnection: (c) => c.on('stream', (s: QuicStreamHandle) => gotStream(new QuicStreamTransport(s, 'quic server'))),
  });
  const client = await QuicEndpoint.bind();
  const conn = client.connect({ serverName: 'quic.example', alpn: [ALPN], remoteAddress: server.address });
  conn.on('peer-certificate', () => conn.acceptPeer());
  await conn.established;
  return { server, client, conn, serverStream };
}

async function teardown(s: Setup): Promise<void> {
  await s.client.close();
  await s.server.close();
}

/** Collects what a transport delivers until it closes. */
function collect(t: QuicStreamTransport): Promise<{ data: string; error: Error | null }> {
  return new Promise((resolve) => {
    let data = '';
    t.setHandlers({
      onData: (c) => (data += text.decode(c)),
      onClose: (error) => resolve({ data, error }),
    });
  });
}

describe('QuicStreamTransport', { timeout: 20_000 }, () => {
  it('carries bytes both ways and ends in order (FIN both sides)', async () => {
    const s = await setup();
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      const clientDone = collect(clientT);
      clientT.write(bytes('<stream:stream to="gamma.test">'));
      const serverT = await s.serverStream;
      const serverDone = new Promise<{ data: string; error: Error | null }>((resolve) => {
        let data = '';
        serverT.setHandlers({
          onData: (c) => {
            data += text.decode(c);
            if (data.endsWith('</stream:stream>')) {
              serverT.write(bytes('<stream:stream from="gamma.test">'));
              serverT.end();
            }
          },
          onClose: (error) => resolve({ data, error }),
        });
      });
      clientT.write(bytes('</stream:stream>'));
      clientT.end();
      assert.deepEqual(await serverDone, { data: '<stream:stream to="gamma.test"></stream:stream>', error: null });
      assert.deepEqual(await clientDone, { data: '<stream:stream from="gamma.test">', error: null });
    } finally {
      await teardown(s);
    }
  });

  it('reports a peer RESET_STREAM to onClose as a typed error', async () => {
    const s = await setup();
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      const clientDone = collect(clientT);
      clientT.write(bytes('<stream:stream>'));
      const serverT = await s.serverStream;
      serverT.setHandlers({ onData: () => undefined, onClose: () => undefined });
      serverT.stream.reset(7);
      const { error } = await clientDone;
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, 'quic-stream-reset');
      assert.match(error.message, /reset the QUIC stream \(application error 7\)/);
    } finally {
      await teardown(s);
    }
  });

  it('reports the connection closing under the stream as an error', async () => {
    const s = await setup();
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      const clientDone = collect(clientT);
      clientT.write(bytes('<stream:stream>'));
      s.conn.close(1, 'going away');
      const { error } = await clientDone;
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, 'quic-connection-closed');
    } finally {
      await teardown(s);
    }
  });
});
