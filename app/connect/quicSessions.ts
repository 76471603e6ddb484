/**
 * The QUIC session pool: accounts whose candidates reach the same QUIC endpoint (address, UDP
 * port, ALPN) share one QUIC connection, each on its own bidirectional stream (XEP-0467: one XMPP
 * stream per bidirectional QUIC stream), when that connection's verified identity also proves the
 * joining account's own domain. A connection closes when its last stream is done. One
 * `QuicEndpoint` per address family per pool, bound lazily on first use.
 *
 * Verification stays with the caller (the connector's one verifier): for a new connection the
 * caller's `verify` decides `acceptPeer()` / `rejectPeer()` before our Finished is sent; a caller
 * joining a connection that is up gets that connection's facts to verify for its own domain
 * before a stream is opened, and if its verifier says no it gets a connection of its own (with its
 * own SNI, so the server can present a certificate for it). Connections opened with the caller's
 * own SNI are tried first.
 *
 * Stream limit policy: when the server's MAX_STREAMS is reached, `acquire` waits on the same
 * connection for credit (the server raises the limit as streams close; our STREAMS_BLOCKED frame
 * tells it we wait, RFC 9000 §4.6) up to `streamWaitMs`, then fails with `quic-streams-exhausted`.
 * It never opens a second connection by itself: that is the connector's fallback ("a connection
 * of its own, then TCP", with the reason recorded), asked for with `sharing: 'own'`.
 *
 * One stream's failure is that account's alone: a reset or stopped stream closes its transport and
 * both halves of the QUIC stream (`QuicStreamTransport`), never the connection under the others.
 *
 * Resumption: every NewSessionTicket is kept (`TicketStore`, per SNI and ALPN, each used once; the
 * app's store is the profile, so it outlives the process), and the next connection to that name
 * offers it (RFC 8446 §2.2), so a later cold start costs no certificate transfer and signature. A
 * resumed connection's facts carry the chain stored with the ticket, which the verifier judges again.
 *
 * 0-RTT (`QuicAcquireOptions.earlyData`, quicEarlyStreams.ts): the opener of a resumed connection
 * and every account that joins it while 0-RTT is still possible send their stream headers as early
 * data, each after its own `precheck` of the ticket's chain, within the stream limit remembered
 * with the ticket; the others open their streams in 1-RTT once the handshake is done.
 *
 * Roaming: `networkChanged` moves every client connection to a fresh socket (RFC 9000 §9, a
 * new local address when the old one is gone) and reports each move as a `PathEvent`.
 */
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { QuicEndpoint } from '../quic/driver/quicEndpoint.ts';
import { formatHostPort } from '../contract/ipLiteral.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../quic/driver/quicConnectionHandle.ts';
import type { StoredTicket } from '../quic/tls/tickets.ts';
import { memoryTicketStore, type TicketStore } from './quicTicketStore.ts';
import { keepAliveInterval } from './quicKeepAlive.ts';
import { joinEarly, openEarlyStream, ticketFacts, type EarlyStream, type ZeroRttPhase } from './quicEarlyStreams.ts';
import type { SocketAddress } from '../quic/socketAddress.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import { QuicStreamTransport } from '../transport/quicStreamTransport.ts';
import type { PathEvent } from '../contract/viewModels.ts';
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
  /** Handshake timeout for a new connection. */
  timeoutMs: number;
  /** How long to wait for stream credit when the server's stream limit is reached. Default `timeoutMs`. */
  streamWaitMs?: number;
  signal?: AbortSignal;
  /**
   * 'shared' (default): join a live connection to the same endpoint whose identity `verify`
   * accepts, else open one. 'own': always open a new connection (the connector's fallback when
   * the shared one refused this account a stream).
   */
  sharing?: 'shared' | 'own';
  /**
   * Decides whether the server's chain (DER, end-entity first) and handshake facts are acceptable
   * for this caller. Rejecting (or throwing) on a new connection closes it and fails this caller
   * with the error thrown (or `untrusted`); on a connection being joined it only means this
   * caller gets a connection of its own, whose handshake it then verifies.
   */
  verify(chain: Uint8Array[], facts: TlsFacts | null, joining: boolean): Promise<boolean>;
  /**
   * Bytes that are safe to replay (issue 11: the XMPP stream header, never authentication), to
   * send as early data (0-RTT, RFC 9001 §4.6) when this caller opens a new connection with a ticket
   * that allows it, or joins one whose 0-RTT is in progress (its opener's precheck said yes, and
   * neither the server's answer nor the stream limit remembered with the ticket ended it).
   * `precheck` then runs first, on the chain stored with the ticket (facts with `resumed: true`,
   * the connection's SNI), and the bytes go out only once it said yes. The handshake is still
   * judged by `verify` when the server's answer arrives (a resumed one on the ticket's chain
   * again; a joiner's with `joining`), so only `verify` may have effects (a record, winning a
   * race); a joiner that `verify` refuses has its early stream reset. If the server does not
   * resume, `verify` judges the chain it sent. The lease's transport does not send again the first
   * write(s) that repeat these bytes (`QuicStreamTransport.sentEarly`). Ignored without such a
   * ticket, without `precheck`, or once 0-RTT is over (then the stream opens in 1-RTT).
   */
  earlyData?: Uint8Array;
  /**
   * Judges a ticket's stored chain before `earlyData` goes out, without effects: no record, no
   * claim on a race (a ticket from home must not make a network that blocks UDP look answered).
   */
  precheck?(chain: Uint8Array[], facts: TlsFacts): Promise<boolean>;
}

