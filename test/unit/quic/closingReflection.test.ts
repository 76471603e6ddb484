/**
 * The closing state as a reflector (RFC 9000 §10.2.1, §8.1): a connection whose handshake failed
 * answers packets with CONNECTION_CLOSE, but at a falling rate and never beyond 3x of what the
 * unvalidated peer address sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseState } from '../../../app/quic/closeState.ts';
import { QuicConnection, type SocketAddress } from '../../../app/quic/quicConnection.ts';
import { testCertificate } from '../../support/quicPair.ts';

const VICTIM: SocketAddress = { address: '198.51.100.20', port: 5353 };
const ATTACKER: SocketAddress = { address: '203.0.113.99', port: 40000 };
const SERVER: SocketAddress = { address: '10.0.0.2', port: 443 };

function newClient(alpn: string, dcid: Uint8Array, now: number): QuicConnection {
  return QuicConnection.connect({
    serverName: 'quic.example',
    alpn: [alpn],
    remoteAddress: SERVER,
    initialDcid: dcid,
    localCid: Uint8Array.from([5, 5, 5, 5, 5, 5, 5, 5]),
    now,
    wallClock: Date.now,
  });
}

function newServer(dcid: Uint8Array, now: number): QuicConnection {
  return QuicConnection.accept({
    alpn: ['xmpp-client'],
    ...testCertificate(),
    originalDcid: dcid,
    clientScid: Uint8Array.from([5, 5, 5, 5, 5, 5, 5, 5]),
    localCid: Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4]),
    remoteAddress: VICTIM,
    now,
    wallClock: Date.now,
  });
}

/** A server connection whose handshake failed (no common ALPN) with a client at `VICTIM`. */
function failedServer(now: number): { server: QuicConnection; received: number; sent: number; dcid: Uint8Array } {
  const dcid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const initial = newClient('not-xmpp', dcid, now).pollTransmit(now)!;
  const server = newServer(dcid, now);
  server.handleDatagram(initial.data, VICTIM, now);
  let sent = 0;
  for (let t = server.pollTransmit(now); t; t = server.pollTransmit(now)) sent += t.data.length;
  assert.equal(server.isClosed, true, 'the handshake failed');
  return { server, received: initial.data.length, sent, dcid };
}

describe('closing-state answers (RFC 9000 §10.2.1)', () => {
  it('9-byte datagrams with the connection ID do not make a closing server flood the client address', () => {
    let now = 1000;
    const { server, received, sent: first } = failedServer(now);
    let sent = first;
    let answers = 0;
    let flood = 0;
    // From elsewhere, one 9-byte datagram per millisecond until the closing state ends.
    for (let i = 0; i < 10_000 && !server.isDrained; i++) {
      now += 1;
      const d = new Uint8Array(9);
      d[0] = 0x40;
      d.set([9, 9, 9, 9, 1, 2, 3, 4], 1);
      server.handleDatagram(d, ATTACKER, now);
      flood += d.length;
      for (let t = server.pollTransmit(now); t; t = server.pollTransmit(now)) {
        assert.deepEqual(t.to, VICTIM);
        sent += t.data.length;
        answers++;
      }
      if ((server.pollTimeout() ?? Infinity) <= now) server.handleTimeout(now);
    }
    const fromVictim = received;
    assert.ok(
      sent <= 3 * fromVictim,
      `sent ${sent} bytes (${answers} answers to ${flood / 9} datagrams) to an address that sent ${fromVictim}`,
    );
    assert.ok(answers <= 16, `${answers} CONNECTION_CLOSE answers to ${flood / 9} datagrams`);
    assert.ok(answers >= 1, 'the closing state still answers');
  });

  it('sends no CONNECTION_CLOSE beyond the anti-amplification credit of an unvalidated address (§8.1)', () => {
    let now = 1000;
    const dcid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const initial = newClient('xmpp-client', dcid, now).pollTransmit(now)!;
    const server = newServer(dcid, now);
    server.handleDatagram(initial.data, VICTIM, now);
    const received = initial.data.length;
    let sent = 0;
    // The spoofed client never answers: the server's flight and its PTO repeats use up the credit.
    for (let i = 0; i < 10 && sent < 3 * received - 64; i++) {
      for (let t = server.pollTransmit(now); t; t = server.pollTransmit(now)) sent += t.data.length;
      now = Math.max(now + 1, server.pollTimeout() ?? now + 1);
      server.handleTimeout(now);
    }
    assert.equal(server.isClosed, false);
    assert.ok(sent > 3 * received - 64, `the credit is used up (${sent} of ${3 * received})`);
    server.close(0, 'shutting down', now);
    // Datagrams from elsewhere trigger answers, but give the client's address no credit.
    for (let i = 0; i < 64; i++) {
      now += 1;
      const d = new Uint8Array(9);
      d[0] = 0x40;
      server.handleDatagram(d, ATTACKER, now);
      for (let t = server.pollTransmit(now); t; t = server.pollTransmit(now)) sent += t.data.length;
    }
    assert.ok(sent <= 3 * received, `sent ${sent} bytes to an address that sent ${received}`);
  });
});

describe('CloseState answer rate (RFC 9000 §10.2.1)', () => {
  it('answers the 1st, 2nd, 4th, 8th ... datagram received while closing', () => {
    const c = new CloseState({ events: [], endpointEvents: [] });
    c.close(0x0a, 'bad', false, 0, 5000);
    assert.equal(c.takeCloseDue(), true, 'the close itself');
    const answered: number[] = [];
    for (let i = 1; i <= 100; i++) {
      c.onDatagramWhileClosing();
      if (c.takeCloseDue()) answered.push(i);
    }
    assert.deepEqual(answered, [1, 2, 4, 8, 16, 32, 64]);
  });
});
