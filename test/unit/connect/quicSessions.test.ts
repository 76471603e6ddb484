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
import { keepAliveInterval } from '../../../app/connect/quicKeepAlive.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import type { QuicStreamTransport } from '../../../app/transport/quicStreamTransport.ts';
import type { TransportParameters } from '../../../app/quic/transportParameters.ts';
import { Pair, testCertificate } from '../../support/quicPair.ts';
import type { QuicEvent } from '../../../app/quic/quicEvent.ts';

const ALPN = 'xmpp-client';

/**
 * A server that echoes what each stream carries and ends each stream when the client ends it.
 * `streams` are the server's sides, in the order they opened.
 */
async function server(
  transportParams: Partial<TransportParameters> = {},
): Promise<{ ep: QuicEndpoint; conns: QuicConnectionHandle[]; streams: QuicStreamHandle[] }> {
  const ep = await QuicEndpoint.bind();
  const conns: QuicConnectionHandle[] = [];
  const streams: QuicStreamHandle[] = [];
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    transportParams,
    onConnection: (c) => {
      conns.push(c);
      c.on('stream', (s: QuicStreamHandle) => {
        streams.push(s);
        s.on('data', (chunk: Uint8Array) => s.write(chunk));
        s.on('end', () => s.end());
      });
    },
  });
  return { ep, conns, streams };
}

function closedOf(t: QuicStreamTransport): Promise<Error | null> {
  return new Promise((resolve) => t.setHandlers({ onData: () => undefined, onClose: resolve }));
}

/** An account's side for echo tests: `send` writes and resolves with the echo of exactly that text. */
function echoing(t: QuicStreamTransport): { send(text: string): Promise<string>; closed: Promise<Error | null> } {
  let received = '';
  let want: { text: string; resolve: (s: string) => void } | null = null;
  const decoder = new TextDecoder();
  const closed = new Promise<Error | null>((resolve) =>
    t.setHandlers({
      onData: (chunk) => {
        received += decoder.decode(chunk);
        if (want && received.endsWith(want.text)) {
          want.resolve(received);
          want = null;
        }
      },
      onClose: resolve,
    }),
  );
  return {
    closed,
    send: (text) =>
      new Promise((resolve) => {
        received = '';
        want = { text, resolve };
        t.write(new TextEncoder().encode(text));
      }),
  };
}

const verifyAll = async (): Promise<boolean> => true;

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

describe('QuicSessions: streams on a shared connection', { timeout: 20_000 }, () => {
  it('waits for stream credit when the server allows no further stream, then opens on the same connection', async () => {
    const { ep, conns } = await server({ initialMaxStreamsBidi: 1 });
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const a = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      let bSettled = false;
      const b = pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      void b.finally(() => (bSettled = true)).catch(() => undefined);
      // The second account waits (it is not failed with quic-streams-exhausted at once) ...
      const aEcho = echoing(a.transport);
      assert.equal(await aEcho.send('<presence/>'), '<presence/>');
      assert.equal(bSettled, false);
      // ... until the first stream closes and the server returns its credit (MAX_STREAMS).
      a.transport.end();
      assert.equal(await aEcho.closed, null);
      const lease = await b;
      assert.equal(lease.shared, true);
      assert.equal(conns.length, 1);
      assert.equal(await echoing(lease.transport).send('<iq/>'), '<iq/>');
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 1 });
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it('fails with quic-streams-exhausted when no credit comes within the timeout, and the others carry on', async () => {
    const { ep } = await server({ initialMaxStreamsBidi: 1 });
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const a = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      await assert.rejects(
        pool.acquire(target, { timeoutMs: 300, verify: verifyAll }),
        (e: unknown) =>
          e instanceof ConnectError && e.code === 'quic-streams-exhausted' && /no further QUIC stream/.test(e.message),
      );
      const controller = new AbortController();
      const c = pool.acquire(target, { timeoutMs: 5000, verify: verifyAll, signal: controller.signal });
      controller.abort();
      await assert.rejects(c, (e: unknown) => e instanceof ConnectError && e.code === 'aborted');
      assert.equal(await echoing(a.transport).send('<presence/>'), '<presence/>');
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 1 });
    } finally {
      await pool.close();
      await ep.close();
    }
  });

  it("keeps an account exchanging bytes when another account's stream is reset", async () => {
    // Two streams at a time: the third account opens only if the reset stream's credit comes back.
    const { ep, streams } = await server({ initialMaxStreamsBidi: 2 });
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const a = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      const b = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      const aEcho = echoing(a.transport);
      const bEcho = echoing(b.transport);
      assert.equal(await aEcho.send('<a/>'), '<a/>');
      assert.equal(await bEcho.send('<b/>'), '<b/>');
      const serverB = streams.find((s) => s.id === b.transport.stream.id)!;
      serverB.reset(9);
      const bError = await bEcho.closed;
      assert.ok(bError instanceof Error && /reset the QUIC stream/.test(bError.message));
      for (let i = 0; i < 5; i++) assert.equal(await aEcho.send(`<a n="${i}"/>`), `<a n="${i}"/>`);
      assert.deepEqual(pool.stats(), { endpoints: 1, connections: 1, streams: 1 });
      // The reset stream's credit is back: a third account opens on the same connection.
      const c = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      assert.equal(c.shared, true);
      assert.equal(c.connection, a.connection);
      assert.equal(await echoing(c.transport).send('<c/>'), '<c/>');
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});

