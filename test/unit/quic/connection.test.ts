/**
 * Two real `QuicConnection`s (real TLS 1.3 handshake) on the simulated network of
 * test/support/quicPair.ts: fake clock, seeded loss, reordering and duplication.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { QuicConnection, QuicEvent } from '../../../app/quic/quicConnection.ts';
import { LADDER } from '../../../app/quic/mtuDiscovery.ts';
import { Pair } from '../../support/quicPair.ts';

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const digest = (parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Reads every readable stream of one side into `sink`, echoing when asked. */
const cursors = new WeakMap<QuicEvent[], number>();

/** Handles the events not yet seen; the event log itself stays intact for assertions. */
function drain(
  conn: QuicConnection,
  events: QuicEvent[],
  sink: Map<number, { parts: Uint8Array[]; fin: boolean }>,
  echo: boolean,
): void {
  const from = cursors.get(events) ?? 0;
  cursors.set(events, events.length);
  for (const e of events.slice(from)) {
    if (e.type !== 'stream-readable') continue;
    let entry = sink.get(e.id);
    if (!entry) sink.set(e.id, (entry = { parts: [], fin: false }));
    for (let c = conn.streamRead(e.id); c; c = conn.streamRead(e.id)) {
      entry.parts.push(c);
      if (echo) conn.streamWrite(e.id, c.slice());
    }
    if (!entry.fin && conn.streamFinished(e.id)) {
      entry.fin = true;
      if (echo) conn.streamWrite(e.id, new Uint8Array(0), true);
    }
  }
}

/** Client opens `count` bidirectional streams of `size` bytes each; the server echoes them. */
function echoTransfer(p: Pair, count: number, size: number, maxSteps = 400_000): void {
  const sent = new Map<number, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const id = p.client.openStream(true);
    assert.notEqual(id, null);
    const data = pattern(size, i + 1);
    sent.set(id!, data);
    p.client.streamWrite(id!, data, true);
  }
  const atServer = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
  const atClient = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
  p.driveUntil(() => {
    if (p.server) drain(p.server, p.serverEvents, atServer, true);
    drain(p.client, p.clientEvents, atClient, false);
    return [...sent.keys()].every((id) => atClient.get(id)?.fin === true);
  }, maxSteps);
  for (const [id, data] of sent) {
    assert.equal(digest(atServer.get(id)!.parts), digest([data]), `stream ${id} intact at the server`);
    assert.equal(digest(atClient.get(id)!.parts), digest([data]), `stream ${id} echoed intact`);
  }
}

const closedEvent = (events: QuicEvent[]): Extract<QuicEvent, { type: 'closed' }> | undefined =>
  events.find((e): e is Extract<QuicEvent, { type: 'closed' }> => e.type === 'closed');

