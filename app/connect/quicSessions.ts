/**
 * The QUIC session pool: one QUIC connection per (server address, port, SNI), shared by every
 * account that reaches that server, each account on its own bidirectional stream (XEP-0467: one
 * XMPP stream per bidirectional QUIC stream). A connection closes when its last stream is done.
 * One `QuicEndpoint` per address family per pool, bound lazily on first use.
 *
 * Verification stays with the caller (the connector's one verifier): for a new connection the
 * caller's `verify` decides `acceptPeer()` / `rejectPeer()`; a caller joining a connection that is
 * already up gets the same chain to verify for its own domain and record before a stream is opened.
 *
 * Stream limit policy: when the server's MAX_STREAMS is reached, `acquire` waits on the same
 * connection for credit (the server raises the limit as streams close; our STREAMS_BLOCKED frame
 * tells it we wait, RFC 9000 §4.6) until the caller's `timeoutMs` or `signal`, then fails with
 * `quic-streams-exhausted`. It never opens a second connection to the same target by itself: that
 * is the connector's fallback ("a connection of its own, then TCP", with the reason recorded).
 *
 * One stream's failure is that account's alone: a reset or stopped stream closes its transport and
 * both halves of the QUIC stream (`QuicStreamTransport`), never the connection under the others.
 */
import { isIP } from 'node:net';
import { QuicEndpoint } from '../quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import { QuicStreamTransport } from '../transport/quicStreamTransport.ts';
import { abortError, ConnectError, throwIfAborted } from './connectError.ts';
import { beforeDeadline } from './deadline.ts';

export interface QuicTarget {
  /** An IP address literal. */
  address: string;
  port: number;
  /** XEP-0467: the JID's domain (or the Host Meta SNI). */
  sni: string;
  alpn: string;
}

export interface QuicAcquireOptions {
  /**
   * Handshake timeout for a new connection, and how long to wait for stream credit when the
   * server's stream limit is reached.
   */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Decides whether the server's chain (DER, end-entity first) is acceptable for this caller.
   * Rejecting (or throwing) fails this caller; on a new connection it also closes the connection.
   */
  verify(chain: Uint8Array[]): Promise<boolean>;
}

/**
 * How long a session that carries streams may be quiet before it sends a PING. The idle timeout
 * in force is the negotiated one but never below three PTOs (RFC 9000 §10.1: "To avoid excessively
 * small idle timeout periods, endpoints MUST increase the idle timeout period to be at least three
 * times the current Probe Timeout (PTO)"); a third of it leaves room for two tries, since a lost
 * PING must be repaired before the timeout (RFC 9000 §10.1.2: "An endpoint that sends packets
 * close to the effective timeout risks having them be discarded"). At most 25 s, which NATs need to
 * keep a UDP binding (RFC 4787 REQ-5 allows bindings of 2 min, many NATs keep them only 30 s), and
 * at least 1 s, so a tiny advertised timeout cannot make the session ping in a loop.
 *
 * @param idleTimeoutMs the negotiated idle timeout (`QuicConnection.idleTimeout`); 0 when neither side set one
 * @param ptoMs the connection's current PTO (`QuicConnection.pto`)
 */
export function keepAliveInterval(idleTimeoutMs: number, ptoMs: number): number {
  if (idleTimeoutMs <= 0) return NAT_KEEP_ALIVE_MS;
  const effective = Math.max(idleTimeoutMs, 3 * ptoMs);
  return Math.max(MIN_KEEP_ALIVE_MS, Math.min(NAT_KEEP_ALIVE_MS, Math.floor(effective / 3)));
}

/** The shortest keep-alive interval: one PING a second at most, whatever the peer advertises. */
const MIN_KEEP_ALIVE_MS = 1000;

/** The longest quiet a NAT binding is expected to survive, with margin (about 30 s on common NATs). */
const NAT_KEEP_ALIVE_MS = 25_000;

/** One account's stream on a (possibly shared) QUIC connection. */
export interface QuicLease {
  transport: QuicStreamTransport;
  /** The QUIC connection the stream rides on: the same object for every account sharing it. */
  connection: QuicConnectionHandle;
  chain: Uint8Array[];
  tlsFacts: TlsFacts | null;
  /** True when this stream joined a connection that was already established. */
  shared: boolean;
}

export interface QuicPoolStats {
  endpoints: number;
  connections: number;
  streams: number;
}

interface PoolEntry {
  key: string;
  handle: QuicConnectionHandle;
  /** Resolves with the chain once the first caller's verifier accepted it and the handshake completed. */
  ready: Promise<Uint8Array[]>;
  /** Streams open plus callers between acquire and stream open. */
  users: number;
  /** Streams open: while there are any, the connection sends keep-alive PINGs. */
  streams: number;
  /**
   * Callers the server's stream limit refused, oldest first. One 'streams-available' listener
   * serves them in this order; a caller that arrives while any wait queues behind them.
   */
  waiters: StreamWaiter[];
}

