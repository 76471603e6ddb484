/**
 * 0-RTT rejected or stalled (RFC 9001 §4.6.2, RFC 9000 §4.5 and §7.4.1, RFC 9002 §6.2.4), between
 * two real `QuicConnection`s on the simulated network: the flow control and stream limits the
 * client keeps when the server refuses its early data, and PTO probes while only 0-RTT packets are
 * in flight.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicConnection, type QuicEvent, type SocketAddress } from '../../../app/quic/quicConnection.ts';
import { parseHeader } from '../../../app/quic/packetHeader.ts';
import { StrikeRegister } from '../../../app/quic/tls/strikeRegister.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import { Pair, testCertificate } from '../../support/quicPair.ts';

const ticketKey = new Uint8Array(32).fill(11);

/** A ticket from a server that allows 0-RTT (through JSON, as stored). */
function earlyTicket(): StoredTicket {
  const first = new Pair({ server: { ticketKey, earlyData: { antiReplay: new StrikeRegister() } } });
  first.handshake();
  first.driveUntil(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
  const e = first.clientEvents.find((x) => x.type === 'session-ticket');
  assert.ok(e && e.type === 'session-ticket');
  return JSON.parse(JSON.stringify(e.ticket)) as StoredTicket;
}

const closedOf = (events: QuicEvent[]): Extract<QuicEvent, { type: 'closed' }> | undefined =>
  events.find((e): e is Extract<QuicEvent, { type: 'closed' }> => e.type === 'closed');

/** Reads everything the server has for `id`; returns the byte count. */
function drain(p: Pair, id: number): number {
  let n = 0;
  for (let c = p.server?.streamRead(id); c; c = p.server?.streamRead(id)) n += c.length;
  return n;
}

describe('0-RTT rejected: flow control', () => {
  it('a stream reset before the answer counts its final size against the connection limit (RFC 9000 §4.5)', () => {
    const ticket = earlyTicket();
    // Same ticket key (resumption works), no 0-RTT, and a small connection window.
    const p = new Pair({
      server: { ticketKey, transportParams: { initialMaxData: 1000 } },
      client: { ticket, earlyData: true },
    });
    const a = p.client.openEarlyStream(new Uint8Array(400).fill(0x61));
    const b = p.client.openEarlyStream(new Uint8Array(1000).fill(0x62));
    assert.equal(a, 0);
    assert.equal(b, 4);
    p.flush(); // the 0-RTT packets leave with both streams' bytes
    p.client.streamReset(a!, 7); // final size 400, before the server has answered
    let got = 0;
    p.driveUntil(() => {
      got += drain(p, b!);
      return got === 1000 || p.client.isClosed || (p.server?.isClosed ?? false);
    });
    assert.equal(p.client.earlyDataState, 'rejected');
    assert.equal(closedOf(p.serverEvents), undefined, 'the server saw no flow control violation');
    assert.equal(closedOf(p.clientEvents), undefined);
    assert.equal(got, 1000, 'stream 4 arrives whole once the server gives credit back');
    assert.ok(p.serverEvents.some((e) => e.type === 'stream-reset' && e.id === a && e.code === 7));
  });

  it("a reset stream's final size is lowered to the server's new, lower stream limit", () => {
    const ticket = earlyTicket();
    const p = new Pair({
      server: { ticketKey, transportParams: { initialMaxStreamDataBidiRemote: 300 } },
      client: { ticket, earlyData: true },
    });
    const a = p.client.openEarlyStream(new Uint8Array(400).fill(0x61));
    p.flush();
    p.client.streamReset(a!, 7);
    p.driveUntil(() => p.serverEvents.some((e) => e.type === 'stream-reset') || p.client.isClosed);
    assert.equal(p.client.earlyDataState, 'rejected');
    assert.equal(closedOf(p.serverEvents), undefined, 'no final size beyond the stream limit');
  });
});

describe('0-RTT rejected: stream limit', () => {
  it("streams opened under the remembered limit wait for the server's new, lower limit (RFC 9000 §4.6)", () => {
    const ticket = earlyTicket();
    const p = new Pair({
      server: { ticketKey, transportParams: { initialMaxStreamsBidi: 1 } },
      client: { ticket, earlyData: true },
    });
    const ids = [
      p.client.openEarlyStream(new Uint8Array(100).fill(1)),
      p.client.openEarlyStream(new Uint8Array(200).fill(2)),
    ];
    assert.deepEqual(ids, [0, 4], 'the remembered limit allowed two');
    p.client.streamWrite(0, new Uint8Array(0), true);
    p.client.streamWrite(4, new Uint8Array(0), true);
    const got = new Map<number, number>([
      [0, 0],
      [4, 0],
    ]);
    let answered = false;
    p.driveUntil(() => {
      for (const id of [0, 4]) got.set(id, got.get(id)! + drain(p, id));
      // The server ends its half of stream 0 once it has read it: the stream closes, and MAX_STREAMS
      // lets stream 4 go.
      if (!answered && p.server?.streamFinished(0)) {
        p.server.streamWrite(0, new Uint8Array(0), true);
        answered = true;
      }
      return (p.server?.streamFinished(4) ?? false) || p.client.isClosed || (p.server?.isClosed ?? false);
    });
    assert.equal(p.client.earlyDataState, 'rejected');
    assert.equal(closedOf(p.serverEvents), undefined, 'no stream beyond the limit reached the server');
    assert.equal(got.get(0), 100);
    assert.equal(got.get(4), 200, 'stream 4 went once the server raised its limit');
  });
});

describe('0-RTT: PTO probes', () => {
  it('with only 0-RTT packets in flight and the congestion window full, a PTO still sends probes (RFC 9002 §6.2.4)', () => {
    const antiReplay = new StrikeRegister();
    const first = new Pair({ server: { ticketKey, earlyData: { antiReplay } } });
    first.handshake();
    first.driveUntil(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
    const e = first.clientEvents.find((x) => x.type === 'session-ticket');
    assert.ok(e && e.type === 'session-ticket');
    const ticket = JSON.parse(JSON.stringify(e.ticket)) as StoredTicket;
    let now = 1000;
    const serverAddr: SocketAddress = { address: '10.0.0.2', port: 443 };
    const clientAddr: SocketAddress = { address: '10.0.0.1', port: 50000 };
    const client = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: serverAddr,
      now,
      wallClock: Date.now,
      ticket,
      earlyData: true,
    });
    // More early data than the initial congestion window holds.
    assert.equal(client.openEarlyStream(new Uint8Array(64 * 1024).fill(0x61)), 0);
    const flight: Uint8Array[] = [];
    for (let t = client.pollTransmit(now); t; t = client.pollTransmit(now)) flight.push(t.data.slice());
    assert.ok(flight.length > 1 && flight.length < 60, 'the window stopped the 0-RTT packets');
    const header = parseHeader(flight[0]!, 0, 8);
    assert.ok(header.form === 'long');
    const server = QuicConnection.accept({
      alpn: ['xmpp-client'],
      ...testCertificate(),
      originalDcid: header.dcid.slice(),
      clientScid: header.scid.slice(),
      localCid: Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4]),
      remoteAddress: clientAddr,
      now,
      wallClock: Date.now,
      ticketKey,
      earlyData: { antiReplay },
    });
    now += 10;
    server.handleDatagram(flight[0]!, clientAddr, now);
    const answer = server.pollTransmit(now);
    assert.ok(answer);
    // Only the server's Initial (ServerHello, the ACK of our Initial) arrives; its Handshake packets
    // and everything after are lost: the client has nothing in flight but 0-RTT packets.
    const initial = parseHeader(answer.data, 0, 8);
    assert.ok(initial.form === 'long' && initial.type === 'initial');
    now += 10;
    client.handleDatagram(answer.data.slice(0, initial.end), serverAddr, now);
    for (let t = client.pollTransmit(now); t; t = client.pollTransmit(now)); // the ACK of the server's Initial
    const spaces = (client as unknown as { spaces: { probes: number }[] }).spaces;
    let probesSent = 0;
    for (let i = 0; i < 3; i++) {
      now = client.pollTimeout()!;
      client.handleTimeout(now);
      assert.equal(spaces[2]!.probes, 2, 'the PTO is in the application space (0-RTT)');
      for (let t = client.pollTransmit(now); t; t = client.pollTransmit(now)) probesSent++;
      assert.equal(spaces[2]!.probes, 0, 'both probes went out');
    }
    assert.ok(probesSent >= 6, `probes sent: ${probesSent}`);
    assert.equal(client.isClosed, false);
  });
});
