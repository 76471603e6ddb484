/**
 * `QuicEndpoint` over real UDP on loopback, Quiver on both ends: handshake, transfer, active
 * migration by rebinding the client socket mid-transfer, Retry, Version Negotiation and
 * Stateless Reset answered by the endpoint.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import { ceilingFrom } from '../../../app/quic/driver/pathMtu.ts';
import { QuicConnection } from '../../../app/quic/quicConnection.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { pathMtuSettled } from '../../support/quicHandles.ts';
import { testCertificate } from '../../support/quicPair.ts';

const ALPN = 'xmpp-client';

async function echoServer(
  opts: {
    requireRetry?: boolean;
    statelessResetKey?: Uint8Array;
    retryAbove?: number;
    maxHalfOpen?: number;
    maxHalfOpenPerAddress?: number;
  } = {},
): Promise<{ ep: QuicEndpoint; conns: QuicConnectionHandle[] }> {
  const ep = await QuicEndpoint.bind(
    undefined,
    opts.statelessResetKey ? { statelessResetKey: opts.statelessResetKey } : {},
  );
  const conns: QuicConnectionHandle[] = [];
  ep.listen({
    alpn: [ALPN],
    ...testCertificate(),
    requireRetry: opts.requireRetry ?? false,
    ...(opts.retryAbove === undefined ? {} : { retryAbove: opts.retryAbove }),
    ...(opts.maxHalfOpen === undefined ? {} : { maxHalfOpen: opts.maxHalfOpen }),
    ...(opts.maxHalfOpenPerAddress === undefined ? {} : { maxHalfOpenPerAddress: opts.maxHalfOpenPerAddress }),
    onConnection: (c) => {
      conns.push(c);
      c.on('stream', (s: QuicStreamHandle) => {
        s.on('data', (d: Uint8Array) => s.write(d));
        s.on('end', () => s.end());
      });
    },
  });
  return { ep, conns };
}

async function connect(client: QuicEndpoint, server: QuicEndpoint): Promise<QuicConnectionHandle> {
  const conn = client.connect({ serverName: 'quic.example', alpn: [ALPN], remoteAddress: server.address });
  conn.on('peer-certificate', () => conn.acceptPeer());
  await conn.established;
  return conn;
}

function echo(conn: QuicConnectionHandle, size: number, midway?: () => void): Promise<boolean> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13) & 0xff;
  return new Promise((resolve) => {
    const s = conn.openStream(true)!;
    const h = createHash('sha256');
    let got = 0;
    let fired = false;
    s.on('data', (d: Uint8Array) => {
      h.update(d);
      got += d.length;
      if (!fired && midway && got >= size / 2) {
        fired = true;
        midway();
      }
    });
    s.on('end', () => resolve(h.digest('hex') === createHash('sha256').update(data).digest('hex') && got === size));
    s.write(data, true);
  });
}

/** A raw UDP socket on loopback that sends what a test builds and collects what comes back. */
async function rawSocket(): Promise<{
  send: (d: Uint8Array, port: number) => Promise<void>;
  next: () => Promise<Buffer>;
  close: () => void;
}> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const replies: Buffer[] = [];
  let wake: () => void = () => undefined;
  sock.on('message', (m) => {
    replies.push(m);
    wake();
  });
  return {
    send: (d, port) => new Promise<void>((r) => sock.send(d, port, '127.0.0.1', () => r())),
    next: () =>
      replies.length ? Promise.resolve(replies.shift()!) : new Promise((r) => (wake = () => r(replies.shift()!))),
    close: () => sock.close(),
  };
}

/** A 1200-byte Initial (RFC 9000 §17.2.2) with a random DCID and random bytes for a payload. */
function garbageInitial(): Buffer {
  const b = randomBytes(1200);
  b[0] = 0xc0 | (b[0]! & 0x0f);
  b.writeUInt32BE(1, 1);
  b[5] = 8; // DCID length
  b[14] = 8; // SCID length
  b[23] = 0; // token length
  b.writeUInt16BE(0x4000 | (1200 - 26), 24); // Length (2-byte varint)
  return b;
}

/** A long header of a version nobody speaks: the endpoint answers at once (Version Negotiation). */
const VN_PROBE = Buffer.alloc(1200);
VN_PROBE.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4b, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9], 0);

/**
 * Sends `count` genuine client Initials (they decrypt) from one socket that never goes on, then
 * waits until the server has handled them all: its answer to a version probe comes after them.
 */
async function sendAbandonedInitials(raw: Awaited<ReturnType<typeof rawSocket>>, server: QuicEndpoint, count: number) {
  for (let i = 0; i < count; i++) {
    const c = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: [ALPN],
      remoteAddress: server.address,
      now: 0,
      wallClock: () => 0,
    });
    await raw.send(c.pollTransmit(0)!.data, server.address.port);
  }
  await raw.send(VN_PROBE, server.address.port);
  while ((await raw.next()).readUInt32BE(1) !== 0);
}

