/**
 * `QuicStreamTransport` over two of our own `QuicEndpoint`s on loopback: bytes both ways, the
 * orderly end (FIN), a peer's RESET_STREAM and STOP_SENDING reaching `onClose` as errors, and
 * both halves of the stream closed afterwards so the server returns its stream credit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { QuicStreamTransport } from '../../../app/transport/quicStreamTransport.ts';
import { TransportError } from '../../../app/transport/transportError.ts';
import type { TransportParameters } from '../../../app/quic/transportParameters.ts';
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

async function setup(transportParams: Partial<TransportParameters> = {}): Promise<Setup> {
  const server = await QuicEndpoint.bind();
  let gotStream!: (s: QuicStreamTransport) => void;
  const serverStream = new Promise<QuicStreamTransport>((res) => (gotStream = res));
  server.listen({
    alpn: [ALPN],
    ...testCertificate(),
    transportParams,
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

/**
 * Resolves with the first `event` argument `emitter` emits, or rejects after `ms` naming what never
 * came (a test that awaits it fails; one that ended before does not leave an unhandled rejection).
 */
function next<T>(emitter: QuicStreamHandle | QuicConnectionHandle, event: string, ms = 5000): Promise<T> {
  const waiting = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    const on = (value: T): void => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, on);
  });
  waiting.catch(() => undefined);
  return waiting;
}

describe('QuicStreamTransport: closing both halves', { timeout: 20_000 }, () => {
  it('answers a peer RESET_STREAM with its own, so the stream closes and its credit comes back', async () => {
    // One stream at a time: the second opens only once the server has collected the first.
    const s = await setup({ initialMaxStreamsBidi: 1 });
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      const clientDone = collect(clientT);
      clientT.write(bytes('<stream:stream>'));
      const serverT = await s.serverStream;
      serverT.setHandlers({ onData: () => undefined, onClose: () => undefined });
      const resetBack = next<number>(serverT.stream, 'reset');
      assert.equal(s.conn.openStream(true), null, 'the server allows one stream');
      const credit = next<boolean>(s.conn, 'streams-available');
      serverT.stream.reset(7);
      assert.equal((await clientDone).error?.constructor, TransportError);
      // RFC 9000 §3.2: the server's receiving half ends only with our FIN or RESET_STREAM.
      assert.equal(await resetBack, 0);
      // RFC 9000 §4.6: the closed stream's credit comes back as MAX_STREAMS.
      await credit;
      assert.notEqual(s.conn.openStream(true), null);
    } finally {
      await teardown(s);
    }
  });

  it('reports STOP_SENDING as an error and answers it with RESET_STREAM (RFC 9000 §3.5)', async () => {
    const s = await setup({ initialMaxStreamsBidi: 1 });
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      const clientDone = collect(clientT);
      clientT.write(bytes('<stream:stream>'));
      const serverT = await s.serverStream;
      serverT.setHandlers({ onData: () => undefined, onClose: () => undefined });
      const resetBack = next<number>(serverT.stream, 'reset');
      const stopBack = next<number>(serverT.stream, 'stop-sending');
      const credit = next<boolean>(s.conn, 'streams-available');
      serverT.stream.stopSending(5);
      const { error } = await clientDone;
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, 'quic-stream-stopped');
      assert.match(error.message, /stopped reading the QUIC stream \(application error 5\)/);
      // Later writes are refused quietly: the transport is closed and said so.
      clientT.write(bytes('<presence/>'));
      assert.equal(await resetBack, 5);
      // Our receiving half is not wanted either: the server is asked to stop, and the stream closes.
      assert.equal(await stopBack, 0);
      await credit;
      assert.notEqual(s.conn.openStream(true), null);
    } finally {
      await teardown(s);
    }
  });

  it('destroy() closes both halves and the credit comes back', async () => {
    const s = await setup({ initialMaxStreamsBidi: 1 });
    try {
      const clientT = new QuicStreamTransport(s.conn.openStream(true)!, 'quic test');
      collect(clientT).catch(() => undefined);
      clientT.write(bytes('<stream:stream>'));
      const serverT = await s.serverStream;
      // The server answers our STOP_SENDING with RESET_STREAM by itself (the stream manager does).
      serverT.setHandlers({ onData: () => undefined, onClose: () => undefined });
      const credit = next<boolean>(s.conn, 'streams-available');
      clientT.destroy();
      await credit;
      assert.notEqual(s.conn.openStream(true), null);
    } finally {
      await teardown(s);
    }
  });
});
