/**
 * The core's conversation, search and account-order commands through the assembled core (no
 * network: the accounts are disabled, so no session starts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch } from '../../../app/contract/index.ts';
import { openOfflineCore } from '../../support/offlineCore.ts';

function setup(t: { after(fn: () => Promise<void> | void): void }) {
  return openOfflineCore(t, (profile) => {
    const a = profile.addAccount({ jid: 'alice@work.test', enabled: false }).id;
    const b = profile.addAccount({ jid: 'alice@home.test', enabled: false }).id;
    profile.insertMessage({
      accountId: a,
      peer: 'bob@work.test',
      direction: 'in',
      body: 'lunch?',
      stanzaId: null,
      at: 10,
      state: 'received',
    });
    profile.insertMessage({
      accountId: b,
      peer: 'mum@home.test',
      direction: 'in',
      body: 'call me',
      stanzaId: null,
      at: 20,
      state: 'received',
    });
    return { a, b };
  });
}

test('conversation commands list, start, mark read and keep drafts, each announcing the change', async (t) => {
  const { core, a, b, events } = await setup(t);
  const h = core.handlers;
  assert.deepEqual(
    (await h['conversation.list']({})).map((c) => [c.accountId, c.peer, c.unread]),
    [
      [b, 'mum@home.test', 1],
      [a, 'bob@work.test', 1],
    ],
  );
  await h['conversation.markRead']({ accountId: b, peer: 'mum@home.test' });
  await h['conversation.setDraft']({ accountId: a, peer: 'bob@work.test', draft: 'yes at' });
  const started = await h['conversation.start']({ accountId: a, peer: 'carol@work.test' });
  // Not in the roster, but the person started it: no stranger (issue 13: strangers' FIRST messages).
  assert.equal(started.stranger, false);
  const changed = events.flatMap((e) => (e.name === 'conversation.changed' ? [e.payload.conversation] : []));
  assert.deepEqual(
    changed.map((c) => [c.peer, c.unread, c.draft]),
    [
      ['mum@home.test', 0, ''],
      ['bob@work.test', 1, 'yes at'],
      ['carol@work.test', 0, ''],
    ],
  );
  const found = await h['search.run']({ query: 'lunch' });
  assert.deepEqual(
    found.messages.map((m) => m.snippet),
    ['\u0002lunch\u0003?'],
  );
  assert.equal((await h['chat.list']({ accountId: a })).length, 2);
});

test('account.reorder refuses anything but a permutation with invalid-order', async (t) => {
  const { core, a, b } = await setup(t);
  assert.deepEqual(
    (await core.handlers['account.reorder']({ accountIds: [b, a] })).map((v) => [v.id, v.order]),
    [
      [b, 0],
      [a, 1],
    ],
  );
  const refused = await dispatch(core.handlers, 'account.reorder', { accountIds: [b] });
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.error.code, 'invalid-order');
});

test('account.remove keeps the history when asked, else removes each conversation', async (t) => {
  const { core, a, b, events } = await setup(t);
  const h = core.handlers;
  await h['account.update']({ accountId: a, label: 'Work', color: '#000000' });
  assert.equal((await h['account.list']({})).find((v) => v.id === a)?.label, 'Work');
  await h['account.remove']({ accountId: a, keepHistory: true });
  assert.deepEqual(
    (await h['account.list']({})).map((v) => v.id),
    [b],
  );
  const kept = (await h['conversation.list']({})).find((c) => c.accountId === a);
  assert.deepEqual(kept?.removedAccount, { jid: 'alice@work.test', label: 'Work', color: '#000000' });
  const again = await dispatch(h, 'account.setEnabled', { accountId: a, enabled: true });
  assert.equal(!again.ok && again.error.code, 'account-not-found');

  await h['account.remove']({ accountId: b });
  assert.ok(events.some((e) => e.name === 'conversation.removed' && e.payload.accountId === b));
  assert.ok(events.some((e) => e.name === 'account.removed' && e.payload.accountId === b));
  assert.deepEqual(
    (await h['conversation.list']({})).map((c) => c.accountId),
    [a],
  );
});
