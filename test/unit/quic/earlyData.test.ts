/**
 * 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1, RFC 8446bis §4.2.10 and §8) between two real
 * `QuicConnection`s on the simulated network: early stream data accepted before the server's
 * handshake completes, rejected and sent again in 1-RTT exactly once, a replayed first flight
 * refused by the strike register, and a server that lowers its limits after accepting refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuicConnection, type QuicEvent, type SocketAddress } from '../../../app/quic/quicConnection.ts';
import { parseHeader } from '../../../app/quic/packetHeader.ts';
import { StrikeRegister } from '../../../app/quic/tls/strikeRegister.ts';
import { fromBase64, toBase64, type StoredTicket } from '../../../app/quic/tls/tickets.ts';
import { decodeTransportParameters, encodeTransportParameters } from '../../../app/quic/transportParameters.ts';
import { Pair, testCertificate } from '../../support/quicPair.ts';

const HEADER = new TextEncoder().encode(
  "<?xml version='1.0'?><stream:stream to='quic.example' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
);
const AUTH = new TextEncoder().encode(
  "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>c2VjcmV0</auth>",
);
const text = (parts: Uint8Array[]): string => parts.map((p) => new TextDecoder().decode(p)).join('');

const ticketKey = new Uint8Array(32).fill(11);

/** A first connection to a server that allows 0-RTT; returns the ticket it issued (through JSON, as stored). */
function ticketFrom(antiReplay: StrikeRegister, earlyData = true): StoredTicket {
  const first = new Pair({ server: { ticketKey, ...(earlyData ? { earlyData: { antiReplay } } : {}) } });
  first.handshake();
  first.driveUntil(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
  const e = first.clientEvents.find((x) => x.type === 'session-ticket');
  assert.ok(e && e.type === 'session-ticket');
  return JSON.parse(JSON.stringify(e.ticket)) as StoredTicket;
}

/** Reads what the server has for `id` into `got`; returns whether anything came. */
function serverReads(p: Pair, id: number, got: Uint8Array[]): boolean {
  let any = false;
  for (let c = p.server?.streamRead(id); c; c = p.server?.streamRead(id)) {
    got.push(c);
    any = true;
  }
  return any;
}

describe('0-RTT for the stream header', () => {
  it('tickets from a server that allows 0-RTT carry it and the server transport parameters', () => {
    const ticket = ticketFrom(new StrikeRegister());
    assert.ok(ticket.earlyData, 'the ticket allows early data');
    const tp = decodeTransportParameters(fromBase64(ticket.earlyData.transportParameters), true);
    assert.ok(tp.initialMaxData > 0);
    assert.equal(ticketFrom(new StrikeRegister(), false).earlyData, undefined, 'no early_data: no 0-RTT');
  });

  it('accepted: the early bytes reach the server before its handshake completes, later writes wait for 1-RTT', () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    const p = new Pair({ server: { ticketKey, earlyData: { antiReplay } }, client: { ticket, earlyData: true } });
    assert.equal(p.client.earlyDataState, 'offered');
    const id = p.client.openEarlyStream(HEADER);
    assert.equal(id, 0);
    p.client.streamWrite(id, AUTH);
    const got: Uint8Array[] = [];
    let beforeComplete: string | null = null;
    p.driveUntil(() => {
      if (serverReads(p, id, got) && beforeComplete === null && !p.server!.isHandshakeComplete)
        beforeComplete = text(got);
      return got.length > 0;
    });
    assert.equal(beforeComplete, text([HEADER]), 'only the early bytes, before the handshake completed');
    p.handshake();
    p.driveUntil(() => {
      serverReads(p, id, got);
      return text(got).length >= HEADER.length + AUTH.length;
    });
    assert.equal(text(got), text([HEADER, AUTH]));
    assert.equal(p.client.earlyDataState, 'accepted');
    assert.ok(p.serverEvents.some((e) => e.type === 'early-data' && e.accepted));
    assert.ok(p.clientEvents.some((e) => e.type === 'early-data' && e.accepted));
    assert.equal(p.client.tlsFacts?.resumed, true);
  });

  it('rejected: the early bytes are sent again in 1-RTT and arrive once', () => {
    const ticket = ticketFrom(new StrikeRegister());
    // The same ticket key (resumption works) but no 0-RTT on this server.
    const p = new Pair({ server: { ticketKey }, client: { ticket, earlyData: true } });
    const id = p.client.openEarlyStream(HEADER);
    assert.equal(id, 0);
    p.client.streamWrite(id!, AUTH, true);
    const got: Uint8Array[] = [];
    p.driveUntil(() => {
      serverReads(p, 0, got);
      return p.server !== null && p.server.streamFinished(0);
    });
    assert.equal(text(got), text([HEADER, AUTH]), 'each byte exactly once, in order');
    assert.equal(p.client.earlyDataState, 'rejected');
    assert.ok(p.clientEvents.some((e) => e.type === 'early-data' && !e.accepted));
    assert.ok(p.server!.stats.packetsDropped > 0, 'the server dropped the 0-RTT packet unread');
    assert.equal(p.client.tlsFacts?.resumed, true);
  });

  it('without a ticket that allows it, openEarlyStream returns null and nothing is offered', () => {
    const ticket = ticketFrom(new StrikeRegister(), false);
    const p = new Pair({ server: { ticketKey }, client: { ticket, earlyData: true } });
    assert.equal(p.client.earlyDataState, 'none');
    assert.equal(p.client.openEarlyStream(HEADER), null);
    const q = new Pair({ client: { earlyData: true } });
    assert.equal(q.client.openEarlyStream(HEADER), null);
  });

  it('a replayed Initial+0-RTT is refused by the strike register (the handshake goes on without early data)', () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    const client = QuicConnection.connect({
      serverName: 'quic.example',
      alpn: ['xmpp-client'],
      remoteAddress: { address: '10.0.0.2', port: 443 },
      now: 1000,
      wallClock: Date.now,
      ticket,
      earlyData: true,
    });
    assert.equal(client.openEarlyStream(HEADER), 0);
    const flight: Uint8Array[] = [];
    for (let t = client.pollTransmit(1000); t; t = client.pollTransmit(1000)) flight.push(t.data.slice());
    const from: SocketAddress = { address: '10.0.0.1', port: 50000 };
    const original = serve(flight, from, antiReplay);
    assert.ok(original.some((e) => e.type === 'early-data' && e.accepted));
    assert.ok(
      original.some((e) => e.type === 'stream-readable' && e.id === 0),
      'the original delivers the header',
    );
    const replay = serve(flight, { address: '10.9.9.9', port: 4000 }, antiReplay);
    assert.ok(
      replay.some((e) => e.type === 'early-data' && !e.accepted),
      'the replay is not accepted',
    );
    assert.ok(!replay.some((e) => e.type === 'stream-opened' || e.type === 'stream-readable'));
  });

  it('a server that accepts 0-RTT but lowers a remembered limit is refused (PROTOCOL_VIOLATION)', () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    // The client remembers a larger initial_max_data than this server sends now.
    const tp = decodeTransportParameters(fromBase64(ticket.earlyData!.transportParameters), true);
    tp.initialMaxData += 1;
    ticket.earlyData = { transportParameters: toBase64(encodeTransportParameters(tp)) };
    const p = new Pair({ server: { ticketKey, earlyData: { antiReplay } }, client: { ticket, earlyData: true } });
    p.client.openEarlyStream(HEADER);
    p.driveUntil(() => p.client.isClosed);
    const closed = p.clientEvents.find((e) => e.type === 'closed');
    assert.ok(closed && closed.type === 'closed');
    assert.equal(closed.codeName, 'PROTOCOL_VIOLATION');
    assert.match(closed.reason, /lowered initialMaxData/);
  });
});

