/**
 * A direct-TLS listener on 127.0.0.1 with the test certificate (test/unit/quic/fixtures), for
 * scripted servers in unit tests. It owns its sockets: when the test ends, every one is destroyed
 * and the listener closed.
 */
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

const FIXTURES = new URL('../unit/quic/fixtures/', import.meta.url);

export interface TlsTestServer {
  port: number;
  /** The connections still open. */
  sockets: ReadonlySet<tls.TLSSocket>;
}

/**
 * Listens on an ephemeral port and hands each accepted socket to `onSocket`. A socket error
 * destroys that socket (the client's side of the test sees the close).
 */
export async function tlsTestServer(t: TestContext, onSocket: (socket: tls.TLSSocket) => void): Promise<TlsTestServer> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(
    {
      cert: readFileSync(new URL('server.cert.pem', FIXTURES)),
      key: readFileSync(new URL('server.key.pem', FIXTURES)),
    },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      onSocket(socket);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets };
}
