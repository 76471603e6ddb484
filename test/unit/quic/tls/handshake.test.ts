/**
 * Our client against our server, in memory: suites, groups, HelloRetryRequest, signature schemes,
 * ALPN and transport parameter failures, resumption, and the caller's certificate decision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alert, QUIC_PROTOCOL_VIOLATION } from '../../../../app/quic/tls/alerts.ts';
import { TlsHandshake, type TlsEvent } from '../../../../app/quic/tls/tlsHandshake.ts';
import type { StoredTicket } from '../../../../app/quic/tls/tickets.ts';
import {
  CLIENT_TP,
  SERVER_TP,
  clientConfig,
  errorOf,
  handshakePair,
  keysOf,
  makeCert,
  serverConfig,
  type KeyKind,
} from './tlsTestSupport.ts';

function assertAgreed(r: {
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  client: TlsHandshake;
  server: TlsHandshake;
}): void {
  assert.equal(errorOf(r.clientEvents), undefined, JSON.stringify(errorOf(r.clientEvents)));
  assert.equal(errorOf(r.serverEvents), undefined, JSON.stringify(errorOf(r.serverEvents)));
  assert.ok(r.client.isComplete && r.server.isComplete);
  assert.deepEqual(keysOf(r.clientEvents, 'handshake', 'write'), keysOf(r.serverEvents, 'handshake', 'read'));
  assert.deepEqual(keysOf(r.clientEvents, 'handshake', 'read'), keysOf(r.serverEvents, 'handshake', 'write'));
  assert.deepEqual(keysOf(r.clientEvents, 'application', 'write'), keysOf(r.serverEvents, 'application', 'read'));
  assert.deepEqual(keysOf(r.clientEvents, 'application', 'read'), keysOf(r.serverEvents, 'application', 'write'));
  const tp = (evs: TlsEvent[]) => evs.find((e) => e.type === 'peer-transport-parameters');
  assert.deepEqual(tp(r.clientEvents), { type: 'peer-transport-parameters', data: SERVER_TP });
  assert.deepEqual(tp(r.serverEvents), { type: 'peer-transport-parameters', data: CLIENT_TP });
}

for (const [id, name, length] of [
  [0x1301, 'TLS_AES_128_GCM_SHA256', 32],
  [0x1302, 'TLS_AES_256_GCM_SHA384', 48],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 32],
] as const) {
  for (const group of ['x25519', 'secp256r1'] as const) {
    test(`handshake with ${name} over ${group}`, async () => {
      const r = handshakePair({ cipherSuites: [id], groups: [group] }, await makeCert('p256'));
      assertAgreed(r);
      assert.equal(r.client.suite?.name, name);
      assert.equal(keysOf(r.clientEvents, 'application', 'write')?.length, length);
      assert.equal(r.client.tlsFacts?.group, group);
      assert.equal(r.server.tlsFacts?.cipher, name);
      assert.equal(r.client.alpn, 'xmpp-client');
      // Nothing precedes the initial ClientHello; the server speaks in initial then handshake epochs.
      assert.deepEqual(
        r.flights.map((f) => `${f.from}:${f.epoch}`),
        ['client:initial', 'server:initial', 'server:handshake', 'client:handshake'],
      );
    });
  }
}

for (const [kind, scheme] of [
  ['p256', 'ecdsa_secp256r1_sha256'],
  ['p384', 'ecdsa_secp384r1_sha384'],
  ['rsa', 'rsa_pss_rsae_sha256'],
  ['ed25519', 'ed25519'],
] as const satisfies readonly (readonly [KeyKind, string])[]) {
  test(`server authenticates with ${scheme}`, async () => {
    const cert = await makeCert(kind);
    const r = handshakePair({}, cert);
    assertAgreed(r);
    assert.equal(r.client.tlsFacts?.signatureScheme, scheme);
    const pc = r.clientEvents.find((e) => e.type === 'peer-certificate');
    assert.deepEqual(pc, { type: 'peer-certificate', chain: cert.chain });
  });
}

test('rsa_pss_rsae_sha384 and rsa_pss_rsae_sha512: chosen when offered alone, sign and verify', async () => {
  // Our client always offers every scheme (sha256 first), so these two are checked below the machine.
  const {
    chooseSignatureScheme,
    signCertificateVerify,
    verifyCertificateVerify,
    certificateVerifyContent,
    SignatureScheme,
  } = await import('../../../../app/quic/tls/signatures.ts');
  const { createPublicKey } = await import('node:crypto');
  const cert = await makeCert('rsa');
  for (const s of [SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512]) {
    assert.equal(chooseSignatureScheme(cert.privateKey, [s]), s);
    const content = certificateVerifyContent('server', new Uint8Array(48));
    const sig = signCertificateVerify(s, cert.privateKey, content);
    assert.doesNotThrow(() => verifyCertificateVerify(s, [s], createPublicKey(cert.privateKey), content, sig));
  }
});

test('HelloRetryRequest when the server wants the other group (client x25519 first, server secp256r1 only)', async () => {
  const r = handshakePair({ groups: ['x25519', 'secp256r1'] }, await makeCert('p256'), { groups: ['secp256r1'] });
  assertAgreed(r);
  assert.equal(r.client.tlsFacts?.group, 'secp256r1');
  assert.deepEqual(
    r.flights.map((f) => `${f.from}:${f.epoch}`),
    ['client:initial', 'server:initial', 'client:initial', 'server:initial', 'server:handshake', 'client:handshake'],
  );
});

test('HelloRetryRequest the other way round (secp256r1 first, server x25519 only), with SHA-384', async () => {
  const r = handshakePair({ groups: ['secp256r1', 'x25519'], cipherSuites: [0x1302] }, await makeCert('ed25519'), {
    groups: ['x25519'],
  });
  assertAgreed(r);
  assert.equal(r.server.tlsFacts?.group, 'x25519');
});

test('forced HelloRetryRequest: a group change, or a cookie when every group already has a share', async () => {
  const cert = await makeCert('p256');
  const viaGroup = handshakePair({}, cert, { requireHelloRetry: true });
  assertAgreed(viaGroup);
  assert.equal(viaGroup.client.tlsFacts?.group, 'secp256r1');
  const viaCookie = handshakePair({ groups: ['x25519'] }, cert, { requireHelloRetry: true });
  assertAgreed(viaCookie);
  assert.equal(viaCookie.flights.filter((f) => f.from === 'client' && f.epoch === 'initial').length, 2);
});

test('HelloRetryRequest with no group in common ends in handshake_failure', async () => {
  const r = handshakePair({ groups: ['x25519'] }, await makeCert('p256'), { groups: ['secp256r1'] });
  assert.equal(errorOf(r.serverEvents)?.alert, Alert.handshake_failure);
});

test('no cipher suite in common: handshake_failure', async () => {
  const r = handshakePair({ cipherSuites: [0x1303] }, await makeCert('p256'), { cipherSuites: [0x1301] });
  assert.equal(errorOf(r.serverEvents)?.alert, Alert.handshake_failure);
  assert.equal(r.flights.length, 1, 'the server sends nothing after the alert');
});

test('ALPN without overlap: the server sends no_application_protocol (120)', async () => {
  const r = handshakePair({ alpn: ['h3'] }, await makeCert('p256'));
  assert.equal(errorOf(r.serverEvents)?.alert, 120);
  assert.equal(r.client.isComplete, false);
});

test("the server picks by its own preference among the client's ALPN protocols", async () => {
  const r = handshakePair({ alpn: ['xmpps-client', 'xmpp-client'] }, await makeCert('p256'), {
    alpn: ['x', 'xmpp-client'],
  });
  assertAgreed(r);
  assert.equal(r.server.alpn, 'xmpp-client');
  assert.equal(r.client.tlsFacts?.alpn, 'xmpp-client');
});

test('ClientHello without quic_transport_parameters: the server sends missing_extension (109)', async () => {
  const cert = await makeCert('p256');
  const { Ext } = await import('../../../../app/quic/tls/extensions.ts');
  // Strip the extension from the ClientHello by renaming its type to an unknown one.
  const r = handshakePair(
    {},
    cert,
    {},
    {
      tamper: (f) =>
        f.from === 'client' && f.epoch === 'initial'
          ? renameExtension(f.data, Ext.quic_transport_parameters, 0xfafa)
          : f.data,
    },
  );
  assert.equal(errorOf(r.serverEvents)?.alert, Alert.missing_extension);
});

/** Rewrites the first occurrence of extension `type` (u16 type + u16 length) into `to`, keeping length. */
function renameExtension(data: Uint8Array, type: number, to: number): Uint8Array {
  const out = data.slice();
  for (let i = 0; i + 4 <= out.length; i++) {
    if (out[i] === type >> 8 && out[i + 1] === (type & 0xff)) {
      const len = ((out[i + 2] as number) << 8) | (out[i + 3] as number);
      if (i + 4 + len <= out.length && len > 0 && len < 512) {
        out[i] = to >> 8;
        out[i + 1] = to & 0xff;
        return out;
      }
    }
  }
  throw new Error(`extension ${type} not found`);
}

