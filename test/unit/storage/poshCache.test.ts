import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage/storage.ts';
import type { PoshCacheEntry } from '../../../app/security/posh.ts';

const ANCHORS_A = 'a'.repeat(64);
const ANCHORS_B = 'b'.repeat(64);

const OK: PoshCacheEntry = {
  domain: 'alpha.test',
  anchorSet: ANCHORS_A,
  url: 'https://hosting.example.net/posh/alpha.json',
  delegatedFrom: 'https://alpha.test/.well-known/posh/xmpp-client.json',
  fingerprints: [{ 'sha-256': 'AAAA' }, { 'sha-512': 'BBBB' }],
  error: null,
  fetchedAt: 1000,
  expiresAt: 61_000,
};

test('an entry round-trips, keyed by domain in any spelling, and is replaced', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  assert.equal(storage.getPoshEntry('alpha.test', ANCHORS_A), null);
  storage.putPoshEntry({ ...OK, domain: 'Alpha.Test.' });
  assert.deepEqual(storage.getPoshEntry('ALPHA.test', ANCHORS_A), OK);
  const failure: PoshCacheEntry = {
    domain: 'alpha.test',
    anchorSet: ANCHORS_A,
    url: null,
    delegatedFrom: null,
    fingerprints: null,
    error: 'https://alpha.test/... answered HTTP 500.',
    fetchedAt: 2000,
    expiresAt: 62_000,
  };
  storage.putPoshEntry(failure);
  assert.deepEqual(storage.getPoshEntry('alpha.test', ANCHORS_A), failure);
});

test("entries are kept per trust-anchor set: one set never reads another's, success or failure", (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  storage.putPoshEntry(OK);
  assert.equal(storage.getPoshEntry('alpha.test', ANCHORS_B), null);
  const failureB: PoshCacheEntry = {
    ...OK,
    anchorSet: ANCHORS_B,
    url: null,
    delegatedFrom: null,
    fingerprints: null,
    error: 'certificate not trusted',
  };
  storage.putPoshEntry(failureB);
  assert.deepEqual(storage.getPoshEntry('alpha.test', ANCHORS_B), failureB);
  assert.deepEqual(storage.getPoshEntry('alpha.test', ANCHORS_A), OK);
  assert.throws(() => storage.putPoshEntry({ ...OK, anchorSet: 'not-a-hash' }), /CHECK constraint failed/);
});

test('exactly one of fingerprints and error; prune forgets expired entries', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  assert.throws(() => storage.putPoshEntry({ ...OK, error: 'both' }), /CHECK constraint failed/);
  assert.throws(() => storage.putPoshEntry({ ...OK, fingerprints: null }), /CHECK constraint failed/);
  storage.putPoshEntry(OK);
  storage.putPoshEntry({ ...OK, domain: 'beta.test', expiresAt: 100_000 });
  assert.equal(storage.prunePoshCache(61_000), 1);
  assert.equal(storage.getPoshEntry('alpha.test', ANCHORS_A), null);
  assert.notEqual(storage.getPoshEntry('beta.test', ANCHORS_A), null);
});
