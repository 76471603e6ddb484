/**
 * Accounts in issue 13: a label and colour, the person's order, and removal with or without the
 * account's history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage, StorageError } from '../../../app/storage/storage.ts';
import type { Storage } from '../../../app/storage/storage.ts';

function storage(t: { after(fn: () => void): void }): Storage {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  return s;
}

const hasCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

test('reorder accepts only a permutation of every listed account', (t) => {
  const s = storage(t);
  const [a, b, c] = ['a@x.test', 'b@x.test', 'c@x.test'].map((jid) => s.addAccount({ jid }).id) as [
    string,
    string,
    string,
  ];
  assert.deepEqual(
    s.reorderAccounts([c, a, b]).map((r) => [r.id, r.sortOrder]),
    [
      [c, 0],
      [a, 1],
      [b, 2],
    ],
  );
  for (const bad of [[a, b], [a, b, c, a], [a, b, b], [a, b, 'other'], []]) {
    assert.throws(() => s.reorderAccounts(bad), hasCode('invalid-order'), JSON.stringify(bad));
  }
  assert.deepEqual(
    s.listAccounts().map((r) => r.id),
    [c, a, b],
    'a refused order changes nothing',
  );
});

test('colours rotate by accounts ever created; label and colour can be set and the label cleared', (t) => {
  const s = storage(t);
  const first = s.addAccount({ jid: 'a@x.test', label: 'Work' });
  assert.deepEqual([first.label, first.color], ['Work', '#2f6fdf']);
  s.removeAccount(first.id);
  // Removing does not give the colour back: the next account gets the second one.
  const second = s.addAccount({ jid: 'b@x.test', color: '#123456' });
  assert.equal(second.color, '#123456');
  assert.equal(s.addAccount({ jid: 'c@x.test' }).color, '#15803d');
  assert.deepEqual(
    [s.updateAccountLook(second.id, { label: 'Home' }).label, s.getAccount(second.id)?.color],
    ['Home', '#123456'],
  );
  assert.equal(s.updateAccountLook(second.id, { label: null }).label, null);
});

test('removing without history deletes the account, its conversations and messages', (t) => {
  const s = storage(t);
  const id = s.addAccount({ jid: 'a@x.test' }).id;
  s.insertMessage({
    accountId: id,
    peer: 'bob@x.test',
    direction: 'in',
    body: 'hi',
    stanzaId: null,
    at: 1,
    state: 'received',
  });
  s.removeAccount(id, false);
  assert.equal(s.getAccount(id), null);
  assert.deepEqual(s.listConversations(), []);
  assert.deepEqual(s.search('hi').messages, []);
});

test('removing with history keeps conversations and messages, forgets secrets, and hides the account', (t) => {
  const s = storage(t);
  const id = s.addAccount({ jid: 'a@x.test', passwordBlob: new Uint8Array([1, 2, 3]), label: 'Old job' }).id;
  const other = s.addAccount({ jid: 'b@x.test' }).id;
  s.insertMessage({
    accountId: id,
    peer: 'bob@x.test',
    direction: 'in',
    body: 'keep me',
    stanzaId: null,
    at: 1,
    state: 'received',
  });
  s.upsertRosterItem(id, { jid: 'bob@x.test', name: 'Bob', subscription: 'both', ask: false, groups: [] });
  s.addPin(id, 'x.test', 'ab'.repeat(32), null, 1);
  s.removeAccount(id, true, 5000);
  const row = s.getAccount(id);
  assert.deepEqual([row?.removedAt, row?.enabled], [5000, false]);
  assert.equal(s.getPasswordBlob(id), null);
  assert.deepEqual(s.listPins(id), []);
  assert.deepEqual(s.listRoster(id), []);
  assert.deepEqual(
    s.listAccounts().map((a) => a.id),
    [other],
  );
  const [c] = s.listConversations();
  assert.deepEqual(c?.removedAccount, { jid: 'a@x.test', label: 'Old job', color: '#2f6fdf' });
  assert.equal(c?.lastMessage?.body, 'keep me');
  assert.equal(s.search('keep').messages.length, 1);
  assert.throws(() => s.removeAccount(id, true), hasCode('account-not-found'));
  assert.throws(() => s.startConversation(id, 'carol@x.test', 9), hasCode('account-not-found'));
  // The reorder ignores it.
  assert.equal(s.reorderAccounts([other]).length, 1);
  // Adding the JID again brings its history back under the new account.
  const again = s.addAccount({ jid: 'a@x.test' });
  assert.notEqual(again.id, id);
  assert.equal(s.getAccount(id), null);
  assert.deepEqual(
    s.listConversations().map((v) => [v.accountId, v.peer, v.removedAccount]),
    [[again.id, 'bob@x.test', undefined]],
  );
  assert.equal(s.history(again.id, 'bob@x.test').length, 1);
});
