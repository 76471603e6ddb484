/**
 * Interop evidence without a record layer: the ClientHello and ServerHello of RFC 9001 Appendix A
 * (A.2, A.3: the CRYPTO frame contents of the sample Initial packets, produced by another
 * implementation) decode as specified, our server accepts that ClientHello, and our client
 * accepts that ServerHello.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Ext,
  decodeAlpn,
  decodeClientKeyShares,
  decodePskModes,
  decodeServerKeyShare,
  decodeServerName,
  decodeU16,
  decodeU16List,
} from '../../../../app/quic/tls/extensions.ts';
import {
  HandshakeType,
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
} from '../../../../app/quic/tls/messages.ts';
import { TlsHandshake, type TlsEvent } from '../../../../app/quic/tls/tlsHandshake.ts';
import { clientConfig, makeCert, serverConfig } from './tlsTestSupport.ts';

const a = JSON.parse(readFileSync(new URL('./fixtures/rfc9001AppendixA.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;
const hex = (s: string | undefined): Uint8Array => new Uint8Array(Buffer.from(s as string, 'hex'));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

const clientHello = hex(a.clientHello);
const serverHello = hex(a.serverHello);

function drainEvents(h: TlsHandshake): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = h.pollEvent(); e !== undefined; e = h.pollEvent()) out.push(e);
  return out;
}

test('A.2 ClientHello decodes field by field', () => {
  assert.equal(clientHello[0], HandshakeType.client_hello);
  const ch = decodeClientHello(clientHello.subarray(4));
  assert.equal(ch.legacyVersion, 0x0303);
  assert.equal(ch.legacySessionId.length, 0, 'no middlebox compatibility mode in QUIC');
  assert.deepEqual(ch.cipherSuites, [0x1301, 0x1302]);
  assert.deepEqual([...ch.compressionMethods], [0]);
  const e = ch.extensions;
  assert.equal(decodeServerName(e.get(Ext.server_name) as Uint8Array), 'example.com');
  assert.deepEqual(decodeU16List(e.get(Ext.supported_groups) as Uint8Array, 'groups'), [0x001d, 0x0017, 0x0018]);
  assert.deepEqual(decodeAlpn(e.get(Ext.application_layer_protocol_negotiation) as Uint8Array), ['alpn']);
  const shares = decodeClientKeyShares(e.get(Ext.key_share) as Uint8Array);
  assert.equal(shares.length, 1);
  assert.equal(shares[0]?.group, 0x001d);
  assert.equal(
    toHex(shares[0]?.keyExchange as Uint8Array),
    '9370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748',
  );
  assert.deepEqual(decodeU16List(e.get(Ext.supported_versions) as Uint8Array, 'versions', 1), [0x0304]);
  assert.deepEqual(
    decodeU16List(e.get(Ext.signature_algorithms) as Uint8Array, 'sigalgs'),
    [0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806],
  );
  assert.deepEqual(decodePskModes(e.get(Ext.psk_key_exchange_modes) as Uint8Array), [1]);
  assert.equal((e.get(Ext.quic_transport_parameters) as Uint8Array).length, 50);
  assert.deepEqual(
    e.list.map((x) => x.type),
    [0, 0xff01, 10, 16, 5, 51, 43, 13, 45, 28, 0x39],
  );
  // Re-encoding the decoded fields gives back the same bytes.
  assert.equal(toHex(encodeClientHello(ch.random, ch.cipherSuites, e.list)), a.clientHello);
});

test('A.3 ServerHello decodes field by field', () => {
  const sh = decodeServerHello(serverHello.subarray(4));
  assert.equal(sh.isHelloRetryRequest, false);
  assert.equal(sh.cipherSuite, 0x1301);
  assert.equal(sh.legacySessionIdEcho.length, 0);
  assert.equal(decodeU16(sh.extensions.get(Ext.supported_versions) as Uint8Array, 'sv'), 0x0304);
  const ks = decodeServerKeyShare(sh.extensions.get(Ext.key_share) as Uint8Array);
  assert.equal(ks.group, 0x001d);
  assert.equal(toHex(ks.keyExchange), '9d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a');
});

test('our server accepts the A.2 ClientHello (ALPN "alpn") and answers with ServerHello + handshake flight', async () => {
  const cert = await makeCert('p256', 'example.com');
  const server = new TlsHandshake(serverConfig(cert, { alpn: ['alpn'] }));
  server.handleCrypto('initial', clientHello);
  const events = drainEvents(server);
  assert.equal(
    events.find((e) => e.type === 'error'),
    undefined,
  );
  const tp = events.find((e) => e.type === 'peer-transport-parameters');
  assert.ok(tp?.type === 'peer-transport-parameters');
  assert.equal(toHex(tp.data).slice(0, 8), '0408ffff', 'initial_max_data, as encoded in A.2');
  assert.equal(events.filter((e) => e.type === 'keys').length, 3);
  const first = server.pollOutput();
  const second = server.pollOutput();
  assert.equal(first?.epoch, 'initial');
  assert.equal(second?.epoch, 'handshake');
  const sh = decodeServerHello((first?.data as Uint8Array).subarray(4));
  assert.equal(sh.cipherSuite, 0x1301);
  // And a server without "alpn" refuses it with no_application_protocol.
  const strict = new TlsHandshake(serverConfig(cert));
  strict.handleCrypto('initial', clientHello);
  const err = drainEvents(strict).find((e) => e.type === 'error');
  assert.equal(err?.type === 'error' && err.alert, 120);
});

test('our client accepts the A.3 ServerHello and installs Handshake keys', () => {
  // The client cannot reproduce A.2's private key, but the ServerHello only needs to match its
  // offer: X25519, TLS_AES_128_GCM_SHA256, no session id.
  const client = new TlsHandshake(
    clientConfig({ serverName: 'example.com', alpn: ['alpn'], cipherSuites: [0x1301, 0x1302] }),
  );
  client.start();
  assert.equal(client.pollOutput()?.epoch, 'initial');
  client.handleCrypto('initial', serverHello);
  const events = drainEvents(client);
  assert.equal(
    events.find((e) => e.type === 'error'),
    undefined,
  );
  const keys = events.filter((e) => e.type === 'keys');
  assert.deepEqual(
    keys.map((e) => e.type === 'keys' && `${e.epoch}/${e.direction}/${e.suite.name}`),
    ['handshake/read/TLS_AES_128_GCM_SHA256', 'handshake/write/TLS_AES_128_GCM_SHA256'],
  );
});