/** Runs a client up to EncryptedExtensions against our server, then feeds it a hand-made one. */
async function clientWithEncryptedExtensions(exts: { type: number; data: Uint8Array }[]): Promise<TlsEvent[]> {
  const cert = await makeCert('p256');
  const { encodeEncryptedExtensions } = await import('../../../../app/quic/tls/messages.ts');
  const client = new TlsHandshake(clientConfig());
  const server = new TlsHandshake(serverConfig(cert));
  client.start();
  server.handleCrypto('initial', (client.pollOutput() as { data: Uint8Array }).data);
  client.handleCrypto('initial', (server.pollOutput() as { data: Uint8Array }).data);
  client.handleCrypto('handshake', encodeEncryptedExtensions(exts));
  const events: TlsEvent[] = [];
  for (let e = client.pollEvent(); e; e = client.pollEvent()) events.push(e);
  return events;
}

test('EncryptedExtensions: no transport parameters -> missing_extension (109); unoffered or no ALPN -> 120', async () => {
  const { Ext, encodeAlpn } = await import('../../../../app/quic/tls/extensions.ts');
  const alpn = (p: string[]) => ({ type: Ext.application_layer_protocol_negotiation, data: encodeAlpn(p) });
  const tp = { type: Ext.quic_transport_parameters, data: SERVER_TP };
  assert.equal(errorOf(await clientWithEncryptedExtensions([alpn(['xmpp-client'])]))?.alert, Alert.missing_extension);
  assert.equal(errorOf(await clientWithEncryptedExtensions([alpn(['h3']), tp]))?.alert, Alert.no_application_protocol);
  assert.equal(errorOf(await clientWithEncryptedExtensions([tp]))?.alert, Alert.no_application_protocol);
  assert.equal(
    errorOf(
      await clientWithEncryptedExtensions([
        alpn(['xmpp-client']),
        tp,
        { type: Ext.early_data, data: new Uint8Array(0) },
      ]),
    )?.alert,
    Alert.unsupported_extension,
  );
  assert.equal(
    errorOf(
      await clientWithEncryptedExtensions([
        alpn(['xmpp-client']),
        tp,
        { type: Ext.key_share, data: new Uint8Array(0) },
      ]),
    )?.alert,
    Alert.illegal_parameter,
  );
  const ok = await clientWithEncryptedExtensions([alpn(['xmpp-client']), tp]);
  assert.equal(errorOf(ok), undefined);
  assert.ok(ok.some((e) => e.type === 'peer-transport-parameters'));
});

