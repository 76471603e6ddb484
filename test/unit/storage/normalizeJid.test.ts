import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeBareJid } from '../../../app/storage/normalizeJid.ts';
import { StorageError } from '../../../app/storage/storageError.ts';

test('normalizeBareJid lowercases, drops the resource and a trailing dot', () => {
  assert.equal(normalizeBareJid('Alice@Example.ORG'), 'alice@example.org');
  assert.equal(normalizeBareJid(' alice@example.org/Phone '), 'alice@example.org');
  assert.equal(normalizeBareJid('alice@example.org./x/y'), 'alice@example.org');
  assert.equal(normalizeBareJid('Conference.Example.org'), 'conference.example.org');
  assert.equal(normalizeBareJid('ÄLICE@example.org'), 'älice@example.org');
  // NFC: a decomposed "ä" becomes the composed one.
  assert.equal(normalizeBareJid('a\u0308@example.org'), '\u00e4@example.org');
});

test('normalizeBareJid refuses addresses without a usable domain or localpart', () => {
  for (const bad of ['', '@example.org', 'alice@', 'a b@example.org', '/res', 'a@b@c']) {
    assert.throws(
      () => normalizeBareJid(bad),
      (e: unknown) => e instanceof StorageError && e.code === 'invalid-jid',
      bad,
    );
  }
});

test('normalizeBareJid refuses what a server may send but RFC 7622 forbids: NUL, line breaks, oversized parts', () => {
  for (const bad of [
    'alice\u0000@example.org',
    'alice@example.org\u0000',
    'ali\nce@example.org',
    `${'a'.repeat(1024)}@example.org`,
  ]) {
    assert.throws(
      () => normalizeBareJid(bad),
      (e: unknown) => e instanceof StorageError && e.code === 'invalid-jid',
      JSON.stringify(bad.slice(0, 20)),
    );
  }
});