describe('QuicEndpoint under a flood of Initials', { timeout: 60_000 }, () => {
  it('refuses garbage Initials before any connection state; a real client still connects', async () => {
    const { ep: server } = await echoServer();
    const client = await QuicEndpoint.bind();
    const raw = await rawSocket();
    try {
      // 2,000 Initials whose payload does not decrypt, in bounded batches; after each, a
      // Version Negotiation round trip proves the server has read the batch (nothing lost).
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 100 }, () => raw.send(garbageInitial(), server.address.port)));
        await raw.send(VN_PROBE, server.address.port);
        await raw.next();
        assert.equal(server.connectionCount, 0, `after batch ${batch}`);
      }
      assert.equal(server.counters.datagramsIn, 2_000 + 20);
      const conn = await connect(client, server);
      assert.equal(await echo(conn, 10_000), true);
      assert.equal(server.connectionCount, 1);
    } finally {
      raw.close();
      await client.close();
      await server.close();
    }
  });

  it('caps half-open connections: above the threshold only a Retry answers; a real client still connects', async () => {
    const { ep: server } = await echoServer({ retryAbove: 8, maxHalfOpen: 12 });
    const client = await QuicEndpoint.bind();
    const raw = await rawSocket();
    try {
      // 40 genuine client Initials (they decrypt) from a client that never goes on.
      await sendAbandonedInitials(raw, server, 40);
      assert.equal(server.connectionCount, 8, 'half-open connections up to the threshold');
      assert.equal(server.counters.retries, 32, 'a Retry for each Initial above it');
      // The real client answers the Retry and is let in (its address is now validated).
      const conn = await connect(client, server);
      assert.equal(await echo(conn, 10_000), true);
      assert.equal(server.counters.retries, 33);
    } finally {
      raw.close();
      await client.close();
      await server.close();
    }
  });
});

describe('QuicEndpoint: one source address', { timeout: 30_000 }, () => {
  it('holds one address to its share of half-open connections; beyond it that address gets a Retry', async () => {
    const { ep: server } = await echoServer({ retryAbove: 100, maxHalfOpen: 200, maxHalfOpenPerAddress: 4 });
    const raw = await rawSocket();
    try {
      await sendAbandonedInitials(raw, server, 10);
      assert.equal(server.connectionCount, 4, 'half-open connections from one address up to its share');
      assert.equal(server.counters.retries, 6, 'a Retry for each Initial beyond it');
    } finally {
      raw.close();
      await server.close();
    }
  });
});