describe('QuicConnection handshake', () => {
  it('completes with the real TLS 1.3 handshake and negotiates ALPN', () => {
    const p = new Pair();
    p.handshake();
    assert.equal(p.client.alpn, 'xmpp-client');
    assert.ok(p.clientEvents.some((e) => e.type === 'handshake-complete' && e.alpn === 'xmpp-client'));
    // 1-RTT handshake on a 10 ms one-way link: the client completes after one round trip.
    assert.ok(p.now - 1000 <= 40, `handshake took ${p.now - 1000} ms of simulated time`);
  });

  it('holds the handshake until the caller accepts the peer certificate', () => {
    const p = new Pair({ autoAccept: false });
    p.driveUntil(() => p.clientEvents.some((e) => e.type === 'peer-certificate'));
    // The app may already queue data; none of it leaves before the verifier's decision.
    const id = p.client.openStream(true)!;
    p.client.streamWrite(id, pattern(100, 1), true);
    p.advance(100);
    assert.equal(p.client.isHandshakeComplete, false);
    assert.equal(p.server!.isHandshakeComplete, false);
    assert.equal(
      p.serverEvents.some((e) => e.type === 'stream-opened'),
      false,
    );
    p.client.acceptPeer();
    p.handshake();
    p.driveUntil(() => p.serverEvents.some((e) => e.type === 'stream-opened'));
  });

  it('closes with CRYPTO_ERROR(bad_certificate) when the caller rejects the peer', () => {
    const p = new Pair({ autoAccept: false });
    p.driveUntil(() => p.clientEvents.some((e) => e.type === 'peer-certificate'));
    p.client.rejectPeer('name mismatch');
    p.driveUntil(() => closedEvent(p.serverEvents) !== undefined);
    assert.equal(closedEvent(p.clientEvents)!.code, 0x100 + 42);
    assert.equal(closedEvent(p.serverEvents)!.code, 0x100 + 42);
  });

  it('follows a Retry and authenticates it through transport parameters', () => {
    const p = new Pair({ retry: true });
    p.handshake();
    assert.equal(p.retriesSent, 1);
    echoTransfer(p, 1, 10_000);
  });

  it('gives up when Version Negotiation offers no common version', async () => {
    const { versionNegotiationPacket } = await import('../../../app/quic/packetHeader.ts');
    const p = new Pair();
    const first = p.client.pollTransmit(p.now)!;
    const dcid = first.data.subarray(6, 6 + first.data[5]!);
    const scidLen = first.data[6 + dcid.length]!;
    const scid = first.data.subarray(7 + dcid.length, 7 + dcid.length + scidLen);
    p.client.handleDatagram(versionNegotiationPacket(scid, dcid, [0xff00001d], 0x55), p.serverAddr, p.now);
    const closed = closedEvent([...drainEvents(p.client)]);
    assert.ok(closed);
    assert.match(closed.reason, /none of our versions/);
  });
});

function* drainEvents(c: QuicConnection): Generator<QuicEvent> {
  for (let e = c.pollEvent(); e; e = c.pollEvent()) yield e;
}

describe('QuicConnection streams', () => {
  it('delivers several streams intact and in order on a clean link', () => {
    const p = new Pair();
    p.handshake();
    echoTransfer(p, 4, 100_000);
  });

  it('delivers intact data under loss, reordering and duplication', () => {
    const p = new Pair({ seed: 42, link: { latency: 15, loss: 0.05, reorder: 0.1, duplicate: 0.05 } });
    p.handshake();
    echoTransfer(p, 3, 60_000);
    assert.ok(p.client.stats.packetsLost > 0, 'the link did lose packets');
  });

  it('completes a transfer limited by small flow-control windows', () => {
    const tp = { initialMaxData: 8_000, initialMaxStreamDataBidiLocal: 3_000, initialMaxStreamDataBidiRemote: 3_000 };
    const p = new Pair({ client: { transportParams: tp }, server: { transportParams: tp } });
    p.handshake();
    echoTransfer(p, 2, 50_000);
  });

  it('uses larger datagrams when both sides allow them, recalculating the initial window (RFC 9002 §7.2)', () => {
    const p = new Pair({ client: { maxDatagramSize: 8192 }, server: { maxDatagramSize: 8192 } });
    p.handshake();
    p.advance(500);
    const sentBefore = p.client.stats.packetsSent;
    echoTransfer(p, 1, 200_000);
    assert.ok(
      p.client.stats.packetsSent - sentBefore < 60,
      `${p.client.stats.packetsSent - sentBefore} packets for 200 kB`,
    );
  });

  it('enforces MAX_STREAMS and raises it as streams close', () => {
    const p = new Pair({ server: { transportParams: { initialMaxStreamsBidi: 2 } } });
    p.handshake();
    echoTransfer(p, 2, 1_000);
    p.advance(200);
    const opened: number[] = [];
    for (let i = 0; i < 3; i++) {
      const id = p.client.openStream(true);
      if (id !== null) opened.push(id);
    }
    assert.equal(opened.length, 2, 'only two more streams: the closed ones were credited back');
  });

  it('resets a stream and reports STOP_SENDING', () => {
    const p = new Pair();
    p.handshake();
    const id = p.client.openStream(true)!;
    p.client.streamWrite(id, pattern(5000, 3));
    p.driveUntil(() => p.serverEvents.some((e) => e.type === 'stream-opened'));
    p.server!.stopSending(id, 77);
    p.driveUntil(() => p.clientEvents.some((e) => e.type === 'stream-stop-sending' && e.code === 77));
    p.driveUntil(() => p.serverEvents.some((e) => e.type === 'stream-reset' && e.code === 77));
  });
});