/** A caller waiting for stream credit on one connection. */
interface StreamWaiter {
  grant(stream: QuicStreamHandle): void;
  /** The connection closed while it waited. */
  fail(): void;
}

export class QuicSessions {
  readonly #endpoints = new Map<'udp4' | 'udp6', Promise<QuicEndpoint>>();
  readonly #entries = new Map<string, PoolEntry>();
  readonly #connecting = new Map<string, Promise<PoolEntry>>();
  #streams = 0;
  #closed = false;

  /**
   * Opens a stream to `target`, reusing its connection if one is up. Rejects with a
   * `ConnectError`: `quic-timeout`, `quic-handshake-failed`, `untrusted` (verify said no), `aborted`.
   */
  async acquire(target: QuicTarget, options: QuicAcquireOptions): Promise<QuicLease> {
    if (this.#closed) throw new ConnectError('quic-closed', 'The QUIC session pool is shut down.');
    const key = `${target.address}|${target.port}|${target.sni}|${target.alpn}`;
    const existing =
      this.#connecting.get(key) ?? (this.#entries.has(key) ? Promise.resolve(this.#entries.get(key)!) : undefined);
    let entry = existing ? await existing : undefined;
    const shared = entry !== undefined && entry.handle.closeInfo === null;
    if (!entry || !shared) {
      // Register before the first await so a concurrent caller joins this connection.
      const connecting = this.#connect(key, target, options);
      this.#connecting.set(key, connecting);
      try {
        entry = await connecting;
      } finally {
        this.#connecting.delete(key);
      }
    }
    entry.users++;
    let chain: Uint8Array[];
    try {
      chain = await beforeDeadline(entry.ready, options.signal, { reason: abortError });
      // A caller joining an established connection verifies the chain for its own account.
      if (shared && !(await options.verify(chain)))
        throw new ConnectError('untrusted', `Quiver could not verify ${target.sni} over QUIC.`);
      throwIfAborted(options.signal);
    } catch (error) {
      this.#release(entry);
      throw error;
    }
    let stream: QuicStreamHandle;
    try {
      stream = await this.#openStream(entry, target, options);
    } catch (error) {
      this.#release(entry);
      throw error;
    }
    return {
      transport: this.#wrap(entry, stream, target),
      connection: entry.handle,
      chain,
      tlsFacts: entry.handle.connection.tlsFacts,
      shared,
    };
  }

  stats(): QuicPoolStats {
    return { endpoints: this.#endpoints.size, connections: this.#entries.size, streams: this.#streams };
  }

  /** Closes every connection and endpoint. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.handle.close(0, 'closing');
    this.#entries.clear();
    const endpoints = [...this.#endpoints.values()];
    this.#endpoints.clear();
    for (const ep of endpoints) await (await ep).close();
  }

  /**
   * Opens a bidirectional stream, or waits for the server's MAX_STREAMS while its limit is reached
   * (see the class comment), first come, first served behind the callers already waiting. The
   * deadline (`timeoutMs`) starts at the first refusal: a stream that opens at once costs no timer.
   */
  #openStream(entry: PoolEntry, target: QuicTarget, options: QuicAcquireOptions): Promise<QuicStreamHandle> {
    const handle = entry.handle;
    if (handle.closeInfo) return Promise.reject(closedWhileWaiting(target, handle));
    if (entry.waiters.length === 0) {
      // RFC 9000 §4.6: "A sender SHOULD send a STREAMS_BLOCKED frame ... when it wishes to open a
      // stream but is unable to do so due to the maximum stream limit set by its peer": a refused
      // `openStream` queues it.
      const stream = handle.openStream(true);
      if (stream) return Promise.resolve(stream);
    }
    return new Promise<QuicStreamHandle>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const leave = (error: ConnectError): void => {
        const at = entry.waiters.indexOf(waiter);
        if (at >= 0) entry.waiters.splice(at, 1);
        settle();
        reject(error);
      };
      const onAbort = (): void => leave(abortError());
      const waiter: StreamWaiter = {
        grant: (stream) => {
          settle();
          resolve(stream);
        },
        fail: () => {
          settle();
          reject(closedWhileWaiting(target, handle));
        },
      };
      const timer = setTimeout(
        () =>
          leave(
            new ConnectError(
              'quic-streams-exhausted',
              `${target.sni} allowed no further QUIC stream on the shared connection within ${Math.round(options.timeoutMs / 1000)} s (its stream limit is reached); Quiver can give this account a connection of its own or use TCP.`,
            ),
          ),
        options.timeoutMs,
      );
      entry.waiters.push(waiter);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The server raised its limit: open streams for the oldest waiters while it allows. */
  #serveWaiters(entry: PoolEntry): void {
    while (entry.waiters.length > 0) {
      const stream = entry.handle.openStream(true);
      if (!stream) return;
      entry.waiters.shift()!.grant(stream);
    }
  }

  #wrap(entry: PoolEntry, stream: QuicStreamHandle, target: QuicTarget): QuicStreamTransport {
    this.#streams++;
    entry.streams++;
    this.#keepAlive(entry);
    return new QuicStreamTransport(stream, `quic ${target.address}:${target.port} stream ${stream.id}`, () => {
      this.#streams--;
      entry.streams--;
      this.#keepAlive(entry);
      this.#release(entry);
    });
  }

