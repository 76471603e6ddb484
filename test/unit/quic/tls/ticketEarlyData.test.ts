/**
 * RFC 9001 §4.6.1: a NewSessionTicket's early_data extension must carry max_early_data_size
 * 0xffffffff; any other value is a PROTOCOL_VIOLATION, not a ticket to store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteWriter } from '../../../../app/quic/byteWriter.ts';
import { Alert, QUIC_PROTOCOL_VIOLATION } from '../../../../app/quic/tls/alerts.ts';
import { Ext, Extensions, type Extension } from '../../../../app/quic/tls/extensions.ts';
import { HandshakeType, frame } from '../../../../app/quic/tls/messages.ts';
import type { TlsEvent } from '../../../../app/quic/tls/tlsHandshake.ts';
import { errorOf, handshakePair, makeCert } from './tlsTestSupport.ts';

function ticketWith(extensions: Extension[]): Uint8Array {
  const w = new ByteWriter().u32(3600).u32(12345).vector(1, Uint8Array.of(0)).vector(2, new Uint8Array(32).fill(7));
  Extensions.write(w, extensions);
  return frame(HandshakeType.new_session_ticket, w.finish());
}

const u32 = (v: number): Uint8Array => new ByteWriter().u32(v).finish().slice();

async function receive(extensions: Extension[]): Promise<TlsEvent[]> {
  const r = handshakePair({}, await makeCert('p256'));
  assert.equal(errorOf(r.clientEvents), undefined);
  r.client.handleCrypto('application', ticketWith(extensions));
  const out: TlsEvent[] = [];
  for (let e = r.client.pollEvent(); e !== undefined; e = r.client.pollEvent()) out.push(e);
  return out;
}

test('a NewSessionTicket with early_data max_early_data_size 16384 is a PROTOCOL_VIOLATION', async () => {
  const events = await receive([{ type: Ext.early_data, data: u32(16384) }]);
  assert.equal(
    events.some((e) => e.type === 'session-ticket'),
    false,
    'the ticket was stored',
  );
  const error = errorOf(events);
  assert.ok(error, 'the connection is closed');
  assert.equal(error.quicError, QUIC_PROTOCOL_VIOLATION);
});

test('a NewSessionTicket with a malformed early_data extension is a decode_error', async () => {
  const error = errorOf(await receive([{ type: Ext.early_data, data: Uint8Array.of(0xff, 0xff) }]));
  assert.equal(error?.alert, Alert.decode_error);
});

test('a NewSessionTicket with early_data 0xffffffff, or without it, is stored', async () => {
  for (const extensions of [[{ type: Ext.early_data, data: u32(0xffffffff) }], [], [{ type: 0x7a7a, data: u32(1) }]]) {
    const events = await receive(extensions);
    assert.equal(errorOf(events), undefined);
    assert.ok(events.some((e) => e.type === 'session-ticket'));
  }
});