describe('QuicConnection path MTU discovery (RFC 9000 §14.3)', () => {
  /** Congestion state, which a probe's loss must leave alone (§14.4). */
  const ssthresh = (c: QuicConnection): number =>
    (c as unknown as { recovery: { cc: { ssthresh: number } } }).recovery.cc.ssthresh;

  it('sends 1200-byte datagrams until a probe of the larger size is acknowledged', () => {
    const p = new Pair({ client: { maxDatagramSize: 8192 }, server: { maxDatagramSize: 8192 } });
    p.handshake();
    assert.equal(p.largestToServer, 1200, 'the handshake stays at 1200 bytes');
    p.advance(500);
    assert.equal(p.client.stats.maxDatagramSize, 8192);
    assert.equal(p.client.stats.mtuProbesSent, LADDER.length + 1, 'the common sizes, then the ceiling');
    assert.equal(p.largestToServer, 8192);
  });

  it("reaches loopback's 65507 bytes on an idle connection, in steps its congestion window allows", () => {
    const p = new Pair({ client: { maxDatagramSize: 65507 }, server: { maxDatagramSize: 65507 } });
    p.handshake();
    p.advance(500);
    assert.equal(p.client.stats.maxDatagramSize, 65507);
    // 1372, 1452, 1472, then as the window grows with each: 14720, 29440, 58880, 65507.
    assert.equal(p.client.stats.mtuProbesSent, LADDER.length + 4);
    assert.equal(p.client.stats.mtuProbesLost, 0);
  });

  it('never holds a small message back while the search sends 64 KiB probes (one round trip per exchange)', () => {
    // A login is a string of small request/answer exchanges right after the handshake, exactly
    // when the search runs. Probes sized to the whole window, and charged to the pacer, used to
    // hold each stanza back by a round trip or more per probe (about 6 RTT over an XMPP login).
    const p = new Pair({
      link: { latency: 25 },
      client: { maxDatagramSize: 65507 },
      server: { maxDatagramSize: 65507 },
    });
    p.handshake();
    const id = p.client.openStream(true)!;
    const atServer = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
    const atClient = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
    const received = () => (atClient.get(id)?.parts ?? []).reduce((n, c) => n + c.length, 0);
    const rounds: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const started = p.now;
      p.client.streamWrite(id, pattern(150, i));
      p.driveUntil(() => {
        drain(p.server!, p.serverEvents, atServer, true);
        drain(p.client, p.clientEvents, atClient, false);
        return received() >= 150 * i;
      });
      rounds.push(p.now - started);
    }
    assert.ok(p.client.stats.mtuProbesSent > 0 && p.server!.stats.mtuProbesSent > 0, 'the search ran meanwhile');
    assert.ok(
      rounds.every((ms) => ms <= 50 + 30),
      `each exchange takes one round trip of 50 ms (ACK delay aside): ${rounds.map((r) => r.toFixed(0)).join(', ')}`,
    );
  });

  it('stops at a 1500-byte link below a 9000-byte ceiling; a lost probe is no congestion; data intact', () => {
    const p = new Pair({ link: { mtu: 1500 }, client: { maxDatagramSize: 9000 }, server: { maxDatagramSize: 9000 } });
    p.handshake();
    echoTransfer(p, 1, 300_000);
    // The search goes on after the transfer: with nothing else in flight a lost probe is
    // noticed by the PTO.
    p.advance(2_000);
    assert.equal(p.client.stats.maxDatagramSize, 1472);
    assert.equal(p.client.stats.mtuProbesLost, 1);
    assert.equal(p.client.stats.packetsLost, p.client.stats.mtuProbesLost, 'only probes were lost');
    assert.equal(ssthresh(p.client), Infinity, 'no congestion response to a lost probe');
  });

  it('falls back to 1200 bytes when the path shrinks mid-transfer (black hole), then finds the new size', () => {
    const p = new Pair({ client: { maxDatagramSize: 8192 }, server: { maxDatagramSize: 8192 } });
    p.handshake();
    p.advance(500);
    assert.equal(p.client.stats.maxDatagramSize, 8192);
    p.link.mtu = 1400;
    echoTransfer(p, 1, 400_000);
    assert.ok(p.client.stats.mtuBlackHoles >= 1);
    p.advance(3_000);
    assert.equal(p.client.stats.maxDatagramSize, 1372);
  });

  it('starts again at 1200 bytes on a new path', () => {
    const p = new Pair({ client: { maxDatagramSize: 8192 }, server: { maxDatagramSize: 8192 } });
    p.handshake();
    p.advance(500);
    assert.equal(p.server!.stats.maxDatagramSize, 8192);
    const probes = p.server!.stats.mtuProbesSent;
    p.natRewrite = { address: '10.0.0.9', port: 40000 };
    echoTransfer(p, 1, 20_000);
    assert.ok(p.serverEvents.some((e) => e.type === 'migrated'));
    p.advance(500);
    assert.equal(p.server!.stats.mtuProbesSent, 2 * probes, 'the new path was probed again');
    assert.equal(p.server!.stats.maxDatagramSize, 8192);
  });

  it('goes on probing after a port-only NAT rebinding forgot the probe in flight', () => {
    const p = new Pair({ client: { maxDatagramSize: 8192 }, server: { maxDatagramSize: 8192 }, link: { mtu: 4000 } });
    p.handshake();
    const inFlight = (c: QuicConnection): number | null =>
      (c as unknown as { path: { mtu: { inFlight: number | null } } }).path.mtu.inFlight;
    p.driveUntil(() => inFlight(p.server!) !== null);
    // Same address, new port: the path's size stands (RFC 9000 §14.2), what was in flight is resent.
    p.natRewrite = { address: p.clientAddr.address, port: p.clientAddr.port + 1 };
    echoTransfer(p, 1, 10_000);
    p.advance(2_000);
    assert.equal(p.server!.stats.maxDatagramSize, 1472);
    assert.equal(p.server!.stats.mtuProbesLost, 1, 'the climb went on to the ceiling, which the link refused');
  });

  it("reports each size in use and the search's end as path-mtu events", () => {
    const p = new Pair({ link: { mtu: 1500 }, client: { maxDatagramSize: 9000 }, server: { maxDatagramSize: 9000 } });
    p.handshake();
    p.advance(2_000);
    const reported = p.clientEvents.filter((e) => e.type === 'path-mtu').map((e) => [e.size, e.searching]);
    assert.deepEqual(reported, [
      [1200, true],
      [1372, true],
      [1452, true],
      [1472, true],
      [1472, false],
    ]);
  });

  it('does not probe without a ceiling above 1200 bytes', () => {
    const p = new Pair();
    p.handshake();
    echoTransfer(p, 1, 50_000);
    assert.equal(p.client.stats.mtuProbesSent, 0);
    assert.equal(p.largestToServer, 1200);
  });
});

