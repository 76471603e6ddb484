/** node:tls over TCP as a bench subject (one TLS connection per "stream": TCP has no streams). */
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ALPN, CERT_PEM, KEY_PEM, type Subject } from '../subject.ts';

export function nodeTls(): Subject {
  let server: ReturnType<typeof createTlsServer>;
  let port = 0;
  const pending: ((s: TLSSocket) => void)[] = [];
  return {
    name: 'node:tls over TCP',
    bytes: { small: 16 << 20, large: 128 << 20 },
    async setup() {
      server = createTlsServer({ key: KEY_PEM, cert: CERT_PEM, ALPNProtocols: [ALPN], minVersion: 'TLSv1.3' }, (s) =>
        pending.shift()?.(s),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    },
    async connect() {
      /** A client socket and its server-side peer. */
      const open = async (): Promise<[TLSSocket, TLSSocket]> => {
        const serverSide = new Promise<TLSSocket>((r) => pending.push(r));
        const client = await new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect(
            { host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: [ALPN], rejectUnauthorized: false },
            () => resolve(s),
          );
          s.once('error', reject);
        });
        return [client, await serverSide];
      };
      const pairs: [TLSSocket, TLSSocket][] = [await open()];
      return {
        transfer(total, chunk) {
          const [sock, peer] = pairs[0]!;
          return new Promise<void>((resolve) => {
            let got = 0;
            const onData = (d: Buffer): void => {
              got += d.length;
              if (got >= total) {
                peer.off('data', onData);
                resolve();
              }
            };
            peer.on('data', onData);
            const buf = new Uint8Array(chunk);
            let sent = 0;
            const pump = (): void => {
              while (sent < total) {
                sent += chunk;
                if (!sock.write(buf)) {
                  sock.once('drain', pump);
                  return;
                }
              }
            };
            pump();
          });
        },
        async openStreams(n) {
          // TCP has no streams: each "stream" is its own TLS connection (what XMPP over TLS does).
          const got: Promise<unknown>[] = [];
          for (let i = 0; i < n; i++) {
            const pair = await open();
            pairs.push(pair);
            got.push(new Promise((r) => pair[1].once('data', r)));
            pair[0].write(Uint8Array.of(1));
          }
          await Promise.all(got);
        },
        async close() {
          for (const [a, b] of pairs) {
            a.destroy();
            b.destroy();
          }
        },
      };
    },
    async teardown() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
