import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../../app/storage/storage.ts';
import type { RosterItemInput } from '../../../app/storage/storage.ts';
import { setup } from './memoryStorage.ts';

const item = (jid: string, over: Partial<RosterItemInput> = {}): RosterItemInput => ({
  jid,
  name: null,
  subscription: 'both',
  ask: false,
  groups: [],
  ...over,
});

test('replaceRoster stores the items with presence null, ordered by name, and the version', (t) => {
  const { s, id } = setup(t);
  s.replaceRoster(
    id,
    [
      item('Zed@example.org', { name: 'Zed', groups: ['Work', 'Work', 'Friends'] }),
      item('bob@example.org', { name: 'bob', subscription: 'to', ask: true }),
      item('carol@example.org', { subscription: 'none' }),
    ],
    'ver-1',
  );
  assert.deepEqual(s.listRoster(id), [
    { jid: 'bob@example.org', name: 'bob', subscription: 'to', ask: true, groups: [], presence: null },
    { jid: 'carol@example.org', name: null, subscription: 'none', ask: false, groups: [], presence: null },
    {
      jid: 'zed@example.org',
      name: 'Zed',
      subscription: 'both',
      ask: false,
      groups: ['Work', 'Friends'],
      presence: null,
    },
  ]);
  assert.equal(s.rosterVersion(id), 'ver-1');
  assert.equal(s.getAccount(id)?.rosterVer, 'ver-1');
});

test('replaceRoster drops items that are no longer in the result', (t) => {
  const { s, id } = setup(t);
  s.replaceRoster(id, [item('bob@example.org'), item('carol@example.org')], 'v1');
  s.replaceRoster(id, [item('carol@example.org', { name: 'Carol' })], null);
  assert.deepEqual(
    s.listRoster(id).map((r) => [r.jid, r.name]),
    [['carol@example.org', 'Carol']],
  );
  assert.equal(s.rosterVersion(id), null);
});

test('upsertRosterItem adds, updates, and deletes on subscription remove, tracking the push version', (t) => {
  const { s, id } = setup(t);
  s.upsertRosterItem(id, item('bob@example.org', { subscription: 'none', ask: true }), 'v2');
  s.upsertRosterItem(id, item('bob@example.org', { name: 'Bob', subscription: 'to' }), 'v3');
  assert.deepEqual(s.listRoster(id), [
    { jid: 'bob@example.org', name: 'Bob', subscription: 'to', ask: false, groups: [], presence: null },
  ]);
  assert.equal(s.rosterVersion(id), 'v3');
  s.upsertRosterItem(id, item('bob@example.org'));
  assert.equal(s.rosterVersion(id), 'v3', 'undefined ver leaves the version alone');
  s.upsertRosterItem(id, item('Bob@example.org', { subscription: 'remove' }), 'v4');
  assert.deepEqual(s.listRoster(id), []);
  assert.equal(s.rosterVersion(id), 'v4');
});

test('roster writes for an unknown account fail with account-not-found', (t) => {
  const { s } = setup(t);
  const notFound = (e: unknown) => e instanceof StorageError && e.code === 'account-not-found';
  assert.throws(() => s.replaceRoster('nope', [item('bob@example.org')], null), notFound);
  assert.throws(() => s.upsertRosterItem('nope', item('bob@example.org')), notFound);
});
