import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayRefuse } from '../../../app/core/mayRefuse.ts';

const ACCOUNT = 'alice@example.org';

test('the recipient, its server and our own server may fail our message', () => {
  assert.equal(mayRefuse('bob@example.net/phone', 'bob@example.net', ACCOUNT), true);
  assert.equal(mayRefuse('Bob@Example.NET', 'bob@example.net', ACCOUNT), true);
  assert.equal(mayRefuse('example.net', 'bob@example.net', ACCOUNT), true);
  assert.equal(mayRefuse(null, 'bob@example.net', ACCOUNT), true);
  assert.equal(mayRefuse('example.org', 'bob@example.net', ACCOUNT), true);
  assert.equal(mayRefuse('alice@example.org', 'bob@example.net', ACCOUNT), true);
});

test('anyone else naming the id may not', () => {
  assert.equal(mayRefuse('mallory@example.net', 'bob@example.net', ACCOUNT), false);
  assert.equal(mayRefuse('evil.example', 'bob@example.net', ACCOUNT), false);
  assert.equal(mayRefuse('bob@example.net.evil.example', 'bob@example.net', ACCOUNT), false);
  assert.equal(mayRefuse('not a jid', 'bob@example.net', ACCOUNT), false);
});
