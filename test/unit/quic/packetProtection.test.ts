/** RFC 9001 Appendix A: packet protection vectors (fixtures/rfc9001AppendixA.json). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseHeader, protectPacket, unprotectPacket } from '../../../app/quic/packetHeader.ts';
import {
  derivePacketKeys,
  headerMask,
  initialKeys,
  initialSecrets,
  nextPhaseKeys,
  retryIntegrityTag,
} from '../../../app/quic/packetProtection.ts';

const v = JSON.parse(readFileSync(new URL('fixtures/rfc9001AppendixA.json', import.meta.url), 'utf8'));
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('RFC 9001 Appendix A.1 keys', () => {
  it('derives the client and server Initial secrets, keys, IVs and HP keys', () => {
    const s = initialSecrets(hex(v.dcid));
    assert.equal(toHex(s.client), v.client.secret);
    assert.equal(toHex(s.server), v.server.secret);
    const k = initialKeys(hex(v.dcid));
    for (const side of ['client', 'server'] as const) {
      assert.equal(toHex(k[side].key), v[side].key);
      assert.equal(toHex(k[side].iv), v[side].iv);
      assert.equal(toHex(k[side].hpKey), v[side].hp);
    }
  });
});

describe('RFC 9001 Appendix A.2 client Initial', () => {
  it('gives the published header-protection mask from one long-lived AES-ECB cipher, call after call (§5.4.3)', () => {
    const keys = initialKeys(hex(v.dcid)).client;
    const sample = hex('d1b1c98dd7689fb8ec11d242b123dc9b');
    for (let i = 0; i < 3; i++) {
      assert.equal(toHex(headerMask(keys, sample)), '437b9aec36');
      // ECB keeps no state between blocks: another packet's sample in between changes nothing.
      headerMask(keys, new Uint8Array(16).fill(i));
    }
  });

  it('protects the published packet again and again with the same keys object', () => {
    const keys = initialKeys(hex(v.dcid)).client;
    const frames = new Uint8Array(v.clientInitial.payloadLength);
    frames.set(hex(v.clientInitial.cryptoFrame));
    const header = hex(v.clientInitial.unprotectedHeader);
    for (let i = 0; i < 3; i++) {
      const packet = protectPacket(
        keys,
        header.slice(),
        header.length - 4,
        4,
        v.clientInitial.packetNumber,
        frames,
        true,
      );
      assert.equal(toHex(packet), v.clientInitial.protected);
    }
  });

  it('protects the CRYPTO frame plus padding into the published packet', () => {
    const keys = initialKeys(hex(v.dcid)).client;
    const frames = new Uint8Array(v.clientInitial.payloadLength);
    frames.set(hex(v.clientInitial.cryptoFrame));
    const header = hex(v.clientInitial.unprotectedHeader);
    const pnOffset = header.length - 4;
    const packet = protectPacket(keys, header.slice(), pnOffset, 4, v.clientInitial.packetNumber, frames, true);
    assert.equal(toHex(packet), v.clientInitial.protected);
  });

  it('unprotects the published packet (as the server would)', () => {
    const keys = initialKeys(hex(v.dcid)).client;
    const datagram = hex(v.clientInitial.protected);
    const h = parseHeader(datagram, 0, 8);
    assert.equal(h.form, 'long');
    const opened = unprotectPacket(
      datagram,
      h as { start: number; end: number; pnOffset: number; form: string },
      keys,
      -1,
      () => keys,
    );
    assert.ok(opened);
    assert.equal(opened.pn, 2);
    assert.equal(
      toHex(opened.payload.subarray(0, v.clientInitial.cryptoFrame.length / 2)),
      v.clientInitial.cryptoFrame,
    );
  });
});

describe('RFC 9001 Appendix A.3 server Initial', () => {
  it('protects the ACK + CRYPTO payload with a 2-byte packet number', () => {
    const keys = initialKeys(hex(v.dcid)).server;
    const header = hex(v.serverInitial.unprotectedHeader);
    const packet = protectPacket(
      keys,
      header.slice(),
      header.length - 2,
      2,
      v.serverInitial.packetNumber,
      hex(v.serverInitial.payload),
      true,
    );
    assert.equal(toHex(packet), v.serverInitial.protected);
  });

  it('rejects the packet under the wrong keys and after a bit flip', () => {
    const keys = initialKeys(hex(v.dcid));
    const datagram = hex(v.serverInitial.protected);
    const h = parseHeader(datagram, 0, 8) as { start: number; end: number; pnOffset: number; form: string };
    assert.equal(
      unprotectPacket(datagram, h, keys.client, -1, () => keys.client),
      null,
    );
    datagram[30]! ^= 1;
    assert.equal(
      unprotectPacket(datagram, h, keys.server, -1, () => keys.server),
      null,
    );
  });
});

describe('RFC 9001 Appendix A.4 Retry', () => {
  it('computes the Retry integrity tag over the pseudo-packet', () => {
    const packet = hex(v.retry.packet);
    const tag = retryIntegrityTag(hex(v.retry.originalDcid), packet.subarray(0, packet.length - 16));
    assert.equal(toHex(tag), toHex(packet.subarray(packet.length - 16)));
    const h = parseHeader(packet, 0, 8);
    assert.ok(h.form === 'long' && h.type === 'retry');
    assert.equal(Buffer.from(h.token).toString(), 'token');
  });
});

describe('RFC 9001 Appendix A.5 ChaCha20-Poly1305 short header', () => {
  const suite = { hash: 'sha256' as const, aead: 'chacha20-poly1305' as const, keyLength: 32 };
  it('derives key, iv, hp and the key-update secret', () => {
    const keys = derivePacketKeys(suite, hex(v.chacha.secret));
    assert.equal(toHex(keys.key), v.chacha.key);
    assert.equal(toHex(keys.iv), v.chacha.iv);
    assert.equal(toHex(keys.hpKey), v.chacha.hp);
    assert.equal(toHex(nextPhaseKeys(keys).secret), v.chacha.ku);
  });

  it('computes the ChaCha20 header mask and the published 21-byte packet', () => {
    const keys = derivePacketKeys(suite, hex(v.chacha.secret));
    assert.equal(toHex(headerMask(keys, hex(v.chacha.sample))), 'aefefe7d03');
    const header = hex(v.chacha.unprotectedHeader);
    const packet = protectPacket(keys, header.slice(), 1, 3, v.chacha.packetNumber, hex(v.chacha.payload), false);
    assert.equal(toHex(packet), v.chacha.protected);
    const opened = unprotectPacket(
      packet,
      { start: 0, end: packet.length, pnOffset: 1, form: 'short' },
      keys,
      654360563,
      () => keys,
    );
    assert.ok(opened);
    assert.equal(opened.pn, v.chacha.packetNumber);
    assert.equal(toHex(opened.payload), '01');
  });
});
