/**
 * A simulated network for two `QuicConnection`s (quinn-proto's `Pair`): a fake clock, one-way
 * latency, and seeded loss, reordering and duplication. No sockets, no sleeps.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  QuicConnection,
  type ClientConnectOptions,
  type QuicEvent,
  type ServerAcceptOptions,
  type SocketAddress,
} from '../../app/quic/quicConnection.ts';
import { parseHeader, protectPacket } from '../../app/quic/packetHeader.ts';
import type { PacketKeys } from '../../app/quic/packetProtection.ts';
import { buildRetryPacket, RetryToken } from '../../app/quic/retryToken.ts';
import { seededRandom } from './seededRandom.ts';

const FIXTURES = new URL('../unit/quic/fixtures/', import.meta.url);

export function testCertificate(): { certificateChain: Uint8Array[]; privateKey: KeyObject } {
  const cert = new X509Certificate(readFileSync(new URL('server.cert.pem', FIXTURES)));
  const privateKey = createPrivateKey(readFileSync(new URL('server.key.pem', FIXTURES)));
  return { certificateChain: [new Uint8Array(cert.raw)], privateKey };
}

export interface LinkConditions {
  /** One-way delay in ms. */
  latency: number;
  /** Probability that a datagram is lost. */
  loss: number;
  /** Probability that a datagram gets extra random delay (up to `latency`), reordering it. */
  reorder: number;
  /** Probability that a datagram is delivered twice. */
  duplicate: number;
  /** The largest datagram the link carries; larger ones are dropped (no fragmentation). */
  mtu: number;
}

interface InFlight {
  at: number;
  seq: number;
  toServer: boolean;
  data: Uint8Array;
  from: SocketAddress;
  to: SocketAddress;
}

export interface PairOptions {
  seed?: number;
  link?: Partial<LinkConditions>;
  client?: Partial<ClientConnectOptions>;
  server?: Partial<ServerAcceptOptions>;
  /** Client: accept the server's certificate automatically (default true). */
  autoAccept?: boolean;
  /** Server: answer the first Initial with a Retry (RFC 9000 §8.1.2). */
  retry?: boolean;
}

export class Pair {
  now = 1000;
  readonly link: LinkConditions;
  readonly rng: () => number;
  clientAddr: SocketAddress = { address: '10.0.0.1', port: 50000 };
  readonly serverAddr: SocketAddress = { address: '10.0.0.2', port: 443 };
  readonly client: QuicConnection;
  server: QuicConnection | null = null;
  readonly clientEvents: QuicEvent[] = [];
  readonly serverEvents: QuicEvent[] = [];
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly serverOptions: Partial<ServerAcceptOptions>;
  private readonly autoAccept: boolean;
  private readonly retry: boolean;
  private readonly retryTokens = new RetryToken(new Uint8Array(32).fill(7));
  retriesSent = 0;
  /** Datagrams handed to the network, per direction (for assertions). */
  sentToServer = 0;
  sentToClient = 0;
  /** The largest datagram the client handed to the network. */
  largestToServer = 0;
  /** When set, datagrams from the client appear to come from this address (NAT rebinding). */
  natRewrite: SocketAddress | null = null;
  /** Drop everything while true (a blackout). */
  blackout = false;