  /**
   * One keep-alive per session, not per account, and only while it carries streams: an idle
   * session with accounts must outlive the idle timeout (issue 11: a server advertising 10 s
   * dropped every account), one without them must not wake a laptop on battery. Called once the
   * handshake is complete, so the peer's max_idle_timeout is known.
   */
  #keepAlive(entry: PoolEntry): void {
    const handle = entry.handle;
    if (handle.closeInfo) return;
    handle.setKeepAliveInterval(
      entry.streams > 0 ? keepAliveInterval(handle.connection.idleTimeout, handle.connection.pto) : 0,
    );
  }

  #release(entry: PoolEntry): void {
    entry.users--;
    if (entry.users > 0) return;
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (entry.handle.closeInfo === null) entry.handle.close(0, '');
  }

  async #endpoint(address: string): Promise<QuicEndpoint> {
    const family = isIP(address) === 6 ? 'udp6' : 'udp4';
    let ep = this.#endpoints.get(family);
    if (!ep) {
      // Loopback peers are reached from a loopback socket; anything else from the wildcard.
      const local =
        address === '127.0.0.1' ? '127.0.0.1' : address === '::1' ? '::1' : family === 'udp6' ? '::' : '0.0.0.0';
      ep = QuicEndpoint.bind({ address: local, port: 0 });
      this.#endpoints.set(family, ep);
      ep.catch(() => this.#endpoints.delete(family));
    }
    return ep;
  }

  async #connect(key: string, target: QuicTarget, options: QuicAcquireOptions): Promise<PoolEntry> {
    const endpoint = await this.#endpoint(target.address);
    const handle = endpoint.connect({
      serverName: target.sni,
      alpn: [target.alpn],
      remoteAddress: { address: target.address, port: target.port },
      // XEP-0467 (issue 11): "Only bidirectional streams opened by the client: the client's
      // transport parameters allow the server no streams". A stream the server opens anyway is
      // STREAM_LIMIT_ERROR (RFC 9000 §4.6) and closes the connection.
      transportParams: { initialMaxStreamsBidi: 0, initialMaxStreamsUni: 0 },
    });
    const where = `${target.sni} did not answer over QUIC on UDP port ${target.port} (${target.address})`;
    const ready = new Promise<Uint8Array[]>((resolve, reject) => {
      let chain: Uint8Array[] = [];
      const timer = setTimeout(() => {
        handle.close(0, 'timeout');
        reject(new ConnectError('quic-timeout', `${where} within ${Math.round(options.timeoutMs / 1000)} s.`));
      }, options.timeoutMs);
      handle.on('peer-certificate', (received: Uint8Array[]) => {
        chain = received;
        options.verify(received).then(
          (ok) => {
            if (ok) handle.acceptPeer();
            else {
              handle.rejectPeer('certificate not trusted');
              clearTimeout(timer);
              reject(new ConnectError('untrusted', `Quiver could not verify ${target.sni} over QUIC.`));
            }
          },
          (error: unknown) => {
            handle.rejectPeer('verification failed');
            clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
      handle.established.then(
        () => {
          clearTimeout(timer);
          resolve(chain);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(
            new ConnectError(
              'quic-handshake-failed',
              `The QUIC handshake with ${target.sni} on UDP port ${target.port} failed: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
        },
      );
    });
    // Failures reach the caller through `acquire`; a later joiner would see the rejection too.
    ready.catch(() => undefined);
    const entry: PoolEntry = { key, handle, ready, users: 0, streams: 0, waiters: [] };
    this.#entries.set(key, entry);
    handle.on('streams-available', (bidi: boolean) => {
      if (bidi) this.#serveWaiters(entry);
    });
    void handle.closed.then(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      for (const waiter of entry.waiters.splice(0)) waiter.fail();
    });
    return entry;
  }
}

function closedWhileWaiting(target: QuicTarget, handle: QuicConnectionHandle): ConnectError {
  return new ConnectError(
    'quic-closed',
    `The QUIC connection to ${target.sni} closed while this account waited for a stream (${handle.closeInfo?.codeName ?? 'closed'}); Quiver will connect again.`,
  );
}
