/**
 * `QuicGateway` on loopback: a TCP backend that records its connections, the gateway in front, and
 * our own QUIC client. Each stream is one backend connection; whatever ends one side ends the
 * other (stream reset, connection close, idle timeout, backend close or failure); the limits hold;
 * one record per connection event.
 */
import assert from 'node:assert/strict';
import { KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { QuicGateway, type GatewayLimits } from '../../../app/gateway/quicGateway.ts';
import { formatGatewayRecord, type GatewayLogRecord } from '../../../app/gateway/gatewayLog.ts';
import {
  GATEWAY_BACKEND_ERROR,
  GATEWAY_BACKEND_LIMIT,
  GATEWAY_BUFFER_LIMIT,
  GATEWAY_CANCELLED,
  GATEWAY_FIRST_BYTE_TIMEOUT,
  GATEWAY_NO_ERROR,
} from '../../../app/gateway/streamBridge.ts';
import { testCertificate } from '../../support/quicPair.ts';
import type { GatewayCertificate } from '../../../app/gateway/certificateSelector.ts';
import { makeCertificate } from '../security/certFactory.ts';
import { Backend, ClientStream, openStream, quicClient, within } from './gatewayHarness.ts';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';

const BOUND = 5_000;

interface Setup {
  backend: Backend;
  gateway: QuicGateway;
  records: GatewayLogRecord[];
  /** Resolves with the next record of `type` (the records are also kept in `records`). */
  nextRecord<T extends GatewayLogRecord['type']>(type: T): Promise<Extract<GatewayLogRecord, { type: T }>>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await within(Promise.resolve(c()), BOUND, 'cleanup');
});

async function setup(
  limits: Partial<GatewayLimits> = {},
  backendOpts: { echo?: boolean; port?: number } = {},
  verbose = false,
  moreCertificates: GatewayCertificate[] = [],
): Promise<Setup> {
  const backend = await Backend.start(backendOpts);
  cleanups.push(() => backend.close());
  const records: GatewayLogRecord[] = [];
  const waiting: Array<{ type: string; resolve: (r: GatewayLogRecord) => void }> = [];
  let seen = 0;
  const gateway = await QuicGateway.start({
    listen: { address: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: backendOpts.port ?? backend.port },
    ...testCertificate(),
    moreCertificates,
    limits,
    verbose,
    log: (r) => {
      records.push(r);
      const w = waiting.find((x) => x.type === r.type);
      if (w) {
        waiting.splice(waiting.indexOf(w), 1);
        seen = records.length;
        w.resolve(r);
      }
    },
  });
  cleanups.push(() => gateway.close());
  const nextRecord = <T extends GatewayLogRecord['type']>(type: T): Promise<Extract<GatewayLogRecord, { type: T }>> => {
    type R = Extract<GatewayLogRecord, { type: T }>;
    const r = records.slice(seen).find((x) => x.type === type);
    if (r) {
      seen = records.indexOf(r) + 1;
      return Promise.resolve(r as R);
    }
    return within(
      new Promise<R>((resolve) => waiting.push({ type, resolve: (x) => resolve(x as R) })),
      BOUND,
      `a ${type} record`,
    );
  };
  return { backend, gateway, records, nextRecord };
}

async function client(port: number): Promise<Awaited<ReturnType<typeof quicClient>>> {
  const c = await quicClient(port);
  cleanups.push(() => c.ep.abort());
  await within(c.conn.established, BOUND, 'handshake');
  return c;
}

