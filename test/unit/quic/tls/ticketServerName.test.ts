/**
 * A session ticket is offered only to the server name it was issued for (RFC 8446bis §4.6.1: "the
 * client MUST verify that the SNI value [of the resumed session] matches": we never ask another name
 * to resume it). Checked on the wire: the ClientHello to another name carries no pre_shared_key,
 * so that name's server never sees alpha's ticket at all (not only that it declines it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ext } from '../../../../app/quic/tls/extensions.ts';
import { HandshakeType, decodeClientHello, type ClientHello } from '../../../../app/quic/tls/messages.ts';
import type { StoredTicket } from '../../../../app/quic/tls/tickets.ts';
import { errorOf, handshakePair, makeCert } from './tlsTestSupport.ts';

function firstClientHello(flights: { from: string; data: Uint8Array }[]): ClientHello {
  const flight = flights.find((f) => f.from === 'client');
  assert.ok(flight, 'the client sent nothing');
  assert.equal(flight.data[0], HandshakeType.client_hello);
  return decodeClientHello(flight.data.subarray(4));
}

test('a ticket issued for one server name is not offered in a ClientHello to another', async () => {
  const cert = await makeCert('p256');
  const ticketKey = new Uint8Array(32).fill(5);
  const first = handshakePair({ serverName: 'alpha.example' }, cert, { ticketKey });
  const event = first.clientEvents.find((e) => e.type === 'session-ticket');
  assert.ok(event?.type === 'session-ticket', 'the first handshake yielded no ticket');
  const ticket: StoredTicket = event.ticket;
  assert.equal(ticket.serverName, 'alpha.example');

  const same = handshakePair({ serverName: 'ALPHA.example', sessionTicket: ticket }, cert, { ticketKey });
  assert.equal(errorOf(same.clientEvents), undefined);
  assert.equal(firstClientHello(same.flights).extensions.has(Ext.pre_shared_key), true, 'offered to its own name');
  assert.equal(same.client.tlsFacts?.resumed, true);

  const other = handshakePair({ serverName: 'beta.example', sessionTicket: ticket }, cert, { ticketKey });
  assert.equal(errorOf(other.clientEvents), undefined);
  assert.equal(firstClientHello(other.flights).extensions.has(Ext.pre_shared_key), false, 'not offered to beta');
  assert.equal(other.client.tlsFacts?.resumed, false);
});
