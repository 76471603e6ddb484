/**
 * 0.5-RTT data (RFC 9001 §4.1.1, RFC 8446 §2.3): a server that accepted a client's 0-RTT stream
 * header answers it in 1-RTT packets sent after its Finished, before the client's Finished
 * arrives, within the anti-amplification limit of an address not yet validated (RFC 9000 §8.1);
 * the client keeps those packets until its 1-RTT keys exist (RFC 9000 §12.2). Two real
 * `QuicConnection`s on the simulated network (10 ms one way).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HELD_PACKETS } from '../../../app/quic/heldPackets.ts';
import { parseHeader } from '../../../app/quic/packetHeader.ts';
import { StrikeRegister } from '../../../app/quic/tls/strikeRegister.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import { Pair } from '../../support/quicPair.ts';

const HEADER = new TextEncoder().encode("<stream:stream to='quic.example' version='1.0' xmlns='jabber:client'>");
const FEATURES = new TextEncoder().encode("<stream:stream from='quic.example'><stream:features/>");
const ticketKey = new Uint8Array(32).fill(11);

function ticketFrom(antiReplay: StrikeRegister): StoredTicket {
  const first = new Pair({ server: { ticketKey, earlyData: { antiReplay } } });
  first.handshake();
  first.driveUntil(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
  const e = first.clientEvents.find((x) => x.type === 'session-ticket');
  assert.ok(e && e.type === 'session-ticket');
  return JSON.parse(JSON.stringify(e.ticket)) as StoredTicket;
}

function readAll(read: () => Uint8Array | null, into: number[]): void {
  for (let c = read(); c; c = read()) into.push(...c);
}

/** Wraps the server's pollTransmit to note each datagram with a 1-RTT packet sent before completion. */
function watchServer(p: Pair, early: { oneRtt: number }): void {
  const server = p.server!;
  const poll = server.pollTransmit.bind(server);
  server.pollTransmit = (now: number) => {
    const t = poll(now);
    if (t && !server.isHandshakeComplete) {
      for (let off = 0; off < t.data.length;) {
        const h = parseHeader(t.data, off, 8);
        if (h.form === 'short') early.oneRtt++;
        off = h.end;
      }
    }
    return t;
  };
}

describe('0.5-RTT: the server answers a 0-RTT stream header before the handshake completes', () => {
  it("accepted: the server's reply goes in 1-RTT packets before the client's Finished and arrives one RTT after the header", () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    const p = new Pair({ server: { ticketKey, earlyData: { antiReplay } }, client: { ticket, earlyData: true } });
    const start = p.now;
    const id = p.client.openEarlyStream(HEADER);
    assert.equal(id, 0);
    const atServer: number[] = [];
    const atClient: number[] = [];
    const early = { oneRtt: 0 };
    let answered = false;
    let serverCompleteWhenClientRead: boolean | null = null;
    p.driveUntil(() => {
      if (p.server && !answered) {
        readAll(() => p.server!.streamRead(0), atServer);
        if (atServer.length === HEADER.length) {
          assert.equal(p.server.isHandshakeComplete, false, 'the header came in 0-RTT');
          watchServer(p, early);
          p.server.streamWrite(0, FEATURES);
          answered = true;
        }
      }
      readAll(() => p.client.streamRead(0), atClient);
      if (atClient.length > 0 && serverCompleteWhenClientRead === null)
        serverCompleteWhenClientRead = p.server!.isHandshakeComplete;
      return atClient.length === FEATURES.length;
    });
    assert.deepEqual(new Uint8Array(atClient), FEATURES);
    assert.ok(early.oneRtt > 0, 'a 1-RTT packet left the server before its handshake completed');
    assert.equal(
      serverCompleteWhenClientRead,
      false,
      "the reply arrived before the client's Finished reached the server",
    );
    assert.ok(
      p.now - start <= 2 * p.link.latency + 1,
      `reply after ${p.now - start} ms, one RTT is ${2 * p.link.latency}`,
    );
    p.handshake();
    assert.equal(p.client.earlyDataState, 'accepted');
  });

  it('an unvalidated path: what the server sends before the client proves its address stays within 3x what it received', () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    const p = new Pair({ server: { ticketKey, earlyData: { antiReplay } }, client: { ticket, earlyData: true } });
    p.client.openEarlyStream(HEADER);
    p.driveUntil(() => p.server !== null && p.server.streamRead(0) !== null);
    // The client's answers never arrive: its address stays unvalidated.
    p.blackout = true;
    const early = { oneRtt: 0 };
    watchServer(p, early);
    p.server!.streamWrite(0, new Uint8Array(50_000).fill(0x61));
    p.advance(5_000);
    const s = p.server!.stats;
    assert.equal(p.server!.isHandshakeComplete, false);
    assert.ok(s.bytesSent <= 3 * s.bytesReceived, `${s.bytesSent} bytes sent for ${s.bytesReceived} received`);
    assert.ok(early.oneRtt > 0, 'stream bytes went in 1-RTT packets within the limit');
  });

  it('rejected 0-RTT: the server sees the stream only after its handshake completes and sends nothing of it before', () => {
    const ticket = ticketFrom(new StrikeRegister());
    // The same ticket key (resumption works) but no 0-RTT on this server.
    const p = new Pair({ server: { ticketKey }, client: { ticket, earlyData: true } });
    p.client.openEarlyStream(HEADER);
    const atServer: number[] = [];
    const early = { oneRtt: 0 };
    let watched = false;
    let openedBeforeComplete = false;
    p.driveUntil(() => {
      if (p.server && !watched) {
        watchServer(p, early);
        watched = true;
      }
      if (p.server && !p.server.isHandshakeComplete && p.serverEvents.some((e) => e.type === 'stream-opened'))
        openedBeforeComplete = true;
      if (p.server) readAll(() => p.server!.streamRead(0), atServer);
      return atServer.length === HEADER.length;
    });
    assert.equal(p.client.earlyDataState, 'rejected');
    assert.equal(openedBeforeComplete, false);
    assert.equal(early.oneRtt, 0, 'no 1-RTT packet before the handshake completed');
    p.server!.streamWrite(0, FEATURES);
    const atClient: number[] = [];
    p.driveUntil(() => (readAll(() => p.client.streamRead(0), atClient), atClient.length === FEATURES.length));
  });
});

describe('1-RTT packets before the client has its keys (RFC 9000 §5.2.1)', () => {
  it('a flood of them is bounded: a few are held and tried once the keys exist, the rest dropped, the handshake completes', () => {
    const p = new Pair();
    p.flush();
    for (let i = 0; i < 100; i++) {
      const junk = new Uint8Array(1000).fill(i);
      junk[0] = 0x40; // a short header
      p.client.handleDatagram(junk, p.serverAddr, p.now);
    }
    assert.ok(p.client.stats.packetsDropped >= 100 - MAX_HELD_PACKETS, `${p.client.stats.packetsDropped} dropped`);
    p.handshake();
    assert.equal(p.client.stats.packetsDropped >= 100, true, 'the held ones did not open under the real keys');
    assert.equal(p.client.isClosed, false);
  });
});
