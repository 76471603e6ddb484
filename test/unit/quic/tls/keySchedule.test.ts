/**
 * Key schedule vectors: RFC 8448 §3 (simple 1-RTT handshake, SHA-256) and RFC 9001 Appendix A
 * (Initial secrets, the HkdfLabel encodings, and the ChaCha20 "quic ku" key update secret).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  KeySchedule,
  Transcript,
  deriveSecret,
  hashOf,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfLabel,
  transcriptHash,
} from '../../../../app/quic/tls/keySchedule.ts';
import { TlsHandshake } from '../../../../app/quic/tls/tlsHandshake.ts';
import { cipherSuiteById } from '../../../../app/quic/tls/cipherSuites.ts';

const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const hex = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(s as string, 'hex'));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const EMPTY = new Uint8Array(0);

const r8448 = load('rfc8448Simple1Rtt.json');
const a = load('rfc9001AppendixA.json');

test('RFC 8448 §3: early secret and its "derived" secret (no PSK)', () => {
  const ks = new KeySchedule('sha256', null);
  assert.equal(toHex(ks.earlySecret), r8448.earlySecret);
  assert.equal(toHex(deriveSecret('sha256', ks.earlySecret, 'derived', hashOf('sha256'))), r8448.derivedFromEarly);
});

test('RFC 8448 §3: handshake secret, master secret', () => {
  const ks = new KeySchedule('sha256', null);
  ks.setSharedSecret(hex(r8448.ecdheSharedSecret));
  assert.equal(toHex(ks.handshakeSecret as Uint8Array), r8448.handshakeSecret);
  assert.equal(
    toHex(deriveSecret('sha256', ks.handshakeSecret as Uint8Array, 'derived', hashOf('sha256'))),
    r8448.derivedFromHandshake,
  );
  assert.equal(toHex(ks.masterSecret as Uint8Array), r8448.masterSecret);
});

test('RFC 8448 §3: handshake traffic secrets and finished keys', () => {
  const ks = new KeySchedule('sha256', null);
  ks.setSharedSecret(hex(r8448.ecdheSharedSecret));
  const t = ks.handshakeTrafficSecrets(hex(r8448.transcriptHashClientHelloServerHello));
  assert.equal(toHex(t.client), r8448.clientHandshakeTrafficSecret);
  assert.equal(toHex(t.server), r8448.serverHandshakeTrafficSecret);
  assert.equal(toHex(hkdfExpandLabel('sha256', t.server, 'finished', EMPTY, 32)), r8448.serverFinishedKey);
  assert.equal(toHex(hkdfExpandLabel('sha256', t.client, 'finished', EMPTY, 32)), r8448.clientFinishedKey);
});

test('RFC 9001 A.1: HkdfLabel encodings', () => {
  const lengths: Record<string, number> = {
    'client in': 32,
    'server in': 32,
    'quic key': 16,
    'quic iv': 12,
    'quic hp': 16,
  };
  for (const [label, expected] of Object.entries(a.hkdfLabels as Record<string, string>)) {
    assert.equal(toHex(hkdfLabel(label, EMPTY, lengths[label] as number)), expected, label);
  }
});

test('RFC 9001 A.1: Initial secrets, keys, IVs and header protection keys', () => {
  const initial = hkdfExtract('sha256', hex(a.initialSalt), hex(a.dcid));
  assert.equal(toHex(initial), a.initialSecret);
  for (const side of ['client', 'server'] as const) {
    const secret = hkdfExpandLabel('sha256', initial, `${side} in`, EMPTY, 32);
    assert.equal(toHex(secret), a[`${side}InitialSecret`]);
    assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic key', EMPTY, 16)), a[`${side}Key`]);
    assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic iv', EMPTY, 12)), a[`${side}Iv`]);
    assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic hp', EMPTY, 16)), a[`${side}Hp`]);
  }
});

test('RFC 9001 A.5: ChaCha20 keys and the "quic ku" next-generation secret', () => {
  const c = a.chacha as Record<string, string>;
  const secret = hex(c.secret);
  assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic key', EMPTY, 32)), c.key);
  assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic iv', EMPTY, 12)), c.iv);
  assert.equal(toHex(hkdfExpandLabel('sha256', secret, 'quic hp', EMPTY, 32)), c.hp);
  const suite = cipherSuiteById(0x1303);
  assert.ok(suite);
  assert.equal(toHex(TlsHandshake.nextTrafficSecret(suite, secret)), c.ku);
});

test('HKDF-Expand-Label agrees with node:crypto hkdfSync for SHA-384 and multi-block output', async () => {
  const { hkdfSync } = await import('node:crypto');
  const prk = hkdfExtract('sha384', hex('00'.repeat(48)), hex('0102030405'));
  const info = hkdfLabel('c ap traffic', hashOf('sha384'), 100);
  // hkdfSync does Extract then Expand, so it must equal our Expand over our Extract.
  const viaNode = new Uint8Array(hkdfSync('sha384', hex('0102030405'), hex('00'.repeat(48)), info, 100));
  assert.equal(toHex(hkdfExpandLabel('sha384', prk, 'c ap traffic', hashOf('sha384'), 100)), toHex(viaNode));
});

test('transcript: message_hash replaces ClientHello1 (§4.4.1)', () => {
  const ch1 = Uint8Array.of(1, 0, 0, 2, 0xaa, 0xbb);
  const hrr = Uint8Array.of(2, 0, 0, 1, 0xcc);
  const t = new Transcript();
  t.add(ch1);
  t.replaceWithMessageHash('sha256');
  t.add(hrr);
  const digest = hashOf('sha256', ch1);
  const synthetic = Uint8Array.from([254, 0, 0, 32, ...digest]);
  assert.deepEqual(t.hash('sha256'), transcriptHash('sha256', [synthetic, hrr]));
});
