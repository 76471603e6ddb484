/**
 * RFC 8446 §4.2.10: "A client MUST NOT include the "early_data" extension in its followup
 * ClientHello" (after a HelloRetryRequest). A server that gets one ends the handshake with
 * illegal_parameter instead of reading the second ClientHello as a fresh offer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Alert } from '../../../../app/quic/tls/alerts.ts';
import { Ext } from '../../../../app/quic/tls/extensions.ts';
import { decodeClientHello, encodeClientHello } from '../../../../app/quic/tls/messages.ts';
import { errorOf, handshakePair, makeCert, type Flight } from './tlsTestSupport.ts';

/** Adds an empty early_data extension to the client's second ClientHello. */
function earlyDataInSecondClientHello(): (f: Flight) => Uint8Array {
  let clientHellos = 0;
  return (f) => {
    if (f.from !== 'client' || f.epoch !== 'initial' || ++clientHellos !== 2) return f.data;
    const ch = decodeClientHello(f.data.subarray(4));
    return encodeClientHello(ch.random, ch.cipherSuites, [
      ...ch.extensions.list,
      { type: Ext.early_data, data: new Uint8Array(0) },
    ]);
  };
}

test('early_data in the ClientHello after a HelloRetryRequest: illegal_parameter', async () => {
  const r = handshakePair(
    {},
    await makeCert('p256'),
    { requireHelloRetry: true },
    {
      tamper: earlyDataInSecondClientHello(),
    },
  );
  const error = errorOf(r.serverEvents);
  assert.ok(error, 'the server ends the handshake');
  assert.equal(error.alert, Alert.illegal_parameter);
  assert.match(error.reason, /early_data/);
  assert.equal(r.server.isComplete, false);
});

test('the same retry without early_data completes', async () => {
  const r = handshakePair({}, await makeCert('p256'), { requireHelloRetry: true });
  assert.equal(errorOf(r.serverEvents), undefined);
  assert.equal(r.server.isComplete, true);
});