test('rejectPeer: error with bad_certificate (42) or the given alert, and no Finished, no 1-RTT keys', async () => {
  const cert = await makeCert('p256');
  for (const [args, alert] of [
    [[], 42],
    [[Alert.certificate_expired, 'expired'], 45],
  ] as const) {
    const r = handshakePair({}, cert, {}, { onPeerCertificate: (c) => c.rejectPeer(...(args as [])) });
    assert.equal(errorOf(r.clientEvents)?.alert, alert);
    assert.equal(keysOf(r.clientEvents, 'application', 'write'), undefined);
    assert.equal(r.flights.filter((f) => f.from === 'client' && f.epoch === 'handshake').length, 0);
    assert.equal(r.server.isComplete, false);
    assert.equal(r.client.tlsFacts, null);
  }
});

test('no Finished and no 1-RTT keys until acceptPeer; acceptPeer out of turn is a programmer error', async () => {
  const cert = await makeCert('p256');
  let pending: TlsHandshake | null = null;
  const r = handshakePair(
    {},
    cert,
    {},
    {
      onPeerCertificate: (c) => {
        pending = c;
      },
    },
  );
  assert.ok(pending);
  assert.equal(keysOf(r.clientEvents, 'application', 'write'), undefined);
  assert.equal(keysOf(r.clientEvents, 'application', 'read'), undefined);
  assert.equal(r.client.isComplete, false);
  r.client.acceptPeer();
  const out = r.client.pollOutput();
  assert.equal(out?.epoch, 'handshake');
  assert.throws(() => r.client.acceptPeer(), /acceptPeer/);
  assert.throws(() => new TlsHandshake(clientConfig({ alpn: [] })), /ALPN/);
});

test('a bad CertificateVerify signature is decrypt_error', async () => {
  const cert = await makeCert('p256');
  const other = await makeCert('p256', 'other.example');
  // The server signs with a key that does not match its certificate.
  const r = handshakePair({}, { chain: cert.chain, privateKey: other.privateKey });
  assert.equal(errorOf(r.clientEvents)?.alert, Alert.decrypt_error);
  assert.equal(
    r.clientEvents.some((e) => e.type === 'peer-certificate'),
    false,
  );
});