describe('QuicEndpoint on loopback', { timeout: 30_000 }, () => {
  it("closes a client's connection at once on the restarted server's Stateless Reset, without answering it", async () => {
    // RFC 9000 §10.3: the restarted server (same port, same static key) cannot route the
    // client's packets and resets; the client recognises the token of the ID it uses (§10.3.1).
    const statelessResetKey = new Uint8Array(32).fill(7);
    const local = { address: '127.0.0.1', port: 0 };
    const first = await QuicEndpoint.bind(local, { statelessResetKey });
    first.listen({ alpn: [ALPN], ...testCertificate(), onConnection: () => undefined });
    const client = await QuicEndpoint.bind();
    let restarted: QuicEndpoint | null = null;
    try {
      const conn = await connect(client, first);
      const port = first.address.port;
      first.abort();
      restarted = await QuicEndpoint.bind({ address: '127.0.0.1', port }, { statelessResetKey });
      conn.openStream(true)!.write(new Uint8Array(100));
      const info = await conn.closed;
      assert.deepEqual([info.reason, info.local], ['stateless reset received', false]);
      // One reset per packet the client sent before the first reached it: usually one, more when
      // a retransmission or an ACK left first on a busy machine.
      assert.ok(restarted.counters.statelessResets >= 1, `${restarted.counters.statelessResets} resets`);
      // §10.3.3: a reset is never answered with a reset (two endpoints could loop).
      assert.equal(client.counters.statelessResets, 0);
    } finally {
      await client.close();
      await restarted?.close();
    }
  });

  it('ignores a reset-shaped datagram from an address other than the peer (§10.3.1)', async () => {
    const statelessResetKey = new Uint8Array(32).fill(9);
    const { ep: server } = await echoServer({ statelessResetKey });
    const client = await QuicEndpoint.bind();
    try {
      const conn = await connect(client, server);
      // The right token (same key, the server's CID the client uses) from the wrong address.
      const serverCid = conn.connection.peerTransportParameters!.initialSourceConnectionId!;
      const reset = new Uint8Array(40).fill(0x41);
      reset.set(createHmac('sha256', statelessResetKey).update(serverCid).digest().subarray(0, 16), 24);
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      await new Promise<void>((r) => sock.send(reset, client.address.port, '127.0.0.1', () => r()));
      sock.close();
      // Still alive: an echo goes through after the forged reset was read.
      assert.equal(await echo(conn, 1_000), true);
      assert.equal(conn.closeInfo, null);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('handshakes, echoes data and closes; the server sees the application close', async () => {
    const { ep: server, conns } = await echoServer();
    const client = await QuicEndpoint.bind();
    try {
      const conn = await connect(client, server);
      assert.equal(await echo(conn, 300_000), true);
      conn.close(5, 'done');
      const info = await conns[0]!.closed;
      assert.deepEqual([info.code, info.reason, info.app, info.local], [5, 'done', true, false]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("discovers the path MTU up to the loopback interface's, and uses it both ways", async () => {
    const { ep: server, conns } = await echoServer();
    const client = await QuicEndpoint.bind();
    try {
      const conn = await connect(client, server);
      assert.equal(await echo(conn, 2_000_000), true);
      // What the interface carries: 65507 on Linux loopback (IPv4's limit), 1472 where unknown.
      const ceiling = ceilingFrom('127.0.0.1', 4);
      assert.deepEqual(await Promise.all([pathMtuSettled(conn), pathMtuSettled(conns[0]!)]), [ceiling, ceiling]);
      for (const c of [conn.connection, conns[0]!.connection]) {
        assert.equal(c.stats.maxDatagramSize, ceiling);
        assert.equal(c.stats.mtuProbesLost, 0);
      }
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('migrates to a new client socket mid-transfer (rebind): path validated, data intact', async () => {
    const { ep: server, conns } = await echoServer();
    const client = await QuicEndpoint.bind();
    try {
      const conn = await connect(client, server);
      const oldPort = client.address.port;
      const migrated = new Promise<{ port: number }>((r) => conns[0]!.once('migrated', r));
      const validated = new Promise<void>((r) => conn.once('path-validated', () => r()));
      let rebinding: Promise<void> = Promise.resolve();
      assert.equal(await echo(conn, 2_000_000, () => (rebinding = client.rebind())), true);
      await rebinding;
      assert.notEqual(client.address.port, oldPort);
      assert.equal((await migrated).port, client.address.port);
      await validated;
      assert.equal(await echo(conn, 100_000), true);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('ends a connection that cannot migrate when the socket changes (handshake not confirmed: RFC 9000 §9)', async () => {
    // A server that never answers: the handshake cannot be confirmed before the rebind.
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const client = await QuicEndpoint.bind();
    try {
      const conn = client.connect({
        serverName: 'quic.example',
        alpn: [ALPN],
        remoteAddress: { address: '127.0.0.1', port: silent.address().port },
      });
      conn.established.catch(() => undefined);
      const closed = new Promise<{ codeName: string; local: boolean }>((r) => conn.once('closed', r));
      await client.rebind();
      const info = await closed;
      assert.equal(info.codeName, 'cannot migrate');
      assert.equal(info.local, true);
    } finally {
      await client.close();
      silent.close();
    }
  });

  it('validates the client address with a Retry first', async () => {
    const { ep: server } = await echoServer({ requireRetry: true });
    const client = await QuicEndpoint.bind();
    try {
      const conn = await connect(client, server);
      assert.equal(server.counters.retries, 1);
      assert.equal(await echo(conn, 10_000), true);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('answers an unknown version with Version Negotiation and an unknown short header with a Stateless Reset', async () => {
    const { ep: server } = await echoServer();
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const replies: Buffer[] = [];
      let wake: () => void = () => undefined;
      sock.on('message', (m) => {
        replies.push(m);
        wake();
      });
      const next = (): Promise<Buffer> =>
        replies.length ? Promise.resolve(replies.shift()!) : new Promise((r) => (wake = () => r(replies.shift()!)));
      // A long header with version 0x1a2a3a4a (reserved for negotiation) in a 1200-byte datagram.
      const probe = Buffer.alloc(1200);
      probe.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4b, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9], 0);
      sock.send(probe, server.address.port, '127.0.0.1');
      const vn = await next();
      assert.equal(vn.readUInt32BE(1), 0, 'version 0 marks Version Negotiation');
      const versions = [];
      for (let o = 7 + vn[5]! + vn[6 + vn[5]!]!; o + 4 <= vn.length; o += 4) versions.push(vn.readUInt32BE(o));
      assert.ok(versions.includes(1));
      // A short header for a connection the server does not know.
      const stray = Buffer.alloc(60, 0x55);
      stray[0] = 0x40;
      sock.send(stray, server.address.port, '127.0.0.1');
      const reset = await next();
      assert.ok(reset.length < stray.length && reset.length >= 21);
      assert.equal(reset[0]! & 0xc0, 0x40);
    } finally {
      sock.close();
      await server.close();
    }
  });
});