describe('QuicSessions: waiting for stream credit', { timeout: 20_000 }, () => {
  it('serves twelve waiters first come, first served as credit returns one stream at a time, without a listener warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const { ep } = await server({ initialMaxStreamsBidi: 1 });
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const first = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      const served: number[] = [];
      const waiters = Array.from({ length: 12 }, (_, i) =>
        pool.acquire(target, { timeoutMs: 15_000, verify: verifyAll }).then((lease) => {
          served.push(i);
          return lease;
        }),
      );
      // Each lease, once served, gives its stream back: the server returns one credit at a time.
      let holder = first;
      for (let i = 0; i < waiters.length; i++) {
        const echo = echoing(holder.transport);
        holder.transport.end();
        assert.equal(await echo.closed, null);
        holder = await waiters[i]!;
        assert.deepEqual(
          served,
          Array.from({ length: i + 1 }, (_, k) => k),
          'served in the order they asked',
        );
        assert.equal(holder.connection, first.connection);
      }
      assert.equal(await echoing(holder.transport).send('<last/>'), '<last/>');
      // process 'warning' is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.map((w) => w.name),
        [],
        warnings.map((w) => w.message).join('; '),
      );
    } finally {
      process.off('warning', onWarning);
      await pool.close();
      await ep.close();
    }
  });
});

