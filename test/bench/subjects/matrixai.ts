/**
 * @matrixai/quic (quiche) as a bench subject. Loading it slows other code in the same process:
 * Quiver used about 40% more CPU per MB in a process that had merely imported it (cause not
 * pinned down: no global or V8 protector changes; its native addon), so the bench runs each
 * subject in a process of its own.
 */
import { createHmac, randomFillSync } from 'node:crypto';
import { QUICClient, QUICServer, events, type QUICConnection, type QUICStream } from '@matrixai/quic';
import Logger, { LogLevel } from '@matrixai/logger';
import { ALPN, CERT_PEM, KEY_PEM, type Subject } from '../subject.ts';

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export function matrixai(): Subject {
  let server: QUICServer;
  const quiet = (): Logger => new Logger('bench', LogLevel.ERROR, []);
  let onStream: (s: QUICStream) => void = () => undefined;
  const clients: QUICClient[] = [];
  return {
    name: '@matrixai/quic 2.0.9',
    bytes: { small: 256 << 10, large: 2 << 20 },
    async setup() {
      server = new QUICServer({
        crypto: {
          key: toArrayBuffer(Buffer.alloc(32, 1)),
          ops: {
            sign: async (k, d) => toArrayBuffer(createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest()),
            verify: async (k, d, s) =>
              createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest().equals(Buffer.from(s)),
          },
        },
        config: { key: KEY_PEM, cert: CERT_PEM, verifyPeer: false, applicationProtos: [ALPN] },
        logger: quiet(),
      });
      server.addEventListener(events.EventQUICServerConnection.name, (e) => {
        const conn = (e as events.EventQUICServerConnection).detail as QUICConnection;
        conn.addEventListener(events.EventQUICConnectionStream.name, (se) =>
          onStream((se as events.EventQUICConnectionStream).detail),
        );
      });
      await server.start({ host: '127.0.0.1', port: 0 });
    },
    async connect() {
      const client = await QUICClient.createQUICClient({
        host: '127.0.0.1',
        port: server.port,
        serverName: 'localhost',
        localHost: '127.0.0.1',
        crypto: { ops: { randomBytes: async (b: ArrayBuffer) => void randomFillSync(new Uint8Array(b)) } },
        config: { verifyPeer: false, applicationProtos: [ALPN] },
        logger: quiet(),
      });
      clients.push(client);
      return {
        async transfer(total, chunk) {
          const done = new Promise<void>((resolve) => {
            onStream = (s) => {
              void (async () => {
                let got = 0;
                for await (const c of s.readable) {
                  got += c.length;
                  if (got >= total) break;
                }
                resolve();
              })();
            };
          });
          const s = client.connection.newStream('bidi');
          const w = s.writable.getWriter();
          const buf = new Uint8Array(chunk);
          for (let sent = 0; sent < total; sent += chunk) await w.write(buf);
          await done;
          await w.close();
        },
        async openStreams(n) {
          let seen = 0;
          const done = new Promise<void>((resolve) => {
            onStream = (s) => {
              void s.readable
                .getReader()
                .read()
                .then(() => {
                  if (++seen === n) resolve();
                });
            };
          });
          for (let i = 0; i < n; i++) {
            const w = client.connection.newStream('bidi').writable.getWriter();
            void w.write(Uint8Array.of(1));
          }
          await done;
        },
        async close() {
          await client.destroy({ isApp: true, errorCode: 0, force: true });
        },
      };
    },
    async teardown() {
      for (const c of clients) await c.destroy({ force: true }).catch(() => undefined);
      await server.stop({ force: true });
    },
  };
}
