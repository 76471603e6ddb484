/**
 * Loopback pieces for the gateway tests: a TCP server standing in for the XMPP server's plaintext
 * port that records every connection, and a QUIC client (our own `QuicEndpoint`) that opens
 * streams through the gateway. Everything waits on events, each with a bound.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';

/** Rejects when `promise` has not settled within `ms` (the bound every wait in these tests has). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** One TCP connection the backend accepted. */
export class BackendConnection {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<number>;
  private readonly waiters: Array<{ text: string; resolve: () => void }> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.received += d;
      for (const w of [...this.waiters])
        if (this.received.includes(w.text)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
    });
    // Resolves with the time (performance.now) the socket closed, reset (an error) or not.
    this.closed = new Promise((resolve) => socket.on('close', () => resolve(performance.now())));
    socket.on('error', (error) => void error);
  }

  /** Resolves once `text` has arrived on this connection. */
  receivedText(text: string): Promise<void> {
    if (this.received.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }
}

/**
 * A TCP server on 127.0.0.1: each connection is recorded; with `echo` it writes back what it gets.
 * `next()` resolves with the next connection accepted (in order).
 */
export class Backend {
  readonly connections: BackendConnection[] = [];
  private readonly server: Server;
  private readonly pending: Array<(c: BackendConnection) => void> = [];
  private taken = 0;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(opts: { echo?: boolean } = {}): Promise<Backend> {
    const server = createServer();
    const backend = new Backend(server);
    server.on('connection', (socket) => {
      const c = new BackendConnection(socket);
      if (opts.echo ?? true) socket.on('data', (d: string) => socket.write(`echo:${d}`));
      backend.connections.push(c);
      backend.pending.shift()?.(c);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return backend;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The next connection not yet handed out by `next`, waiting for it if need be. */
  next(): Promise<BackendConnection> {
    const c = this.connections[this.taken];
    if (c) {
      this.taken++;
      return Promise.resolve(c);
    }
    return new Promise((resolve) => this.pending.push((conn) => (this.taken++, resolve(conn))));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** The client's side of one stream: what it received, and promises for its end and reset. */
export class ClientStream {
  readonly stream: QuicStreamHandle;
  received = '';
  readonly ended: Promise<void>;
  readonly reset: Promise<number>;
  private readonly waiters: Array<{ text: string; resolve: () => void }> = [];

  constructor(stream: QuicStreamHandle) {
    this.stream = stream;
    stream.on('data', (d: Uint8Array) => {
      this.received += Buffer.from(d).toString('utf8');
      for (const w of [...this.waiters])
        if (this.received.includes(w.text)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
    });
    this.ended = once(stream, 'end').then(() => undefined);
    this.reset = once(stream, 'reset').then(([code]) => code as number);
    // The tests that do not wait on these must not leave a rejection unobserved.
    this.ended.catch((error: unknown) => void error);
    this.reset.catch((error: unknown) => void error);
  }

  receivedText(text: string): Promise<void> {
    if (this.received.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }

  write(text: string): void {
    this.stream.write(Buffer.from(text));
  }
}

/** A QUIC client endpoint connected to `port` on loopback, SNI quic.example (or `serverName`), ALPN xmpp-client. */
export async function quicClient(
  port: number,
  opts: { alpn?: string; serverName?: string } = {},
): Promise<{ ep: QuicEndpoint; conn: QuicConnectionHandle }> {
  const ep = await QuicEndpoint.bind();
  const conn = ep.connect({
    serverName: opts.serverName ?? 'quic.example',
    alpn: [opts.alpn ?? 'xmpp-client'],
    remoteAddress: { address: '127.0.0.1', port },
  });
  conn.on('peer-certificate', () => conn.acceptPeer());
  return { ep, conn };
}

/** Opens a stream on `conn` (throws when the gateway's stream limit is reached). */
export function openStream(conn: QuicConnectionHandle): ClientStream {
  const s = conn.openStream(true);
  if (!s) throw new Error('no stream credit');
  return new ClientStream(s);
}