describe('QuicSessions: the server opens no streams', { timeout: 20_000 }, () => {
  it("allows the server no stream of either kind in the client's transport parameters (XEP-0467)", async () => {
    const { ep, conns } = await server();
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const a = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      const serverSide = conns[0]!;
      const told = serverSide.connection.peerTransportParameters;
      assert.equal(told?.initialMaxStreamsBidi, 0);
      assert.equal(told?.initialMaxStreamsUni, 0);
      // The server's stack refuses to open one (a stream it forced would be STREAM_LIMIT_ERROR).
      assert.equal(serverSide.openStream(true), null);
      assert.equal(serverSide.openStream(false), null);
      assert.equal(await echoing(a.transport).send('<presence/>'), '<presence/>');
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});

describe('QuicSessions: keep-alive', { timeout: 20_000 }, () => {
  it('pings at a third of the idle timeout in force (at least three PTOs), between 1 s and 25 s', () => {
    const pto = 50;
    assert.equal(keepAliveInterval(10_000, pto), 3333);
    assert.equal(keepAliveInterval(30_000, pto), 10_000);
    assert.equal(keepAliveInterval(120_000, pto), 25_000);
    // Neither side set an idle timeout: only the NAT's binding matters.
    assert.equal(keepAliveInterval(0, pto), 25_000);
    // RFC 9000 §10.1: the idle timeout is at least three PTOs, so a slow path pings less often.
    assert.equal(keepAliveInterval(3000, 2000), 2000);
    assert.equal(keepAliveInterval(10_000, 20_000), 20_000);
    // A tiny advertised idle timeout does not make the session ping in a loop.
    assert.equal(keepAliveInterval(600, 10), 1000);
    assert.equal(keepAliveInterval(1, 0), 1000);
    for (const idle of [1, 600, 3000, 10_000, 49_999, 50_000, 60_000, 600_000])
      for (const ptoMs of [0, 1, 50, 400, 5000]) {
        const interval = keepAliveInterval(idle, ptoMs);
        const effective = Math.max(idle, 3 * ptoMs);
        assert.ok(interval >= 1000 && interval <= 25_000, `${interval} ms for ${idle} ms / PTO ${ptoMs} ms`);
        if (effective >= 3000) assert.ok(interval <= effective / 3, `${interval} ms for ${effective} ms in force`);
      }
  });

  it('keeps a session that carries streams alive past the idle timeout on a real socket, and only then', async () => {
    // The one real-time check (the cadence is tested on the simulated clock below): the pool sets
    // the interval on a real handle and the endpoint's timer sends the PINGs. The server advertises
    // 3 s (RFC 9000 §10.1: the smaller one applies).
    const idleMs = 3000;
    const { ep, conns } = await server({ maxIdleTimeout: idleMs });
    const pool = new QuicSessions();
    try {
      const target: QuicTarget = { address: '127.0.0.1', port: ep.address.port, sni: 'gamma.test', alpn: ALPN };
      const a = await pool.acquire(target, { timeoutMs: 5000, verify: verifyAll });
      const connection = a.connection.connection;
      assert.equal(connection.idleTimeout, idleMs);
      const interval = connection.keepAliveInterval;
      assert.ok(interval >= 1000 && interval <= idleMs / 2, `keep-alive every ${interval} ms`);
      const aEcho = echoing(a.transport);
      // Silence from both applications for longer than the idle timeout in force: only the pool's
      // PINGs keep it up. A close ends the wait at once.
      const inForce = Math.max(idleMs, 3 * connection.pto);
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<'quiet'>((resolve) => (timer = setTimeout(() => resolve('quiet'), inForce + 1000)));
      try {
        assert.equal(await Promise.race([quiet, aEcho.closed, conns[0]!.closed]), 'quiet');
      } finally {
        clearTimeout(timer);
      }
      assert.equal(await aEcho.send('<presence/>'), '<presence/>');
      // The last stream gone, the session carries nothing: no keep-alive (and the pool closes it).
      a.transport.end();
      assert.equal(await aEcho.closed, null);
      assert.equal(connection.keepAliveInterval, 0);
    } finally {
      await pool.close();
      await ep.close();
    }
  });
});

describe('QuicSessions: keep-alive cadence on a simulated clock', () => {
  const closed = (events: QuicEvent[]) => events.find((e) => e.type === 'closed');

  for (const idleMs of [3000, 10_000, 60_000]) {
    it(`a server advertising ${idleMs} ms: one PING per interval, no idle close, and the idle close once it stops`, () => {
      const p = new Pair({
        seed: idleMs,
        link: { latency: 30 },
        server: { transportParams: { maxIdleTimeout: idleMs } },
      });
      p.handshake();
      // The pool's policy, as `QuicSessions` applies it to a connection that carries streams.
      const interval = keepAliveInterval(p.client.idleTimeout, p.client.pto);
      p.client.setKeepAliveInterval(interval);
      const inForce = Math.max(p.client.idleTimeout, 3 * p.client.pto);
      p.advance(2 * interval);
      const before = p.sentToServer;
      const rounds = 20;
      p.advance(rounds * interval);
      // Nothing else is sent by the client: every datagram is a PING (ack-only replies elicit none).
      const pings = p.sentToServer - before;
      assert.ok(Math.abs(pings - rounds) <= 1, `${pings} PINGs in ${rounds} intervals of ${interval} ms`);
      assert.equal(closed(p.clientEvents), undefined, 'client stayed up');
      assert.equal(closed(p.serverEvents), undefined, 'server stayed up');
      // No streams left: no keep-alive, and the idle timeout in force ends the connection.
      p.client.setKeepAliveInterval(0);
      const off = p.now;
      p.driveUntil(() => closed(p.clientEvents) !== undefined);
      const event = closed(p.clientEvents)!;
      assert.equal(event.type === 'closed' && event.codeName, 'idle timeout');
      assert.ok(p.now - off <= inForce + 100, `idle close ${p.now - off} ms after the last PING`);
    });
  }
});