  constructor(opts: PairOptions = {}) {
    this.rng = seededRandom(opts.seed ?? 1);
    this.link = { latency: 10, loss: 0, reorder: 0, duplicate: 0, mtu: Infinity, ...opts.link };
    this.serverOptions = opts.server ?? {};
    this.autoAccept = opts.autoAccept ?? true;
    this.retry = opts.retry ?? false;
    this.client = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: this.serverAddr,
      now: this.now,
      wallClock: Date.now,
      ...opts.client,
    });
  }

  private acceptServer(data: Uint8Array, from: SocketAddress): QuicConnection | null {
    let header;
    try {
      header = parseHeader(data, 0, 8);
    } catch {
      return null;
    }
    if (header.form !== 'long' || header.type !== 'initial') return null;
    let originalDcid: Uint8Array = header.dcid.slice();
    const extra: Partial<ServerAcceptOptions> = {};
    if (this.retry) {
      if (header.token.length === 0) {
        const retryScid = Uint8Array.from([7, 7, 7, 7, 7, 7, 7, 7]);
        const token = this.retryTokens.mint(from, header.dcid, retryScid, this.now);
        this.retriesSent++;
        this.send(false, buildRetryPacket(header.scid, retryScid, token, header.dcid), this.serverAddr, from);
        return null;
      }
      const valid = this.retryTokens.validate(from, header.token, this.now);
      if (!valid) return null;
      originalDcid = valid.odcid;
      extra.retrySourceCid = valid.retryScid;
      extra.addressValidated = true;
    }
    return QuicConnection.accept({
      ...extra,
      alpn: ['xmpp-client'],
      ...testCertificate(),
      originalDcid,
      clientScid: header.scid.slice(),
      localCid: Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4]),
      remoteAddress: from,
      now: this.now,
      wallClock: Date.now,
      ...this.serverOptions,
    });
  }

  private send(toServer: boolean, data: Uint8Array, from: SocketAddress, to: SocketAddress): void {
    if (toServer) {
      this.sentToServer++;
      this.largestToServer = Math.max(this.largestToServer, data.length);
    } else this.sentToClient++;
    if (this.blackout || data.length > this.link.mtu || this.rng() < this.link.loss) return;
    const copies = this.rng() < this.link.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const extra = this.rng() < this.link.reorder ? this.rng() * this.link.latency : 0;
      this.queue.push({
        at: this.now + this.link.latency + extra,
        seq: this.seq++,
        toServer,
        data: data.slice(),
        from,
        to,
      });
    }
  }

  /** Moves everything both sides want to send onto the wire and collects their events. */
  flush(): void {
    for (let guard = 0; guard < 10000; guard++) {
      let moved = false;
      for (let t = this.client.pollTransmit(this.now); t; t = this.client.pollTransmit(this.now)) {
        this.send(true, t.data, this.natRewrite ?? this.clientAddr, t.to);
        moved = true;
      }
      if (this.server) {
        for (let t = this.server.pollTransmit(this.now); t; t = this.server.pollTransmit(this.now)) {
          this.send(false, t.data, this.serverAddr, t.to);
          moved = true;
        }
      }
      moved = this.collectEvents() || moved;
      if (!moved) return;
    }
    throw new Error('Pair.flush: endpoints never stopped sending');
  }

  private collectEvents(): boolean {
    let any = false;
    for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) {
      this.clientEvents.push(e);
      if (e.type === 'peer-certificate' && this.autoAccept) this.client.acceptPeer();
      any = true;
    }
    if (this.server) {
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
        this.serverEvents.push(e);
        any = true;
      }
    }
    return any;
  }

  /** The next instant something happens (a delivery or a timer), or undefined when idle. */
  private nextTime(): number | undefined {
    let t = Infinity;
    for (const d of this.queue) t = Math.min(t, d.at);
    t = Math.min(t, this.client.pollTimeout() ?? Infinity);
    if (this.server) t = Math.min(t, this.server.pollTimeout() ?? Infinity);
    return t === Infinity ? undefined : t;
  }

  /** Advances to the next event and processes it. Returns false when nothing is left to do. */
  step(): boolean {
    this.flush();
    const t = this.nextTime();
    if (t === undefined) return false;
    this.now = Math.max(this.now, t);
    const due = this.queue.filter((d) => d.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.queue = this.queue.filter((d) => d.at > this.now);
    for (const d of due) {
      if (d.toServer) {
        // The server only answers at its own address; datagrams to other addresses are lost.
        if (d.to.address !== this.serverAddr.address || d.to.port !== this.serverAddr.port) continue;
        if (!this.server) {
          this.server = this.acceptServer(d.data, d.from);
          if (!this.server) continue;
        }
        this.server.handleDatagram(d.data, d.from, this.now);
      } else {
        // Datagrams to an old client address (after migration) no longer arrive.
        const clientSees = this.natRewrite ?? this.clientAddr;
        if (d.to.address !== clientSees.address || d.to.port !== clientSees.port) continue;
        this.client.handleDatagram(d.data, d.from, this.now);
      }
    }
    if ((this.client.pollTimeout() ?? Infinity) <= this.now) this.client.handleTimeout(this.now);
    if (this.server && (this.server.pollTimeout() ?? Infinity) <= this.now) this.server.handleTimeout(this.now);
    this.flush();
    return true;
  }

  /** Steps until `done()` holds; throws after `maxSteps` or when the simulation goes idle first. */
  driveUntil(done: () => boolean, maxSteps = 100_000): void {
    for (let i = 0; i < maxSteps; i++) {
      this.flush();
      if (done()) return;
      if (!this.step()) {
        if (done()) return;
        throw new Error('Pair.driveUntil: nothing left to do and the condition does not hold');
      }
    }
    throw new Error(`Pair.driveUntil: condition not met after ${maxSteps} steps`);
  }

  /** Runs the simulation until `ms` of fake time have passed. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (let i = 0; i < 1_000_000; i++) {
      this.flush();
      const t = this.nextTime();
      if (t === undefined || t > until) {
        this.now = until;
        return;
      }
      this.step();
    }
  }

  /** Datagrams on their way to the server. */
  get inFlightToServer(): number {
    return this.queue.filter((d) => d.toServer).length;
  }

  /**
   * An on-path attacker (RFC 9000 §9.3.3): a copy of the first datagram on its way to the server
   * arrives now, from `from`, ahead of the original.
   */
  replayToServer(from: SocketAddress): boolean {
    const d = this.queue.find((q) => q.toServer);
    if (!d || !this.server) return false;
    this.server.handleDatagram(d.data.slice(), from, this.now);
    return true;
  }

  /**
   * Forges a 1-RTT packet from the client with the client's real keys and next packet number, so
   * arbitrary frame bytes reach the server's frame layer, from `from` (the client's address by
   * default; another one to play a peer that spoofs its source). Returns false before 1-RTT keys exist.
   */
  injectFromClient(payload: Uint8Array, from?: SocketAddress): boolean {
    const c = this.client as unknown as {
      spaces: { nextPn: number; writeKeys: PacketKeys | null }[];
      cids: { remote: Uint8Array };
      keyUpdate: { phase: number };
    };
    const space = c.spaces[2]!;
    if (!space.writeKeys || !this.server) return false;
    const cid = c.cids.remote;
    const header = new Uint8Array(1 + cid.length + 4);
    header[0] = 0x40 | (c.keyUpdate.phase << 2) | 3;
    header.set(cid, 1);
    const frames = new Uint8Array(Math.max(payload.length, 24));
    frames.set(payload);
    const pkt = protectPacket(space.writeKeys, header, 1 + cid.length, 4, space.nextPn++, frames, false);
    this.server.handleDatagram(pkt, from ?? this.natRewrite ?? this.clientAddr, this.now);
    return true;
  }

  handshake(): void {
    this.driveUntil(
      () =>
        this.client.isHandshakeComplete &&
        this.server !== null &&
        this.server.isHandshakeComplete &&
        this.serverEvents.some((e) => e.type === 'handshake-complete'),
    );
  }
}