describe('QuicConnection lifetime', () => {
  it('closes with an application code and reason; both sides drain', () => {
    const p = new Pair();
    p.handshake();
    p.client.close(7, 'bye', p.now);
    p.driveUntil(() => closedEvent(p.serverEvents) !== undefined);
    const c = closedEvent(p.serverEvents)!;
    assert.deepEqual([c.code, c.reason, c.app, c.local], [7, 'bye', true, false]);
    p.driveUntil(() => p.client.isDrained && p.server!.isDrained);
  });

  it('times out when the peer goes silent', () => {
    const p = new Pair({ client: { transportParams: { maxIdleTimeout: 1_000 } } });
    p.handshake();
    p.blackout = true;
    p.driveUntil(() => closedEvent(p.clientEvents) !== undefined && closedEvent(p.serverEvents) !== undefined);
    assert.equal(closedEvent(p.clientEvents)!.codeName, 'idle timeout');
    assert.ok(p.now - 1000 < 3_000, `idle close after ${p.now - 1000} ms`);
  });

  it('stays up across idle periods with keep-alive PINGs', () => {
    const p = new Pair({ client: { transportParams: { maxIdleTimeout: 1_000 }, keepAliveInterval: 300 } });
    p.handshake();
    p.advance(10_000);
    assert.equal(closedEvent(p.clientEvents), undefined);
    assert.equal(closedEvent(p.serverEvents), undefined);
    echoTransfer(p, 1, 1_000);
  });

  it('detects a stateless reset', async () => {
    const { buildStatelessReset } = await import('../../../app/quic/retryToken.ts');
    const { defaultResetToken } = await import('../../../app/quic/quicConnection.ts');
    const key = new Uint8Array(32).fill(3);
    const p = new Pair({ server: { statelessResetKey: key } });
    p.handshake();
    // The client addresses the server by the CID from the server's first Initial.
    const reset = buildStatelessReset(defaultResetToken(key, Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4])), 100)!;
    p.client.handleDatagram(reset, p.serverAddr, p.now);
    const closed = closedEvent([...drainEvents(p.client)]);
    assert.ok(closed);
    assert.match(closed.reason, /stateless reset/);
  });
});