export interface QuicSessionsOptions {
  /** Default: in memory, for this process. The app passes `profileTicketStore(storage)`. */
  tickets?: TicketStore;
  /** The wall clock (ms since the epoch): ticket expiry, path event times. Default `Date.now`. */
  wallClock?: () => number;
}

/** How long `networkChanged` waits for a migrated path to validate before reporting it. */
const PATH_VALIDATION_WAIT_MS = 3000;

/** One account's stream on a (possibly shared) QUIC connection. */
export interface QuicLease {
  transport: QuicStreamTransport;
  /** The QUIC connection the stream rides on: the same object for every account sharing it. */
  connection: QuicConnectionHandle;
  /** Quiver's id for that connection (`SecurityRecord.quicConnectionId`): the same for every account on it. */
  connectionId: string;
  streamId: number;
  /** The handshake's facts (a joiner gets the facts of the connection it joined). */
  tlsFacts: TlsFacts;
  /** True when this stream joined a connection that was already there. */
  shared: boolean;
  /**
   * True when this stream's first bytes (`QuicAcquireOptions.earlyData`) were sent in 0-RTT; the
   * connection's `earlyDataState` says whether the server accepted them (if not, they went again
   * in 1-RTT).
   */
  early: boolean;
  /** Other streams on the connection when this one opened. */
  sharedWith: number;
  /** The socket's local address (`address:port`; a wildcard address when bound to all). */
  localAddress: string;
  remoteAddress: string;
}

export interface QuicPoolStats {
  endpoints: number;
  connections: number;
  streams: number;
}

/** A path event of one pool connection, for the records of every account on it. */
export interface QuicPathReport {
  connectionId: string;
  event: PathEvent;
}

interface PoolEntry {
  id: string;
  key: string;
  sni: string;
  /** Set once the endpoint is bound (before `ready` can resolve). */
  handle: QuicConnectionHandle | null;
  /** Resolves with the facts once the first caller's verifier accepted them and the handshake completed. */
  ready: Promise<TlsFacts>;
  /** Streams open plus callers between acquire and stream open. */
  users: number;
  /** Streams open: while there are any, the connection sends keep-alive PINGs. */
  streams: number;
  /**
   * Callers the server's stream limit refused, oldest first. One 'streams-available' listener
   * serves them in this order; a caller that arrives while any wait queues behind them.
   */
  waiters: StreamWaiter[];
  family: 'udp4' | 'udp6';
  /** The opener's 0-RTT stream (`QuicAcquireOptions.earlyData`), until its lease takes it. */
  early: EarlyStream | null;
  /**
   * Joiners' 0-RTT streams, until the server's answer: if it did not take the early data (or did
   * not resume), they are reset before the opener's verdict lets 1-RTT data out, because the QUIC
   * layer would otherwise send their bytes again to a server no joiner's verify has judged yet.
   */
  joinersEarly: Set<EarlyStream>;
  /**
   * Settles once the opener's precheck did: the connection's 0-RTT phase for joiners, or null
   * when it sends no early data (no ticket allowing it, no `earlyData`, a precheck that said no,
   * a connection that failed first).
   */
  zeroRtt: Promise<ZeroRttPhase | null>;
  settleZeroRtt: (phase: ZeroRttPhase | null) => void;
}

