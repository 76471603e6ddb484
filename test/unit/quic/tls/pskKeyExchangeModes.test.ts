/**
 * RFC 9846 §4.6.1: "If the client's hello contained a suitable "psk_key_exchange_modes"
 * extension, the server MAY send a NewSessionTicket message". rustls issues no ticket otherwise,
 * so a client that sends the extension only alongside a ticket never receives its first ticket.
 * Our ClientHello carries psk_key_exchange_modes (psk_dhe_ke) on every handshake.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ext, PSK_DHE_KE, decodePskModes } from '../../../../app/quic/tls/extensions.ts';
import { HandshakeType, decodeClientHello, type ClientHello } from '../../../../app/quic/tls/messages.ts';
import { errorOf, handshakePair, makeCert } from './tlsTestSupport.ts';

function firstClientHello(flights: { from: string; data: Uint8Array }[]): ClientHello {
  const flight = flights.find((f) => f.from === 'client');
  assert.ok(flight, 'the client sent nothing');
  assert.equal(flight.data[0], HandshakeType.client_hello);
  // Handshake header: type (1 byte) and a 3-byte length.
  return decodeClientHello(flight.data.subarray(4));
}

test('a ClientHello without a ticket to offer still carries psk_key_exchange_modes = [psk_dhe_ke]', async () => {
  const r = handshakePair({}, await makeCert('p256'), { issueTickets: true });
  assert.equal(errorOf(r.clientEvents), undefined);
  const ch = firstClientHello(r.flights);
  assert.equal(ch.extensions.has(Ext.pre_shared_key), false, 'no ticket was offered');
  const modes = ch.extensions.get(Ext.psk_key_exchange_modes);
  assert.ok(modes, 'psk_key_exchange_modes is missing, so an RFC 8446 server never issues a ticket');
  assert.deepEqual(decodePskModes(modes), [PSK_DHE_KE]);
});

test('a ClientHello offering a ticket carries psk_key_exchange_modes once, and pre_shared_key last', async () => {
  const cert = await makeCert('p256');
  const first = handshakePair({}, cert, { issueTickets: true, ticketKey: new Uint8Array(32).fill(3) });
  const ticketEvent = first.clientEvents.find((e) => e.type === 'session-ticket');
  assert.ok(ticketEvent?.type === 'session-ticket', 'the first handshake yielded no ticket');
  const second = handshakePair({ sessionTicket: ticketEvent.ticket }, cert, {
    issueTickets: true,
    ticketKey: new Uint8Array(32).fill(3),
  });
  assert.equal(errorOf(second.clientEvents), undefined);
  const ch = firstClientHello(second.flights);
  const types = ch.extensions.list.map((e) => e.type);
  assert.equal(types.filter((t) => t === Ext.psk_key_exchange_modes).length, 1);
  assert.equal(types.at(-1), Ext.pre_shared_key);
  assert.deepEqual(decodePskModes(ch.extensions.get(Ext.psk_key_exchange_modes) as Uint8Array), [PSK_DHE_KE]);
});