describe('QuicConnection key update (RFC 9001 §6)', () => {
  it('updates keys initiated by either side while data flows', () => {
    const p = new Pair();
    p.handshake();
    echoTransfer(p, 1, 20_000);
    assert.equal(p.client.initiateKeyUpdate(), true);
    echoTransfer(p, 1, 20_000);
    assert.ok(p.serverEvents.some((e) => e.type === 'key-update' && !e.local) || p.server!.stats.keyUpdates === 1);
    assert.equal(p.server!.stats.keyUpdates, 1);
    // RFC 9001 §6.1: the server may update again only once a packet of the new phase is acknowledged.
    p.advance(100);
    assert.equal(p.server!.initiateKeyUpdate(), true);
    echoTransfer(p, 1, 20_000);
    assert.equal(p.client.stats.keyUpdates, 2);
    assert.equal(p.server!.stats.keyUpdates, 2);
    // Packets still in the old phase were opened with the retained old keys: nothing was lost.
    assert.equal(p.client.stats.packetsDropped + p.server!.stats.packetsDropped, 0);
    assert.equal(p.client.stats.packetsLost + p.server!.stats.packetsLost, 0);
  });

  it('refuses a second update before the first is acknowledged', () => {
    const p = new Pair();
    p.handshake();
    echoTransfer(p, 1, 1_000);
    assert.equal(p.client.initiateKeyUpdate(), true);
    assert.equal(p.client.initiateKeyUpdate(), false);
  });
});