describe('QuicGateway', () => {
  it('joins each stream to its own backend connection; bytes round-trip on two streams', async () => {
    const { backend, gateway, nextRecord } = await setup({}, {}, true);
    const { ep, conn } = await client(gateway.address.port);
    const a = openStream(conn);
    const b = openStream(conn);
    a.write('<stream a>');
    b.write('<stream b>');
    await within(Promise.all([a.receivedText('echo:<stream a>'), b.receivedText('echo:<stream b>')]), BOUND, 'echoes');
    assert.equal(backend.connections.length, 2);
    assert.deepEqual(backend.connections.map((c) => c.received).sort(), ['<stream a>', '<stream b>']);
    const open = await nextRecord('open');
    assert.deepEqual(
      { type: open.type, remote: open.remote, sni: open.sni, alpn: open.alpn },
      { type: 'open', remote: `127.0.0.1:${ep.address.port}`, sni: 'quic.example', alpn: 'xmpp-client' },
    );
  });

  it('presents the certificate whose DNS-IDs name the SNI, else the first one', async () => {
    const issued = await makeCertificate({ cn: 'shared', dnsNames: ['quic-a.test', 'quic-b.test'] });
    const shared = { certificateChain: [issued.der], privateKey: KeyObject.from(issued.keys.privateKey) };
    const { gateway, backend } = await setup({}, {}, false, [shared]);
    const presented = async (serverName: string): Promise<Uint8Array> => {
      const c = await quicClient(gateway.address.port, { serverName });
      cleanups.push(() => c.ep.abort());
      const [chain] = (await within(once(c.conn, 'peer-certificate'), BOUND, `${serverName}: certificate`)) as [
        Uint8Array[],
      ];
      await within(c.conn.established, BOUND, `${serverName}: handshake`);
      // The connection works with the certificate chosen: a stream reaches the backend.
      const s = openStream(c.conn);
      s.write(serverName);
      await within(s.receivedText(`echo:${serverName}`), BOUND, `${serverName}: echo`);
      return chain[0]!;
    };
    const first = testCertificate().certificateChain[0]!;
    assert.deepEqual(await presented('quic-a.test'), issued.der);
    assert.deepEqual(await presented('quic-b.test'), issued.der);
    assert.deepEqual(await presented('quic.example'), first);
    assert.deepEqual(await presented('elsewhere.test'), first, 'no pair names it: the first');
    assert.equal(backend.connections.length, 4);
  });

  it("a client's stream reset closes only that stream's backend connection", async () => {
    const { backend, gateway } = await setup();
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('a');
    const backendA = await within(backend.next(), BOUND, 'backend connection a');
    const b = openStream(conn);
    b.write('b');
    const backendB = await within(backend.next(), BOUND, 'backend connection b');
    await within(Promise.all([a.receivedText('echo:a'), b.receivedText('echo:b')]), BOUND, 'echoes');

    a.stream.reset(7);
    await within(backendA.closed, BOUND, 'backend a closed');
    // The gateway ends its own sending half too, so the stream closes and its credit returns.
    assert.equal(await within(a.reset, BOUND, 'reset of stream a'), GATEWAY_CANCELLED);
    assert.equal(backendB.isClosed, false);
    b.write('still here');
    await within(b.receivedText('echo:still here'), BOUND, 'stream b after a was reset');
    assert.equal(backendB.isClosed, false);
  });

  it("the client's connection close closes every backend connection of it, and the close record counts them", async () => {
    const { backend, gateway, nextRecord } = await setup();
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    const b = openStream(conn);
    a.write('12345');
    b.write('123');
    await within(Promise.all([a.receivedText('echo:12345'), b.receivedText('echo:123')]), BOUND, 'echoes');
    conn.close(0, 'bye');
    const closedAt = await within(
      Promise.all(backend.connections.map((c) => c.closed)),
      BOUND,
      'backend connections closed',
    );
    assert.equal(closedAt.length, 2);
    const close = await nextRecord('close');
    assert.equal(close.type, 'close');
    if (close.type !== 'close') return;
    assert.equal(close.streams, 2);
    assert.equal(close.bytesUp, 8);
    assert.equal(close.bytesDown, 8 + 2 * 'echo:'.length);
    assert.match(close.reason, /^client: application 0 \(bye\)$/);
    assert.ok(Date.parse(close.opened) <= Date.parse(close.time), 'the close record holds the open time');
    assert.equal(close.sni, 'quic.example');
    assert.equal(gateway.connectionCount, 0);
  });

  it('a QUIC connection that dies silently closes its idle backend connections at the idle timeout', async () => {
    // At least 1 s, and only a generous upper bound below: on a loaded CI machine 3 PTO alone can
    // take hundreds of milliseconds.
    const IDLE = 1_000;
    const { backend, gateway, nextRecord } = await setup({ idleTimeoutMs: IDLE });
    const { ep, conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('<presence/>');
    await within(a.receivedText('echo:<presence/>'), BOUND, 'echo');
    const backendA = await backend.next();
    // The client vanishes without a word (a crash, a lost network): no CONNECTION_CLOSE.
    ep.abort();
    const abortedAt = performance.now();
    // Nothing is written to the backend connection meanwhile: only the idle timeout can end it.
    const closedAt = await within(backendA.closed, IDLE + BOUND, 'backend closed after the idle timeout');
    assert.ok(
      closedAt - abortedAt < IDLE + BOUND,
      `closed ${Math.round(closedAt - abortedAt)} ms after the client died`,
    );
    const close = await nextRecord('close');
    assert.equal(close.type === 'close' && /idle timeout/.test(close.reason), true, JSON.stringify(close));
  });

  it('the backend closing ends the stream (FIN); a backend failure resets it', async () => {
    const { backend, gateway } = await setup({}, { echo: false });
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('<stream:stream>');
    const backendA = await within(backend.next(), BOUND, 'backend connection a');
    await backendA.receivedText('<stream:stream>');
    const stopped = once(a.stream, 'stop-sending') as Promise<[number]>;
    backendA.socket.end('</stream:stream>');
    await within(a.ended, BOUND, 'FIN on stream a');
    assert.equal(a.received, '</stream:stream>');
    // The client is asked to stop sending, so its half closes too and the stream's credit returns.
    assert.deepEqual(await within(stopped, BOUND, 'STOP_SENDING on stream a'), [GATEWAY_NO_ERROR]);

    const b = openStream(conn);
    b.write('x');
    const backendB = await within(backend.next(), BOUND, 'backend connection b');
    await backendB.receivedText('x');
    backendB.socket.resetAndDestroy();
    assert.equal(await within(b.reset, BOUND, 'RESET_STREAM on stream b'), GATEWAY_BACKEND_ERROR);
  });

  it('a backend that refuses the connection resets the stream and leaves the QUIC connection up', async () => {
    const closedPort = await Backend.start();
    const port = closedPort.port;
    await closedPort.close();
    const { gateway, backend } = await setup({}, { port });
    void backend;
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('<stream:stream>');
    assert.equal(await within(a.reset, BOUND, 'RESET_STREAM'), GATEWAY_BACKEND_ERROR);
    assert.equal(conn.closeInfo, null);
  });

  it('ends a stream whose backend leaves more than maxBufferedPerStream of the client bytes unread', async () => {
    const LIMIT = 64 * 1024;
    const { backend, gateway, nextRecord } = await setup({ maxBufferedPerStream: LIMIT }, { echo: false });
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('<stream:stream>');
    const backendA = await within(backend.next(), BOUND, 'backend connection');
    // The server stops reading: the kernel's buffers fill, then the gateway's.
    backendA.socket.pause();
    let reset = false;
    void a.reset.then(() => (reset = true));
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // Bounded: the kernel buffers a few MiB on loopback; 256 MiB is far beyond what must pass.
    while (!reset && sent < 256 * 1024 * 1024) {
      if (!a.stream.write(chunk)) await within(Promise.race([once(a.stream, 'drain'), a.reset]), BOUND, 'drain');
      sent += chunk.length;
    }
    assert.equal(await a.reset, GATEWAY_BUFFER_LIMIT);
    // The gateway closed its end; the server sees that once it reads again.
    backendA.socket.resume();
    await within(backendA.closed, BOUND, 'backend connection closed');
    assert.ok(sent < 64 * 1024 * 1024, `${sent} bytes sent before the limit held`);
    assert.equal(conn.closeInfo, null, 'only the stream ends');
    conn.close(0, 'done');
    const close = await nextRecord('close');
    assert.equal(close.type === 'close' && close.streams, 1);
  });

  it('offers the configured bidirectional streams per connection and no unidirectional ones', async () => {
    const { backend, gateway } = await setup({ maxStreamsPerConnection: 2 });
    const { conn } = await client(gateway.address.port);
    const tp = conn.connection.peerTransportParameters;
    assert.equal(tp?.initialMaxStreamsBidi, 2);
    assert.equal(tp?.initialMaxStreamsUni, 0);
    const a = openStream(conn);
    const b = openStream(conn);
    assert.equal(conn.openStream(true), null, 'a third stream at once is beyond the limit');
    assert.equal(conn.openStream(false), null, 'no unidirectional stream');
    a.write('a');
    b.write('b');
    await within(Promise.all([a.receivedText('echo:a'), b.receivedText('echo:b')]), BOUND, 'echoes');
    assert.equal(backend.connections.length, 2);
  });

  it('refuses connections beyond the connection limit before their handshake (CONNECTION_REFUSED), and logs them as one count per interval', async () => {
    const { gateway, records } = await setup({ maxConnections: 1, refusalLogIntervalMs: 60_000 });
    await client(gateway.address.port);
    for (let i = 0; i < 3; i++) {
      const other = await quicClient(gateway.address.port);
      cleanups.push(() => other.ep.abort());
      let certificateSeen = false;
      other.conn.on('peer-certificate', () => (certificateSeen = true));
      await assert.rejects(within(other.conn.established, BOUND, 'refused handshake'));
      const info = await within(other.conn.closed, BOUND, 'refused connection closed');
      // RFC 9000 §5.2.2: an Initial with CONNECTION_CLOSE (transport) CONNECTION_REFUSED, sent
      // before any handshake: no certificate, no state on the gateway.
      assert.deepEqual(
        { code: info.code, app: info.app, local: info.local },
        { code: 0x02, app: false, local: false },
        JSON.stringify(info),
      );
      assert.match(info.reason, /limit of 1 connections/);
      assert.equal(certificateSeen, false, 'refused before the server sent its certificate');
    }
    assert.ok(gateway.counters.connectionRefused >= 3, JSON.stringify(gateway.counters));
    assert.equal(gateway.connectionCount, 1);
    assert.equal(records.length, 0, 'no line per refusal');
    // The interval is a minute; closing writes the count so far.
    await within(gateway.close(), BOUND, 'gateway close');
    const refused = records.filter((r) => r.type === 'refused');
    assert.equal(refused.length, 1);
    assert.ok(refused[0]!.type === 'refused' && refused[0]!.count >= 3, JSON.stringify(refused));
    assert.match(refused[0]!.type === 'refused' ? refused[0]!.reason : '', /limit of 1 connections/);
    assert.equal(records.filter((r) => r.type === 'close').length, 1, 'only the admitted connection');
  });

  it('opens no backend connection for a stream that was only implicitly opened (RFC 9000 §3.2)', async () => {
    const { backend, gateway } = await setup();
    const { conn } = await client(gateway.address.port);
    const quiet = openStream(conn);
    const b = openStream(conn);
    // Only the higher stream carries a frame; the gateway creates the lower one with it.
    b.write('hi');
    await within(b.receivedText('echo:hi'), BOUND, 'echo');
    assert.equal(backend.connections.length, 1);
    assert.equal(gateway.backendConnectionCount, 1);
    void quiet;
  });

  it('resets a stream that sends nothing by the first-byte deadline, without opening its backend', async () => {
    const { backend, gateway } = await setup({ firstByteTimeoutMs: 200 });
    const { conn } = await client(gateway.address.port);
    const quiet = openStream(conn);
    const b = openStream(conn);
    b.write('hi');
    await within(b.receivedText('echo:hi'), BOUND, 'echo');
    assert.equal(await within(quiet.reset, BOUND, 'reset of the quiet stream'), GATEWAY_FIRST_BYTE_TIMEOUT);
    assert.equal(backend.connections.length, 1);
    // The stream that did send is not affected.
    b.write('again');
    await within(b.receivedText('echo:again'), BOUND, 'echo after the deadline');
    assert.equal(conn.closeInfo, null);
  });

  it('caps the backend connections one client address may hold; a stream beyond it is reset', async () => {
    const { backend, gateway } = await setup({ maxBackendPerAddress: 2 });
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    const b = openStream(conn);
    a.write('a');
    b.write('b');
    await within(Promise.all([a.receivedText('echo:a'), b.receivedText('echo:b')]), BOUND, 'echoes');
    const c = openStream(conn);
    c.write('c');
    assert.equal(await within(c.reset, BOUND, 'reset of the third stream'), GATEWAY_BACKEND_LIMIT);
    assert.equal(backend.connections.length, 2);
    // A slot freed is a slot available again.
    a.stream.reset(0);
    await within(backend.connections[0]!.closed, BOUND, 'backend a closed');
    const d = openStream(conn);
    d.write('d');
    await within(d.receivedText('echo:d'), BOUND, 'echo on d');
    assert.equal(backend.connections.length, 3);
  });

  it('ends a stream whose client takes none of the server bytes for the send-stall deadline', async () => {
    const { backend, gateway } = await setup(
      { maxBufferedPerStream: 64 * 1024, sendStallTimeoutMs: 300, idleTimeoutMs: 60_000 },
      { echo: false },
    );
    const { ep, conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('<stream:stream>');
    const backendA = await within(backend.next(), BOUND, 'backend connection');
    await within(backendA.receivedText('<stream:stream>'), BOUND, 'first bytes');
    // The client stops taking anything (nothing is acknowledged) but its connection is not idle yet.
    ep.abort();
    backendA.socket.write(Buffer.alloc(4 * 1024 * 1024));
    await within(backendA.closed, BOUND, 'backend closed at the stall deadline');
    assert.equal(gateway.connectionCount, 1, 'the QUIC connection itself stays until its idle timeout');
    void conn;
  });

  it('asks for a Retry first when told to, and the client still gets through', async () => {
    const { gateway } = await setup({ requireRetry: true });
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('hi');
    await within(a.receivedText('echo:hi'), BOUND, 'echo');
    assert.equal(gateway.counters.retries, 1);
  });

  it('a client offering another ALPN is refused, and only a close record is written', async () => {
    const { gateway, records, nextRecord } = await setup({}, {}, true);
    const other = await quicClient(gateway.address.port, { alpn: 'h3' });
    cleanups.push(() => other.ep.abort());
    await assert.rejects(within(other.conn.established, BOUND, 'handshake'));
    const close = await nextRecord('close');
    assert.equal(close.alpn, null);
    assert.equal(records.filter((r) => r.type === 'open').length, 0);
  });

  it('with earlyData, a resumed client sends the stream header in 0-RTT and the server gets it like any stream bytes', async () => {
    const backend = await Backend.start();
    cleanups.push(() => backend.close());
    const gateway = await QuicGateway.start({
      listen: { address: '127.0.0.1', port: 0 },
      forward: { host: '127.0.0.1', port: backend.port },
      ...testCertificate(),
      earlyData: true,
      log: () => undefined,
    });
    cleanups.push(() => gateway.close());
    const first = await client(gateway.address.port);
    const ticket = await within(
      new Promise<StoredTicket>((resolve) => first.conn.once('session-ticket', resolve)),
      BOUND,
      'a session ticket',
    );
    assert.ok(ticket.earlyData, 'the gateway issues tickets that allow 0-RTT');
    const ep = await QuicEndpoint.bind();
    cleanups.push(() => ep.abort());
    const conn = ep.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: { address: '127.0.0.1', port: gateway.address.port },
      ticket,
      earlyData: true,
    });
    conn.on('peer-certificate', () => conn.acceptPeer());
    const answered = within(
      new Promise<boolean>((resolve) => conn.once('early-data', resolve)),
      BOUND,
      'the 0-RTT answer',
    );
    const early = conn.openEarlyStream(Buffer.from('<stream:stream>'));
    assert.ok(early, 'the stream opens as early data');
    const stream = new ClientStream(early);
    stream.write('<auth/>');
    assert.equal(await answered, true, 'the gateway accepted 0-RTT');
    const server = await within(backend.next(), BOUND, 'the backend connection');
    await within(server.receivedText('<stream:stream><auth/>'), BOUND, 'the backend gets the bytes once, in order');
    assert.equal(server.received, '<stream:stream><auth/>');
    // The backend echoes each chunk it reads: the answers come back over the QUIC stream.
    await within(stream.receivedText('<auth/>'), BOUND, 'the echo');
    assert.match(stream.received, /^echo:<stream:stream>(echo:)?<auth\/>$/);
    assert.equal(conn.connection.tlsFacts?.resumed, true);
  });

  it('close() ends every connection cleanly and closes every backend connection before it resolves', async () => {
    const { backend, gateway, records } = await setup();
    const { conn } = await client(gateway.address.port);
    const a = openStream(conn);
    a.write('a');
    await within(a.receivedText('echo:a'), BOUND, 'echo');
    await within(gateway.close(), BOUND, 'gateway close');
    // The close record is written once the gateway's backend socket is closed: it is there already.
    assert.equal(records.filter((r) => r.type === 'close').length, 1);
    await within(backend.connections[0]!.closed, BOUND, 'the backend sees its connection closed');
    const info = await within(conn.closed, BOUND, 'client sees the close');
    assert.deepEqual({ code: info.code, reason: info.reason }, { code: 0, reason: 'the gateway is shutting down' });
    const close = records.find((r) => r.type === 'close');
    assert.equal(close?.type === 'close' && close.reason, 'gateway: application 0 (the gateway is shutting down)');
  });
});

