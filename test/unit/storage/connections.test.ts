import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage, StorageError } from '../../../app/storage/storage.ts';
import { securityRecord } from './fixtures.ts';
import { setup } from './memoryStorage.ts';

test('insertConnection stores a SecurityRecord that reads back identical', (t) => {
  const { s, id } = setup(t);
  const record = securityRecord({ accountId: id });
  assert.deepEqual(s.insertConnection(record), record);
  assert.deepEqual(s.getConnection(record.id), record);
  assert.equal(s.getConnection('nope'), null);
});

test('a record without an account (the CLI) is allowed', (t) => {
  const { s } = setup(t);
  assert.equal(s.insertConnection(securityRecord({ accountId: null })).accountId, null);
});

test('updateConnection sets only the given fields', (t) => {
  const { s, id } = setup(t);
  const record = s.insertConnection(securityRecord({ accountId: id }));
  const after = s.updateConnection(record.id, {
    saslMechanism: 'SCRAM-SHA-256-PLUS',
    channelBinding: 'tls-exporter',
    boundJid: 'alice@example.org/quiver',
  });
  assert.deepEqual(after, {
    ...record,
    saslMechanism: 'SCRAM-SHA-256-PLUS',
    channelBinding: 'tls-exporter',
    boundJid: 'alice@example.org/quiver',
  });
  const verification = {
    ...record.verification,
    trusted: false,
    error: { code: 'bad-certificate', message: 'no proof' },
  };
  const ended = s.updateConnection(record.id, {
    endedAt: 1_700_000_060_000,
    endReason: 'connection reset',
    verification,
  });
  assert.equal(ended.endedAt, 1_700_000_060_000);
  assert.equal(ended.endReason, 'connection reset');
  assert.deepEqual(ended.verification, verification);
  assert.equal(ended.saslMechanism, 'SCRAM-SHA-256-PLUS');
  assert.deepEqual(s.updateConnection(record.id, {}), ended);
  const notFound = (e: unknown) => e instanceof StorageError && e.code === 'connection-not-found';
  assert.throws(() => s.updateConnection('nope', { endReason: 'x' }), notFound);
  assert.throws(() => s.updateConnection('nope', {}), notFound);
});

test("listConnections returns the account's records newest first, up to the limit", (t) => {
  const { s, id } = setup(t);
  const other = s.addAccount({ jid: 'bob@example.org' }).id;
  for (let i = 0; i < 5; i++) s.insertConnection(securityRecord({ id: `c${i}`, accountId: id, startedAt: 1000 + i }));
  s.insertConnection(securityRecord({ id: 'x', accountId: other, startedAt: 9999 }));
  assert.deepEqual(
    s.listConnections(id, 3).map((r) => r.id),
    ['c4', 'c3', 'c2'],
  );
  assert.equal(s.listConnections(id).length, 5);
});

test('saveConnection inserts once, then updates what a connection learns as it goes', () => {
  const s = openStorage(':memory:');
  const a = s.addAccount({ jid: 'alice@alpha.test' });
  const record = { ...securityRecord(), id: 'c-save', accountId: a.id, boundJid: null, endedAt: null, endReason: null };
  s.saveConnection(record);
  assert.equal(s.getConnection('c-save')?.boundJid, null);
  s.saveConnection({ ...record, boundJid: 'alice@alpha.test/r', endedAt: 9, endReason: 'closed' });
  const stored = s.getConnection('c-save');
  assert.equal(stored?.boundJid, 'alice@alpha.test/r');
  assert.equal(stored?.endReason, 'closed');
  assert.equal(s.listConnections(a.id).length, 1);
  s.close();
});