test('a certificate whose key does not fit the scheme used is illegal_parameter', async () => {
  const ec = await makeCert('p256');
  const ed = await makeCert('ed25519');
  const r = handshakePair({}, { chain: ed.chain, privateKey: ec.privateKey });
  assert.equal(errorOf(r.clientEvents)?.alert, Alert.illegal_parameter);
});

test('a flipped bit in the server Finished is decrypt_error; in the client Finished too', async () => {
  const cert = await makeCert('p256');
  const flipLast = (d: Uint8Array): Uint8Array => {
    const c = d.slice();
    c[c.length - 1] = (c[c.length - 1] as number) ^ 1;
    return c;
  };
  const r1 = handshakePair(
    {},
    cert,
    {},
    { tamper: (f) => (f.from === 'server' && f.epoch === 'handshake' ? flipLast(f.data) : f.data) },
  );
  assert.equal(errorOf(r1.clientEvents)?.alert, Alert.decrypt_error);
  const r2 = handshakePair(
    {},
    cert,
    {},
    { tamper: (f) => (f.from === 'client' && f.epoch === 'handshake' ? flipLast(f.data) : f.data) },
  );
  assert.equal(errorOf(r2.serverEvents)?.alert, Alert.decrypt_error);
});

test('SNI: sent, seen by the server, used to select the certificate; not sent for an IP literal', async () => {
  const main = await makeCert('p256');
  const alt = await makeCert('ed25519', 'alt.example');
  const seen: (string | null)[] = [];
  const selectCertificate = (name: string | null) => {
    seen.push(name);
    return name === 'alt.example' ? { certificateChain: alt.chain, privateKey: alt.privateKey } : null;
  };
  const r = handshakePair({ serverName: 'alt.example' }, main, { selectCertificate });
  assertAgreed(r);
  assert.equal(r.server.tlsFacts?.sni, 'alt.example');
  assert.equal(r.client.tlsFacts?.sni, 'alt.example');
  assert.equal(r.client.tlsFacts?.signatureScheme, 'ed25519');
  const ip = handshakePair({ serverName: '192.0.2.7' }, main, { selectCertificate });
  assertAgreed(ip);
  assert.equal(ip.server.tlsFacts?.sni, '');
  assert.equal(ip.client.tlsFacts?.sni, '', 'RFC 6066 §3: an IP literal is never sent, so no SNI is reported');
  assert.deepEqual(seen, ['alt.example', null]);
});

function ticketFrom(events: TlsEvent[]): StoredTicket {
  const e = events.find((x) => x.type === 'session-ticket');
  assert.ok(e && e.type === 'session-ticket', 'a session ticket was issued');
  return JSON.parse(JSON.stringify(e.ticket)) as StoredTicket; // it must survive JSON
}

test('resumption with a ticket (psk_dhe_ke): no certificate sent, chain re-offered to the verifier', async () => {
  const cert = await makeCert('p256');
  const ticketKey = new Uint8Array(32).fill(7);
  const first = handshakePair({}, cert, { ticketKey });
  assertAgreed(first);
  const ticket = ticketFrom(first.clientEvents);
  assert.equal(ticket.serverName, 'quic.example');
  const second = handshakePair({ sessionTicket: ticket, now: () => 1_800_000_060_000 }, cert, {
    ticketKey,
    now: () => 1_800_000_060_000,
  });
  assertAgreed(second);
  assert.equal(second.client.tlsFacts?.resumed, true);
  assert.equal(second.server.tlsFacts?.resumed, true);
  assert.equal(second.client.tlsFacts?.signatureScheme, null);
  assert.deepEqual(
    second.clientEvents.find((e) => e.type === 'peer-certificate'),
    { type: 'peer-certificate', chain: cert.chain },
  );
  const serverHandshakeBytes = second.flights
    .filter((f) => f.from === 'server' && f.epoch === 'handshake')
    .reduce((n, f) => n + f.data.length, 0);
  assert.ok(serverHandshakeBytes < 150, `no Certificate in a resumed handshake (${serverHandshakeBytes} bytes)`);
  // A resumed connection issues a new ticket of its own.
  ticketFrom(second.clientEvents);
});

test('resumption across a HelloRetryRequest (binder over message_hash + HRR + truncated ClientHello2)', async () => {
  const cert = await makeCert('p256');
  const ticketKey = new Uint8Array(32).fill(9);
  const ticket = ticketFrom(handshakePair({}, cert, { ticketKey }).clientEvents);
  const r = handshakePair({ sessionTicket: ticket }, cert, { ticketKey, groups: ['secp256r1'] });
  assertAgreed(r);
  assert.equal(r.server.tlsFacts?.resumed, true);
  assert.equal(r.server.tlsFacts?.group, 'secp256r1');
});

