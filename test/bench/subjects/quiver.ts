/** Quiver's QUIC as a bench subject. */
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { testCertificate } from '../../support/quicPair.ts';
import { ALPN, type Subject } from '../subject.ts';

/**
 * Quiver's QUIC. `maxDatagramSize` caps path MTU discovery (undefined: the endpoint's default,
 * up to what the loopback interface carries); the row's name tells the size in use.
 */
export function quiver(maxDatagramSize: number | undefined, label: string): Subject {
  let server: QuicEndpoint;
  let inUse = 0;
  let client: QuicEndpoint;
  const received = new Map<number, { got: number; want: number; done: () => void }>();
  let streamsSeen = 0;
  let streamsWanted = 0;
  let streamsDone: () => void = () => undefined;
  let nextKey = 0;
  return {
    get name() {
      return inUse ? `${label}: ${inUse}-byte datagrams` : label;
    },
    bytes: { small: 16 << 20, large: 64 << 20 },
    async setup() {
      server = await QuicEndpoint.bind();
      client = await QuicEndpoint.bind();
      server.listen({
        alpn: [ALPN],
        ...testCertificate(),
        ...(maxDatagramSize ? { maxDatagramSize } : {}),
        onConnection: (c: QuicConnectionHandle) => {
          c.on('stream', (s: QuicStreamHandle) => {
            let key = -1;
            s.once('data', (d: Uint8Array) => {
              // The first 4 bytes name the transfer; a 1-byte stream is a stream-count probe.
              if (d.length === 1) {
                if (++streamsSeen === streamsWanted) streamsDone();
                return;
              }
              key = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
              const r = received.get(key)!;
              r.got += d.length;
              s.on('data', (more: Uint8Array) => {
                r.got += more.length;
                if (r.got >= r.want) r.done();
              });
              if (r.got >= r.want) r.done();
            });
          });
        },
      });
    },
    async connect() {
      const conn = client.connect({
        serverName: 'localhost',
        alpn: [ALPN],
        remoteAddress: server.address,
        ...(maxDatagramSize ? { maxDatagramSize } : {}),
      });
      conn.on('peer-certificate', () => conn.acceptPeer());
      await conn.established;
      return {
        transfer(total, chunk) {
          const key = nextKey++;
          return new Promise<void>((resolve) => {
            received.set(key, { got: 0, want: total, done: resolve });
            const s = conn.openStream(true)!;
            const buf = new Uint8Array(chunk);
            new DataView(buf.buffer).setUint32(0, key);
            let sent = 0;
            const pump = (): void => {
              while (sent < total) {
                sent += chunk;
                if (!s.write(buf, sent >= total)) {
                  s.once('drain', pump);
                  return;
                }
              }
            };
            pump();
          });
        },
        openStreams(n) {
          streamsSeen = 0;
          streamsWanted = n;
          return new Promise<void>((resolve) => {
            streamsDone = resolve;
            for (let i = 0; i < n; i++) conn.openStream(true)!.write(Uint8Array.of(1));
          });
        },
        async close() {
          inUse = Math.max(inUse, conn.connection.stats.maxDatagramSize);
          conn.close(0, 'bench');
          await conn.closed;
        },
      };
    },
    async teardown() {
      await client.close();
      await server.close();
    },
  };
}
