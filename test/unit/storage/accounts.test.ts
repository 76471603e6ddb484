import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage, StorageError } from '../../../app/storage/storage.ts';
import type { Storage } from '../../../app/storage/storage.ts';
import { verdict } from '../../support/verdicts.ts';

function storage(t: { after(fn: () => void): void }): Storage {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  return s;
}

const hasCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

test('addAccount normalizes the JID, applies default settings and appends to the order', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'Alice@Example.ORG', now: 1000 });
  assert.match(a.id, /^[A-Za-z0-9_.:-]+$/); // what the contract's id validator accepts
  assert.deepEqual(
    { ...a, id: '' },
    {
      id: '',
      jid: 'alice@example.org',
      enabled: true,
      settings: { resolver: null, resolverValidates: false, extraCaPem: null, transport: 'auto' },
      rosterVer: null,
      createdAt: 1000,
      sortOrder: 0,
      label: null,
      color: '#2f6fdf',
      removedAt: null,
    },
  );
  const b = s.addAccount({
    jid: 'bob@example.net',
    settings: { transport: 'quic', resolver: '127.0.0.1:5353' },
    enabled: false,
  });
  assert.equal(b.sortOrder, 1);
  assert.equal(b.enabled, false);
  assert.deepEqual(b.settings, {
    resolver: '127.0.0.1:5353',
    resolverValidates: false,
    extraCaPem: null,
    transport: 'quic',
  });
  assert.deepEqual(
    s.listAccounts().map((x) => x.jid),
    ['alice@example.org', 'bob@example.net'],
  );
});

test('adding the same JID twice fails with account-exists and a readable message', (t) => {
  const s = storage(t);
  s.addAccount({ jid: 'alice@example.org' });
  assert.throws(
    () => s.addAccount({ jid: 'ALICE@example.org/laptop' }),
    (e: unknown) =>
      hasCode('account-exists')(e) && (e as Error).message === 'An account for alice@example.org already exists.',
  );
  assert.equal(s.listAccounts().length, 1);
});

test('an address without a domain is refused with invalid-jid', (t) => {
  const s = storage(t);
  assert.throws(() => s.addAccount({ jid: 'alice@' }), hasCode('invalid-jid'));
  assert.throws(() => s.addAccount({ jid: '  ' }), hasCode('invalid-jid'));
});

test('getAccount and getAccountByJid find the account; unknown ones are null', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'alice@example.org' });
  assert.deepEqual(s.getAccount(a.id), a);
  assert.deepEqual(s.getAccountByJid('Alice@example.org/phone'), a);
  assert.equal(s.getAccount('nope'), null);
  assert.equal(s.getAccountByJid('carol@example.org'), null);
});

test('updateAccountSettings changes only the given settings', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'alice@example.org', settings: { resolver: '127.0.0.1:53' } });
  const u = s.updateAccountSettings(a.id, { transport: 'starttls', extraCaPem: '-----BEGIN CERTIFICATE-----' });
  assert.deepEqual(u.settings, {
    resolver: '127.0.0.1:53',
    resolverValidates: false,
    extraCaPem: '-----BEGIN CERTIFICATE-----',
    transport: 'starttls',
  });
  assert.deepEqual(s.updateAccountSettings(a.id, { resolver: undefined, transport: undefined }).settings, u.settings);
  assert.deepEqual(s.updateAccountSettings(a.id, { resolver: null }).settings.resolver, null);
  assert.throws(() => s.updateAccountSettings('nope', {}), hasCode('account-not-found'));
});

test('setAccountEnabled toggles and reports a missing account', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'alice@example.org' });
  assert.equal(s.setAccountEnabled(a.id, false).enabled, false);
  assert.equal(s.getAccount(a.id)?.enabled, false);
  assert.equal(s.setAccountEnabled(a.id, true).enabled, true);
  assert.throws(() => s.setAccountEnabled('nope', true), hasCode('account-not-found'));
});

test('the password blob round-trips as bytes and can be cleared', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'alice@example.org' });
  assert.equal(s.getPasswordBlob(a.id), null);
  const blob = new Uint8Array([0x76, 0x31, 0x30, 0x00, 0xff, 0x10]);
  s.setPasswordBlob(a.id, blob.subarray(1, 5));
  assert.deepEqual(s.getPasswordBlob(a.id), new Uint8Array([0x31, 0x30, 0x00, 0xff]));
  s.setPasswordBlob(a.id, null);
  assert.equal(s.getPasswordBlob(a.id), null);
  assert.throws(() => s.setPasswordBlob('nope', blob), hasCode('account-not-found'));
  assert.throws(() => s.getPasswordBlob('nope'), hasCode('account-not-found'));
});

test('removeAccount cascades to roster and messages and detaches connection records', (t) => {
  const s = storage(t);
  const a = s.addAccount({ jid: 'alice@example.org' });
  const b = s.addAccount({ jid: 'bob@example.org' });
  for (const id of [a.id, b.id]) {
    s.replaceRoster(id, [{ jid: 'carol@example.org', name: null, subscription: 'both', ask: false, groups: [] }], 'v1');
    s.insertMessage({
      accountId: id,
      peer: 'carol@example.org',
      direction: 'in',
      body: 'x',
      stanzaId: 'm',
      at: 1,
      state: 'received',
    });
  }
  s.insertConnection({
    id: 'c1',
    accountId: a.id,
    jid: a.jid,
    transport: 'tls',
    host: 'h',
    port: 5223,
    srv: null,
    source: 'default',
    dnssec: 'insecure',
    tlsVersion: null,
    cipher: null,
    alpn: null,
    sni: 'example.org',
    certificates: [],
    verification: verdict(),
    saslMechanism: null,
    channelBinding: null,
    boundJid: null,
    startedAt: 1,
    endedAt: null,
    endReason: null,
    quicConnectionId: null,
    quicStreamId: null,
    quic: null,
    fallback: null,
    pathEvents: [],
  });

  s.removeAccount(a.id);
  assert.equal(s.getAccount(a.id), null);
  assert.deepEqual(s.listRoster(a.id), []);
  assert.deepEqual(s.conversations(a.id), []);
  assert.equal(s.getConnection('c1')?.accountId, null);
  // The other account is untouched.
  assert.equal(s.listRoster(b.id).length, 1);
  assert.equal(s.conversations(b.id).length, 1);
  assert.throws(() => s.removeAccount(a.id), hasCode('account-not-found'));
});