test('a ticket the server cannot open, or an expired one, falls back to a full handshake', async () => {
  const cert = await makeCert('p256');
  const ticket = ticketFrom(handshakePair({}, cert, { ticketKey: new Uint8Array(32).fill(1) }).clientEvents);
  const otherKey = handshakePair({ sessionTicket: ticket }, cert, { ticketKey: new Uint8Array(32).fill(2) });
  assertAgreed(otherKey);
  assert.equal(otherKey.server.tlsFacts?.resumed, false);
  const late = 1_800_000_000_000 + (ticket.lifetimeSeconds + 1) * 1000;
  const expired = handshakePair({ sessionTicket: ticket, now: () => late }, cert, {
    ticketKey: new Uint8Array(32).fill(1),
    now: () => late,
  });
  assertAgreed(expired);
  assert.equal(expired.client.tlsFacts?.resumed, false);
});

test('a bad PSK binder is decrypt_error', async () => {
  const cert = await makeCert('p256');
  const ticketKey = new Uint8Array(32).fill(3);
  const ticket = ticketFrom(handshakePair({}, cert, { ticketKey }).clientEvents);
  const wrongPsk: StoredTicket = { ...ticket, psk: Buffer.alloc(32, 0x55).toString('base64') };
  const r = handshakePair({ sessionTicket: wrongPsk }, cert, { ticketKey });
  assert.equal(errorOf(r.serverEvents)?.alert, Alert.decrypt_error);
});

test('TLS KeyUpdate after the handshake is unexpected_message (RFC 9001 §6)', async () => {
  const r = handshakePair({}, await makeCert('p256'));
  r.client.handleCrypto('application', Uint8Array.of(24, 0, 0, 1, 0));
  const e = r.client.pollEvent();
  assert.equal(e?.type === 'error' && e.alert, Alert.unexpected_message);
  r.server.handleCrypto('application', Uint8Array.of(13, 0, 0, 0));
  const e2 = r.server.pollEvent();
  assert.equal(e2?.type === 'error' && e2.alert, Alert.unexpected_message);
});

test('post-handshake CertificateRequest is PROTOCOL_VIOLATION (RFC 9001 §4.4)', async () => {
  const r = handshakePair({}, await makeCert('p256'));
  r.client.handleCrypto('application', Uint8Array.of(13, 0, 0, 3, 0, 0, 0));
  const e = r.client.pollEvent();
  assert.ok(e?.type === 'error');
  assert.equal(e.quicError, QUIC_PROTOCOL_VIOLATION);
});

test('handshake bytes left over when the client moves to 1-RTT are PROTOCOL_VIOLATION (RFC 9001 §4.1.3)', async () => {
  let pending: TlsHandshake | null = null;
  const r = handshakePair(
    {},
    await makeCert('p256'),
    {},
    {
      onPeerCertificate: (c) => {
        pending = c;
      },
    },
  );
  assert.ok(pending);
  r.client.handleCrypto('handshake', Uint8Array.of(20, 0));
  r.client.acceptPeer();
  const events: TlsEvent[] = [];
  for (let e = r.client.pollEvent(); e; e = r.client.pollEvent()) events.push(e);
  assert.equal(errorOf(events)?.quicError, QUIC_PROTOCOL_VIOLATION);
  assert.equal(r.client.pollOutput(), undefined, 'nothing is sent after the error');
});

test('a stored ticket that is not one, or for another server name, is ignored (full handshake)', async () => {
  const cert = await makeCert('p256');
  const ticketKey = new Uint8Array(32).fill(4);
  const ticket = ticketFrom(handshakePair({}, cert, { ticketKey }).clientEvents);
  for (const sessionTicket of [
    { nonsense: true } as unknown as StoredTicket,
    { ...ticket, serverName: 'elsewhere.example' },
  ]) {
    const r = handshakePair({ sessionTicket }, cert, { ticketKey });
    assertAgreed(r);
    assert.equal(r.client.tlsFacts?.resumed, false);
  }
});

test('tlsFacts record that ECH is not available', async () => {
  const { ECH_STATUS } = await import('../../../../app/quic/tls/tlsHandshake.ts');
  const r = handshakePair({}, await makeCert('p256'));
  assert.equal(r.client.tlsFacts?.ech, ECH_STATUS);
  assert.equal(ECH_STATUS, 'not-available');
});
