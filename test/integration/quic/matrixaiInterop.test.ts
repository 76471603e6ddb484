/**
 * Interop with quiche through @matrixai/quic (an independent QUIC implementation), on loopback:
 * our client to its server and its client to our server. Handshake with ALPN, three bidirectional
 * streams echoing 1 MiB each way, an orderly close seen by the peer.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { QUICClient, QUICServer, events } from '@matrixai/quic';
import Logger, { LogLevel } from '@matrixai/logger';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { CloseInfo } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { testCertificate } from '../../support/quicPair.ts';

const FIXTURES = new URL('../../unit/quic/fixtures/', import.meta.url);
const ALPN = 'xmpp-client';
const SIZE = 1 << 20;
const STREAMS = 3;
const quiet = (): Logger => new Logger('matrixai', LogLevel.ERROR, []);

function payload(k: number): Uint8Array {
  const out = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) out[i] = (i * 31 + k * 7) & 0xff;
  return out;
}

const sha = (parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

describe('interop: Quiver client -> quiche server (@matrixai/quic)', { timeout: 60_000 }, () => {
  let server: QUICServer;
  let peerClosed: Promise<void>;

  before(async () => {
    const hmacKey = toArrayBuffer(Buffer.alloc(32, 1));
    server = new QUICServer({
      crypto: {
        key: hmacKey,
        ops: {
          sign: async (k, d) => toArrayBuffer(createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest()),
          verify: async (k, d, s) =>
            createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest().equals(Buffer.from(s)),
        },
      },
      config: {
        key: readFileSync(new URL('server.key.pem', FIXTURES), 'utf8'),
        cert: readFileSync(new URL('server.cert.pem', FIXTURES), 'utf8'),
        verifyPeer: false,
        applicationProtos: [ALPN],
      },
      logger: quiet(),
    });
    peerClosed = new Promise((resolve) => {
      server.addEventListener(events.EventQUICServerConnection.name, (e) => {
        const conn = (e as events.EventQUICServerConnection).detail;
        conn.addEventListener(events.EventQUICConnectionStream.name, (se) => {
          const stream = (se as events.EventQUICConnectionStream).detail;
          stream.readable.pipeTo(stream.writable).catch((err: unknown) => assert.fail(`echo failed: ${String(err)}`));
        });
        conn.addEventListener(events.EventQUICConnectionStopped.name, () => resolve(), { once: true });
      });
    });
    await server.start({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await server.stop({ force: true });
  });

  it('handshakes with ALPN, echoes 3 x 1 MiB on bidirectional streams and closes cleanly', async () => {
    const ep = await QuicEndpoint.bind();
    try {
      const conn = ep.connect({
        serverName: 'localhost',
        alpn: [ALPN],
        remoteAddress: { address: '127.0.0.1', port: server.port },
      });
      let chain: Uint8Array[] = [];
      conn.on('peer-certificate', (c: Uint8Array[]) => {
        chain = c;
        conn.acceptPeer();
      });
      const { alpn } = await conn.established;
      assert.equal(alpn, ALPN);
      assert.equal(chain.length, 1);
      const results = await Promise.all(
        Array.from({ length: STREAMS }, (_, k) => {
          const data = payload(k);
          return new Promise<{ sent: string; got: string }>((resolve) => {
            const s = conn.openStream(true)!;
            const parts: Uint8Array[] = [];
            s.on('data', (d: Uint8Array) => parts.push(d));
            s.on('end', () => resolve({ sent: sha([data]), got: sha(parts) }));
            s.write(data, true);
          });
        }),
      );
      for (const r of results) assert.equal(r.got, r.sent);
      // Path MTU discovery: quiche acknowledged a probe of the largest size it accepts.
      const { stats, peerTransportParameters } = conn.connection;
      assert.equal(stats.maxDatagramSize, Math.min(peerTransportParameters!.maxUdpPayloadSize, 65507));
      assert.equal(stats.mtuProbesLost, 0);
      conn.close(0, 'done');
      const info = await conn.closed;
      assert.equal(info.app, true);
      await peerClosed;
    } finally {
      await ep.close();
    }
  });
});

describe('interop: quiche client (@matrixai/quic) -> Quiver server', { timeout: 60_000 }, () => {
  it('handshakes with ALPN, echoes 3 x 1 MiB on bidirectional streams and closes cleanly', async () => {
    const ep = await QuicEndpoint.bind();
    let serverClosed!: (i: CloseInfo) => void;
    const closedAtServer = new Promise<CloseInfo>((r) => (serverClosed = r));
    let serverAlpn: string | null = null;
    ep.listen({
      alpn: [ALPN],
      ...testCertificate(),
      onConnection: (c) => {
        void c.established.then((r) => (serverAlpn = r.alpn));
        c.on('stream', (s) => {
          s.on('data', (d: Uint8Array) => s.write(d));
          s.on('end', () => s.end());
        });
        c.on('closed', serverClosed);
      },
    });
    try {
      const client = await QUICClient.createQUICClient({
        host: '127.0.0.1',
        port: ep.address.port,
        serverName: 'localhost',
        localHost: '127.0.0.1',
        crypto: { ops: { randomBytes: async (b: ArrayBuffer) => void randomFillSync(new Uint8Array(b)) } },
        config: { verifyPeer: false, applicationProtos: [ALPN] },
        logger: quiet(),
      });
      const results = await Promise.all(
        Array.from({ length: STREAMS }, async (_, k) => {
          const data = payload(k);
          const s = client.connection.newStream('bidi');
          const reading = (async () => {
            const parts: Uint8Array[] = [];
            for await (const c of s.readable) parts.push(c);
            return sha(parts);
          })();
          const w = s.writable.getWriter();
          for (let off = 0; off < SIZE; off += 65536) await w.write(data.subarray(off, off + 65536));
          await w.close();
          return { sent: sha([data]), got: await reading };
        }),
      );
      for (const r of results) assert.equal(r.got, r.sent);
      assert.equal(serverAlpn, ALPN);
      await client.destroy({ isApp: true, errorCode: 0 });
      const info = await closedAtServer;
      assert.deepEqual([info.app, info.code, info.local], [true, 0, false]);
    } finally {
      await ep.close();
    }
  });
});
