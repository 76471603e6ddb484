import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage } from '../../../app/storage/storage.ts';
import type { FastToken } from '../../../app/storage/storage.ts';

const token = (over: Partial<FastToken> = {}): FastToken => ({
  mechanism: 'HT-SHA-256-NONE',
  token: 'secret-token',
  expiry: 10_000,
  savedAt: 1000,
  ...over,
});

test('a FAST token loads until it expires; an expired one loads as null and is deleted', (t) => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  assert.equal(s.loadFastToken(a, 1000), null);
  s.saveFastToken(a, token(), 1000);
  assert.deepEqual(s.loadFastToken(a, 9_999), token());
  const count = () => db.prepare('SELECT count(*) FROM fast_tokens').pluck().get();
  assert.equal(count(), 1);
  assert.equal(s.loadFastToken(a, 10_000), null, 'expired at its expiry');
  assert.equal(count(), 0, 'the expired token is deleted');
});

test('a new token replaces the old one; an already expired one is not stored and drops the old one', (t) => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  s.saveFastToken(a, token(), 1000);
  s.saveFastToken(a, token({ token: 'rotated', expiry: 20_000 }), 2000);
  assert.equal(s.loadFastToken(a, 2000)?.token, 'rotated');
  s.saveFastToken(a, token({ token: 'stale', expiry: 500 }), 2000);
  assert.equal(s.loadFastToken(a, 2000), null);
});

test('clearFastToken forgets it, and removing the account removes it', (t) => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  const b = s.addAccount({ jid: 'alice@example.net' }).id;
  s.saveFastToken(a, token(), 1000);
  s.saveFastToken(b, token(), 1000);
  s.clearFastToken(a);
  assert.equal(s.loadFastToken(a, 1000), null);
  assert.ok(s.loadFastToken(b, 1000));
  s.removeAccount(b);
  assert.equal(db.prepare('SELECT count(*) FROM fast_tokens').pluck().get(), 0);
});