describe('0-RTT acceptance checks (RFC 8446 §4.2.10)', () => {
  it('a server that accepts early data with another cipher suite than the ticket is refused (illegal_parameter)', () => {
    const antiReplay = new StrikeRegister();
    const ticket = ticketFrom(antiReplay);
    assert.equal(ticket.cipherSuite, 0x1301);
    // The client believes the ticket is for TLS_CHACHA20_POLY1305_SHA256 (same hash: the PSK still
    // works); the server resumes with, and accepts early data under, TLS_AES_128_GCM_SHA256.
    ticket.cipherSuite = 0x1303;
    const p = new Pair({ server: { ticketKey, earlyData: { antiReplay } }, client: { ticket, earlyData: true } });
    assert.equal(p.client.openEarlyStream(HEADER), 0);
    p.driveUntil(() => p.client.isClosed || p.client.isHandshakeComplete);
    const closed = p.clientEvents.find((e) => e.type === 'closed');
    assert.ok(
      p.serverEvents.some((e) => e.type === 'early-data' && e.accepted),
      'the server accepted under its suite',
    );
    assert.ok(closed && closed.type === 'closed', 'the client aborts the handshake');
    assert.equal(closed.code, 0x100 + 47, 'CRYPTO_ERROR with the illegal_parameter alert');
    assert.match(closed.reason, /cipher suite/);
  });
});

/** A fresh server connection that receives `flight` from `from`; returns its events. */
function serve(flight: Uint8Array[], from: SocketAddress, antiReplay: StrikeRegister): QuicEvent[] {
  const header = parseHeader(flight[0]!, 0, 8);
  assert.ok(header.form === 'long');
  const server = QuicConnection.accept({
    alpn: ['xmpp-client'],
    ...testCertificate(),
    originalDcid: header.dcid.slice(),
    clientScid: header.scid.slice(),
    localCid: Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4]),
    remoteAddress: from,
    now: 1000,
    wallClock: Date.now,
    ticketKey,
    earlyData: { antiReplay },
  });
  for (const d of flight) server.handleDatagram(d, from, 1000);
  const events: QuicEvent[] = [];
  for (let e = server.pollEvent(); e; e = server.pollEvent()) events.push(e);
  return events;
}

describe('StrikeRegister (RFC 8446bis §8)', () => {
  it('admits a ticket identity once within the window, and again only after it', () => {
    const r = new StrikeRegister({ windowMs: 1000 });
    const id = Uint8Array.of(1, 2, 3);
    assert.equal(r.admit(id, 0), true);
    assert.equal(r.admit(id, 500), false);
    assert.equal(r.admit(Uint8Array.of(4), 500), true);
    assert.equal(r.admit(id, 2600), true, 'past twice the window a replay fails the freshness check anyway');
    assert.equal(r.size, 1, 'expired entries are pruned');
  });

  it('checks freshness both ways and refuses when full', () => {
    const r = new StrikeRegister({ windowMs: 1000, capacity: 1 });
    assert.equal(r.fresh(5000, 5900), true);
    assert.equal(r.fresh(5000, 6100), false);
    assert.equal(r.fresh(5000, 3900), false);
    assert.equal(r.admit(Uint8Array.of(1), 0), true);
    assert.equal(r.admit(Uint8Array.of(2), 0), false, 'full: 0-RTT is refused, never accepted unrecorded');
  });
});