/** A caller waiting for stream credit on one connection. */
interface StreamWaiter {
  grant(stream: QuicStreamHandle): void;
  /** The connection closed while it waited. */
  fail(): void;
}

/**
 * Events: 'path' (`QuicPathReport`): a connection moved to a new local address, or could not;
 * 'ticket-not-kept' (`unknown` error): the ticket store failed to take or keep a ticket (the
 * connection it concerns makes, or the next one will make, a full handshake).
 */
export class QuicSessions extends EventEmitter {
  readonly #endpoints = new Map<'udp4' | 'udp6', Promise<QuicEndpoint>>();
  /** Live and connecting connections by endpoint key (address, port, ALPN). */
  readonly #entries = new Map<string, PoolEntry[]>();
  readonly #tickets: TicketStore;
  readonly #wallClock: () => number;
  #streams = 0;
  #closed = false;

  constructor(options: QuicSessionsOptions = {}) {
    super();
    this.#tickets = options.tickets ?? memoryTicketStore();
    this.#wallClock = options.wallClock ?? (() => Date.now());
  }

  /**
   * Opens a stream to `target`: on a live connection to the same endpoint whose identity this
   * caller's `verify` accepts (unless `sharing: 'own'`), else on a new connection. Rejects with a
   * `ConnectError`: `quic-timeout`, `quic-handshake-failed`, `quic-streams-exhausted`,
   * `quic-closed`, `untrusted` (verify said no), `aborted`; or what `verify` threw.
   */
  async acquire(target: QuicTarget, options: QuicAcquireOptions): Promise<QuicLease> {
    if (this.#closed) throw new ConnectError('quic-closed', 'The QUIC session pool is shut down.');
    const key = endpointKey(target);
    if ((options.sharing ?? 'shared') === 'shared') {
      // The caller's own name first: that identity was proven for exactly this SNI.
      const live = [...(this.#entries.get(key) ?? [])].sort(
        (a, b) => Number(b.sni === target.sni) - Number(a.sni === target.sni),
      );
      for (const entry of live) {
        if (entry.handle?.closeInfo) continue;
        // A joiner's header goes early while the connection's 0-RTT is in progress.
        const joined: { early: EarlyStream | null } = { early: null };
        let facts: TlsFacts;
        try {
          facts = await this.#hold(
            entry,
            options.signal,
            () => joined.early?.transport.destroy(),
            async () => {
              joined.early = await this.#joinEarly(entry, target, options);
              if (joined.early) entry.joinersEarly.add(joined.early);
            },
          );
        } catch (error) {
          // Only this caller's own abort ends it. The connection's opener may have been aborted
          // (it lost its own race to TCP, or was stopped): for this caller that connection simply
          // failed.
          if (isAbort(error) && options.signal?.aborted) throw error;
          continue; // that connection failed: try the next, or open one
        }
        // A verifier that throws counts as a no: a connection of its own, verified anew.
        const ok = await options.verify(facts.chain, facts, true).catch(() => false);
        if (!ok || entry.handle?.closeInfo) {
          // A header sent early on a connection this account may not use: its stream ends.
          joined.early?.transport.destroy();
          this.#release(entry);
          throwIfAborted(options.signal);
          continue;
        }
        return this.#lease(entry, target, options, facts, true, joined.early);
      }
    }
    const entry = this.#connect(key, target, options);
    const facts = await this.#hold(entry, options.signal, () => {
      // A header sent early for nobody: its stream ends (the connection may carry others later).
      if (entry.early && !entry.early.leased) entry.early.transport.destroy();
    });
    // The opener takes the stream its header went out on in 0-RTT.
    const early = entry.early && !entry.early.leased ? entry.early : null;
    return this.#lease(entry, target, options, facts, false, early);
  }

  /**
   * Counts the caller as a user of `entry`, runs `before` (a joiner's 0-RTT stream) and waits for
   * its handshake; on failure or the caller's abort, runs `cleanUp`, releases the entry and rejects.
   */
  async #hold(
    entry: PoolEntry,
    signal: AbortSignal | undefined,
    cleanUp?: () => void,
    before?: () => Promise<void>,
  ): Promise<TlsFacts> {
    entry.users++;
    try {
      await before?.();
      const facts = await beforeDeadline(entry.ready, signal, { reason: abortError });
      throwIfAborted(signal);
      return facts;
    } catch (error) {
      cleanUp?.();
      this.#release(entry);
      throw error;
    }
  }

  stats(): QuicPoolStats {
    let connections = 0;
    for (const list of this.#entries.values()) connections += list.length;
    return { endpoints: this.#endpoints.size, connections, streams: this.#streams };
  }

  /**
   * The network changed (NetworkMonitor): every endpoint moves to a fresh socket and each client
   * connection on it migrates (RFC 9000 §9: path validation from the new address, no new
   * handshake); one that cannot is closed, and its streams end, so their accounts reconnect.
   * Resolves once each moved connection's new path validated (or `PATH_VALIDATION_WAIT_MS`
   * passed), with one report per connection; each is also emitted as 'path'.
   * `hint` names the addresses the change removed and added, for the reports.
   */
  async networkChanged(hint: { from?: string | null; to?: string | null } = {}): Promise<QuicPathReport[]> {
    if (this.#closed) return [];
    const reports: Promise<QuicPathReport | null>[] = [];
    for (const [family, pending] of [...this.#endpoints]) {
      let endpoint: QuicEndpoint;
      try {
        endpoint = await pending;
      } catch {
        continue; // never bound: nothing rides on it
      }
      const entries = [...this.#entries.values()].flat().filter((e) => e.family === family && e.handle);
      if (entries.length === 0) continue;
      const before = new Map(
        entries.map((e) => [e, { rtt: rttOf(e.handle!), local: socketText(endpoint.address) }] as const),
      );
      try {
        // A loopback-bound endpoint (the lab) keeps its address; everything else takes whatever
        // address the kernel now routes from.
        await endpoint.rebind({ address: endpoint.address.address, port: 0 });
      } catch (error) {
        for (const entry of entries)
          reports.push(
            Promise.resolve(
              this.#report(entry, {
                kind: 'migration-failed',
                from: hint.from ?? before.get(entry)!.local,
                to: hint.to ?? null,
                rttBeforeMs: before.get(entry)!.rtt,
                rttAfterMs: null,
                detail: `Quiver could not open a socket on the new network: ${(error as Error).message}`,
              }),
            ),
          );
        continue;
      }
      const local = socketText(endpoint.address);
      for (const entry of entries) {
        const handle = entry.handle!;
        const was = before.get(entry)!;
        const from = hint.from ? `${hint.from} (${was.local})` : was.local;
        const to = hint.to ? `${hint.to} (${local})` : local;
        if (handle.closeInfo) {
          reports.push(
            Promise.resolve(
              this.#report(entry, {
                kind: 'migration-failed',
                from,
                to,
                rttBeforeMs: was.rtt,
                rttAfterMs: null,
                detail: `The QUIC connection could not move to the new address (${handle.closeInfo.reason || handle.closeInfo.codeName}); its accounts connect again.`,
              }),
            ),
          );
          continue;
        }
        reports.push(
          waitForPath(handle, PATH_VALIDATION_WAIT_MS).then((validated) =>
            this.#report(entry, {
              kind: validated ? 'migrated' : 'migration-failed',
              from,
              to,
              rttBeforeMs: was.rtt,
              rttAfterMs: validated ? rttOf(handle) : null,
              detail: validated
                ? 'The QUIC connection moved to the new address without a new handshake (path validated).'
                : `The new path was not validated within ${PATH_VALIDATION_WAIT_MS / 1000} s; the connection keeps trying until its idle timeout.`,
            }),
          ),
        );
      }
    }
    return (await Promise.all(reports)).filter((r): r is QuicPathReport => r !== null);
  }

  /** Closes every connection and endpoint. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of [...this.#entries.values()].flat()) entry.handle?.close(0, 'closing');
    this.#entries.clear();
    const endpoints = [...this.#endpoints.values()];
    this.#endpoints.clear();
    for (const ep of endpoints) {
      try {
        await (await ep).close();
      } catch {
        // never bound: nothing to close
      }
    }
  }

  /**
   * Runs `precheck` on the chain stored with `ticket` and, when it says yes while 0-RTT is still
   * possible (and the opener was not stopped), opens the stream with `bytes` as early data
   * (`entry.early`). Resolves with the verdict; the 'peer-certificate' handler waits for it to
   * settle before `verify` judges the handshake.
   */
  #sendEarly(
    entry: PoolEntry,
    handle: QuicConnectionHandle,
    target: QuicTarget,
    ticket: StoredTicket,
    bytes: Uint8Array,
    options: QuicAcquireOptions,
  ): Promise<boolean> {
    const facts = ticketFacts(ticket, target.sni);
    const verdict = options.precheck!(facts.chain, facts).then((ok) => {
      // The opener may have been stopped meanwhile: a header for nobody is not sent.
      if (ok && !options.signal?.aborted) entry.early = openEarlyStream(handle, target, bytes);
      return ok;
    });
    // The 'peer-certificate' handler reports a rejection; until then it must not go unobserved.
    verdict.catch(() => undefined);
    return verdict;
  }

  /** A ticket for `target`'s name and ALPN, or none; a store that fails means a full handshake. */
  #takeTicket(target: QuicTarget): StoredTicket | null {
    try {
      return this.#tickets.take(target.sni, target.alpn, this.#wallClock());
    } catch (error) {
      this.emit('ticket-not-kept', error);
      return null;
    }
  }

  #report(entry: PoolEntry, fields: Omit<PathEvent, 'at'>): QuicPathReport {
    const report: QuicPathReport = { connectionId: entry.id, event: { at: this.#wallClock(), ...fields } };
    this.emit('path', report);
    return report;
  }

  /**
   * A joiner's stream in 0-RTT (see `QuicAcquireOptions.earlyData`): once the opener's precheck
   * settled, this caller's own precheck judges the ticket's chain; null when nothing went early.
   */
  async #joinEarly(entry: PoolEntry, target: QuicTarget, options: QuicAcquireOptions): Promise<EarlyStream | null> {
    if (options.earlyData === undefined || options.precheck === undefined) return null;
    const phase = await beforeDeadline(entry.zeroRtt, options.signal, { reason: abortError });
    if (phase === null) return null;
    return joinEarly(phase, target, options.earlyData, options.precheck, options.signal);
  }

  /** `early`: the caller's stream sent in 0-RTT, if any (one that already ended is replaced). */
  async #lease(
    entry: PoolEntry,
    target: QuicTarget,
    options: QuicAcquireOptions,
    facts: TlsFacts,
    shared: boolean,
    early: EarlyStream | null,
  ): Promise<QuicLease> {
    const handle = entry.handle!;
    const sharedWith = entry.streams;
    let stream: QuicStreamHandle;
    if (early?.stream.ended || early?.discarded) {
      early.transport.destroy();
      early = null;
    }
    try {
      if (early) {
        early.leased = true;
        stream = early.stream;
      } else stream = await this.#openStream(entry, target, options);
    } catch (error) {
      this.#release(entry);
      throw error;
    }
    const endpoint = await this.#endpoints.get(entry.family)!;
    return {
      transport: this.#wrap(entry, stream, target, early),
      connection: handle,
      connectionId: entry.id,
      streamId: stream.id,
      tlsFacts: facts,
      shared,
      early: early !== null,
      sharedWith,
      localAddress: socketText(endpoint.address),
      remoteAddress: socketText(handle.remoteAddress),
    };
  }

  /**
   * Opens a bidirectional stream, or waits for the server's MAX_STREAMS while its limit is reached
   * (see the class comment), first come, first served behind the callers already waiting. The
   * deadline (`streamWaitMs`) starts at the first refusal: a stream that opens at once costs no timer.
   */
  #openStream(entry: PoolEntry, target: QuicTarget, options: QuicAcquireOptions): Promise<QuicStreamHandle> {
    const handle = entry.handle!;
    if (handle.closeInfo) return Promise.reject(closedWhileWaiting(target, handle));
    if (entry.waiters.length === 0) {
      // RFC 9000 §4.6: "A sender SHOULD send a STREAMS_BLOCKED frame ... when it wishes to open a
      // stream but is unable to do so due to the maximum stream limit set by its peer": a refused
      // `openStream` queues it.
      const stream = handle.openStream(true);
      if (stream) return Promise.resolve(stream);
    }
    const waitMs = options.streamWaitMs ?? options.timeoutMs;
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
              `${target.sni} allowed no further QUIC stream on the shared connection within ${formatSeconds(waitMs)} (its stream limit is reached).`,
            ),
          ),
        waitMs,
      );
      entry.waiters.push(waiter);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The server raised its limit: open streams for the oldest waiters while it allows. */
  #serveWaiters(entry: PoolEntry): void {
    while (entry.waiters.length > 0) {
      const stream = entry.handle!.openStream(true);
      if (!stream) return;
      entry.waiters.shift()!.grant(stream);
    }
  }

  #wrap(
    entry: PoolEntry,
    stream: QuicStreamHandle,
    target: QuicTarget,
    early: EarlyStream | null = null,
  ): QuicStreamTransport {
    this.#streams++;
    entry.streams++;
    this.#keepAlive(entry);
    const finished = (): void => {
      this.#streams--;
      entry.streams--;
      this.#keepAlive(entry);
      this.#release(entry);
    };
    if (early) {
      // Made when the stream opened, so that nothing it received was missed.
      early.finished = finished;
      early.transport.sentEarly(early.bytes);
      return early.transport;
    }
    return new QuicStreamTransport(stream, `quic ${target.address}:${target.port} stream ${stream.id}`, finished);
  }

  /**
   * One keep-alive per session, not per account, and only while it carries streams: an idle
   * session with accounts must outlive the idle timeout (issue 11: a server advertising 10 s
   * dropped every account), one without them must not wake a laptop on battery. Called once the
   * handshake is complete, so the peer's max_idle_timeout is known.
   */
  #keepAlive(entry: PoolEntry): void {
    const handle = entry.handle!;
    if (handle.closeInfo) return;
    handle.setKeepAliveInterval(
      entry.streams > 0 ? keepAliveInterval(handle.connection.idleTimeout, handle.connection.pto) : 0,
    );
  }

  #release(entry: PoolEntry): void {
    entry.users--;
    if (entry.users > 0) return;
    this.#forget(entry);
    if (entry.handle && entry.handle.closeInfo === null) entry.handle.close(0, '');
  }

  #forget(entry: PoolEntry): void {
    const list = this.#entries.get(entry.key);
    if (!list) return;
    const at = list.indexOf(entry);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.#entries.delete(entry.key);
  }

  #endpoint(family: 'udp4' | 'udp6', address: string): Promise<QuicEndpoint> {
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

  /** Registers the new connection before its first await, so concurrent callers find it. */
  #connect(key: string, target: QuicTarget, options: QuicAcquireOptions): PoolEntry {
    const family = isIP(target.address) === 6 ? 'udp6' : 'udp4';
    const entry: PoolEntry = {
      id: randomBytes(6).toString('hex'),
      key,
      sni: target.sni,
      handle: null,
      ready: Promise.resolve(null as unknown as TlsFacts),
      users: 0,
      streams: 0,
      waiters: [],
      family,
      early: null,
      joinersEarly: new Set(),
      zeroRtt: Promise.resolve(null),
      settleZeroRtt: () => undefined,
    };
    entry.zeroRtt = new Promise((resolve) => (entry.settleZeroRtt = resolve));
    entry.ready = this.#handshake(entry, family, target, options);
    // Failures reach the caller through `acquire`; a later joiner would see the rejection too.
    entry.ready.catch(() => {
      entry.settleZeroRtt(null);
      this.#forget(entry);
    });
    const list = this.#entries.get(key) ?? [];
    list.push(entry);
    this.#entries.set(key, list);
    return entry;
  }

  async #handshake(
    entry: PoolEntry,
    family: 'udp4' | 'udp6',
    target: QuicTarget,
    options: QuicAcquireOptions,
  ): Promise<TlsFacts> {
    const endpoint = await this.#endpoint(family, target.address);
    if (this.#closed) throw new ConnectError('quic-closed', 'The QUIC session pool is shut down.');
    const ticket = this.#takeTicket(target);
    const earlyBytes =
      options.earlyData !== undefined && options.precheck !== undefined && ticket?.earlyData !== undefined
        ? options.earlyData
        : null;
    const handle = endpoint.connect({
      serverName: target.sni,
      alpn: [target.alpn],
      remoteAddress: { address: target.address, port: target.port },
      // XEP-0467 (issue 11): "Only bidirectional streams opened by the client: the client's
      // transport parameters allow the server no streams". A stream the server opens anyway is
      // STREAM_LIMIT_ERROR (RFC 9000 §4.6) and closes the connection.
      transportParams: { initialMaxStreamsBidi: 0, initialMaxStreamsUni: 0 },
      ticket,
      earlyData: earlyBytes !== null,
    });
    entry.handle = handle;
    // 0-RTT: the one verifier judges the ticket's chain before the early bytes go out.
    const earlyVerdict =
      earlyBytes && ticket ? this.#sendEarly(entry, handle, target, ticket, earlyBytes, options) : null;
    // Joiners send early only on a connection whose opener's precheck accepted the ticket's chain.
    if (earlyVerdict && ticket)
      void earlyVerdict.then(
        (ok) => entry.settleZeroRtt(ok ? { handle, ticket, sni: target.sni } : null),
        () => entry.settleZeroRtt(null),
      );
    else entry.settleZeroRtt(null);
    handle.on('session-ticket', (ticket: StoredTicket) => {
      try {
        this.#tickets.put(target.sni, target.alpn, ticket, this.#wallClock());
      } catch (error) {
        // The store failed (a profile closed under a late ticket, a full disk): the next connection
        // to this name makes a full handshake. Reported, never thrown out of the socket's handler.
        this.emit('ticket-not-kept', error);
      }
    });
    handle.on('streams-available', (bidi: boolean) => {
      if (bidi) this.#serveWaiters(entry);
    });
    void handle.closed.then(() => {
      this.#forget(entry);
      for (const waiter of entry.waiters.splice(0)) waiter.fail();
    });
    const where = `${target.sni} did not answer over QUIC on UDP port ${target.port} (${target.address})`;
    return new Promise<TlsFacts>((resolve, reject) => {
      let facts: TlsFacts | null = null;
      const timer = setTimeout(() => {
        handle.close(0, 'timeout');
        reject(new ConnectError('quic-timeout', `${where} within ${formatSeconds(options.timeoutMs)}.`));
      }, options.timeoutMs);
      handle.on('peer-certificate', (received: Uint8Array[]) => {
        facts = handle.connection.tlsFacts ?? {
          version: 'TLSv1.3',
          cipher: null,
          alpn: target.alpn,
          sni: target.sni,
          chain: received,
          channelBinding: null,
        };
        // The handshake is judged here in every case, after the ticket's precheck has settled (two
        // verifications at once could leave the record describing the wrong chain). A resumed
        // handshake's chain is the ticket's: the verifier's reuse makes the second look cheap.
        const judged = facts;
        const verdict = (earlyVerdict ?? Promise.resolve(true))
          .catch(() => false)
          .then(() => options.verify(received, judged, false));
        verdict.then(
          (ok) => {
            // Early data the server did not take goes again in 1-RTT once the peer is accepted: the
            // opener's verdict covers the opener only. Joiners' streams end here and each opens a
            // new one after its own verify (their leases replace an ended early stream).
            if (handle.connection.earlyDataState !== 'accepted' || facts?.resumed !== true)
              for (const early of entry.joinersEarly) {
                early.discarded = true;
                early.transport.destroy();
              }
            entry.joinersEarly.clear();
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
          resolve(handle.connection.tlsFacts ?? (facts as TlsFacts));
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
  }
}

function endpointKey(target: QuicTarget): string {
  return `${target.address}|${target.port}|${target.alpn}`;
}

function isAbort(error: unknown): boolean {
  return error instanceof ConnectError && error.code === 'aborted';
}

function rttOf(handle: QuicConnectionHandle): number | null {
  const rtt = handle.connection.stats.smoothedRtt;
  return rtt > 0 ? Math.round(rtt * 10) / 10 : null;
}

function socketText(address: SocketAddress): string {
  return formatHostPort(address.address, address.port);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** Resolves true when the connection reports a validated path (or migration), false on timeout or close. */
function waitForPath(handle: QuicConnectionHandle, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      handle.off('path-validated', onOk);
      handle.off('closed', onClosed);
      resolve(ok);
    };
    const onOk = (): void => done(true);
    const onClosed = (): void => done(false);
    const timer = setTimeout(() => done(false), ms);
    handle.on('path-validated', onOk);
    handle.on('closed', onClosed);
  });
}

function closedWhileWaiting(target: QuicTarget, handle: QuicConnectionHandle): ConnectError {
  return new ConnectError(
    'quic-closed',
    `The QUIC connection to ${target.sni} closed while this account waited for a stream (${handle.closeInfo?.codeName ?? 'closed'}); Quiver will connect again.`,
  );
}