describe('formatGatewayRecord', () => {
  const base = { time: '2026-01-01T00:00:00.000Z', id: 3, remote: '[::1]:5000', alpn: 'xmpp-client' };
  it('writes one readable line per record, quoting a name that is not a plain host name', () => {
    assert.equal(
      formatGatewayRecord({ type: 'open', ...base, sni: 'example.org' }, false),
      '2026-01-01T00:00:00.000Z conn=3 open [::1]:5000 sni=example.org alpn=xmpp-client',
    );
    assert.equal(
      formatGatewayRecord(
        {
          type: 'close',
          ...base,
          opened: '2025-12-31T23:59:58.500Z',
          sni: 'evil\nconn=4 open',
          durationMs: 1500,
          streams: 2,
          bytesUp: 10,
          bytesDown: 20,
          reason: 'client: idle\u2028timeout',
        },
        false,
      ),
      '2026-01-01T00:00:00.000Z conn=3 close [::1]:5000 sni="evil\\nconn=4 open" alpn=xmpp-client opened=2025-12-31T23:59:58.500Z duration=1.500s streams=2 up=10 down=20 reason="client: idle\\u2028timeout"',
    );
  });

  it('writes refusals as one count', () => {
    assert.equal(
      formatGatewayRecord(
        { type: 'refused', time: base.time, since: '2025-12-31T23:59:50.000Z', count: 7, reason: 'at its limit' },
        false,
      ),
      '2026-01-01T00:00:00.000Z refused count=7 since=2025-12-31T23:59:50.000Z reason="at its limit"',
    );
  });

  it('writes JSON lines with every control character escaped', () => {
    const line = formatGatewayRecord({ type: 'open', ...base, sni: 'a\u202eb' }, true);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(line, /[\u0000-\u001f\u202e]/);
    assert.deepEqual(JSON.parse(line), { type: 'open', ...base, sni: 'a\u202eb' });
  });
});