describe('QuicConnection migration (RFC 9000 §9)', () => {
  it('migrates the client to a new address: path validated, new connection ID, data intact', () => {
    const p = new Pair({ seed: 5, link: { latency: 10, loss: 0.02 } });
    p.handshake();
    echoTransfer(p, 1, 30_000);
    p.advance(100);
    p.clientAddr = { address: '10.0.0.77', port: 40000 };
    assert.equal(p.client.migrate(p.now), true);
    echoTransfer(p, 2, 30_000);
    p.driveUntil(
      () =>
        p.serverEvents.some((e) => e.type === 'migrated') && p.serverEvents.some((e) => e.type === 'path-validated'),
    );
    assert.ok(p.clientEvents.some((e) => e.type === 'path-validated'));
    assert.deepEqual(p.server!.remoteAddress, p.clientAddr);
  });

  it('as a client, discards packets from an unknown server address (§9)', () => {
    const p = new Pair();
    p.handshake();
    const id = p.server!.openStream(true)!;
    p.server!.streamWrite(id, pattern(100, 5), true);
    const datagram = p.server!.pollTransmit(p.now)!;
    const dropped = p.client.stats.packetsDropped;
    p.client.handleDatagram(datagram.data, { address: '203.0.113.9', port: 443 }, p.now);
    assert.equal(p.client.stats.packetsDropped, dropped + 1);
    assert.equal(p.client.pollEvent(), undefined, 'nothing from the stray datagram reached the application');
  });

  it('follows NAT rebinding mid-transfer: resets the path and resends what was lost', () => {
    const p = new Pair({ seed: 9 });
    p.handshake();
    echoTransfer(p, 1, 5_000);
    const id = p.client.openStream(true)!;
    const data = pattern(200_000, 99);
    p.client.streamWrite(id, data, true);
    p.advance(15);
    p.natRewrite = { address: '198.51.100.4', port: 61000 };
    const atServer = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
    const atClient = new Map<number, { parts: Uint8Array[]; fin: boolean }>();
    p.driveUntil(() => {
      drain(p.server!, p.serverEvents, atServer, true);
      drain(p.client, p.clientEvents, atClient, false);
      return atClient.get(id)?.fin === true;
    });
    assert.equal(digest(atClient.get(id)!.parts), digest([data]));
    assert.deepEqual(p.server!.remoteAddress, p.natRewrite);
  });

  it('goes back to the last validated address when a spurious migration fails validation (§9.3.2)', () => {
    const p = new Pair({ seed: 5 });
    p.handshake();
    p.advance(500);
    // The server sends; the client's ACK-only answer is copied by an attacker from another address.
    p.server!.streamWrite(p.server!.openStream(false)!, Uint8Array.of(1, 2, 3));
    p.driveUntil(() => p.inFlightToServer > 0);
    const spoofed = { address: '203.0.113.66', port: 4444 };
    assert.ok(p.replayToServer(spoofed));
    p.flush();
    assert.deepEqual(p.server!.remoteAddress, spoofed, 'a non-probing packet with the highest number moves the path');
    // Nobody at the spoofed address answers PATH_CHALLENGE; the real client has nothing to say.
    p.driveUntil(() => p.serverEvents.filter((e) => e.type === 'migrated').length === 2);
    assert.deepEqual(p.server!.remoteAddress, p.clientAddr);
    assert.equal(p.server!.isClosed, false);
    echoTransfer(p, 1, 20_000);
  });
});

describe('QuicConnection unidirectional streams and resumption', () => {
  it('carries unidirectional streams within MAX_STREAMS_UNI and refuses writes on a receive-only stream', () => {
    const p = new Pair({ server: { transportParams: { initialMaxStreamsUni: 1 } } });
    p.handshake();
    const id = p.client.openStream(false)!;
    assert.equal(id & 0x03, 0x02, 'client-initiated unidirectional');
    assert.equal(p.client.openStream(false), null, 'the server allows one unidirectional stream');
    p.client.streamWrite(id, pattern(3000, 4), true);
    const got: Uint8Array[] = [];
    p.driveUntil(() => {
      for (const e of p.serverEvents.splice(0)) {
        if (e.type !== 'stream-readable') continue;
        for (let c = p.server!.streamRead(e.id); c; c = p.server!.streamRead(e.id)) got.push(c);
      }
      return p.server!.streamFinished(id);
    });
    assert.equal(digest(got), digest([pattern(3000, 4)]));
    assert.throws(() => p.server!.streamWrite(id, new Uint8Array(1)), /not writable/);
    // The finished stream is credited back: MAX_STREAMS lets the client open another.
    p.driveUntil(() => p.clientEvents.some((e) => e.type === 'streams-available' && !e.bidi));
    assert.notEqual(p.client.openStream(false), null);
  });

  it('resumes a session with a ticket from the first connection', () => {
    const ticketKey = new Uint8Array(32).fill(9);
    const first = new Pair({ server: { ticketKey } });
    first.handshake();
    first.driveUntil(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
    const ticket = first.clientEvents.find((e) => e.type === 'session-ticket');
    assert.ok(ticket && ticket.type === 'session-ticket');
    const second = new Pair({ server: { ticketKey }, client: { ticket: ticket.ticket } });
    second.handshake();
    assert.equal(second.client.tlsFacts?.resumed, true);
    echoTransfer(second, 1, 5_000);
  });
});
