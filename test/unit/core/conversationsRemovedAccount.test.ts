/**
 * Review: the conversations of an account removed with its history stay listed (issue 13: remove
 * "with or without its history"), so the person must still be able to read them, unread included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch } from '../../../app/contract/index.ts';
import { openOfflineCore } from '../../support/offlineCore.ts';

test('an unread conversation of an account removed with its history can be marked read', async (t) => {
  const { core, a } = await openOfflineCore(t, (profile) => {
    const a = profile.addAccount({ jid: 'alice@work.test', enabled: false }).id;
    profile.insertMessage({
      accountId: a,
      peer: 'bob@work.test',
      direction: 'in',
      body: 'unread when the account went',
      stanzaId: null,
      at: 10,
      state: 'received',
    });
    return { a };
  });
  const h = core.handlers;
  await h['account.remove']({ accountId: a, keepHistory: true });
  assert.equal((await h['conversation.list']({}))[0]?.unread, 1);
  const read = await dispatch(h, 'conversation.markRead', { accountId: a, peer: 'bob@work.test' });
  assert.deepEqual(read, { ok: true, value: null });
  assert.equal((await h['conversation.list']({}))[0]?.unread, 0);
  // Nothing else may be done with it: no drafts, no new conversations.
  const draft = await dispatch(h, 'conversation.setDraft', { accountId: a, peer: 'bob@work.test', draft: 'x' });
  assert.equal(!draft.ok && draft.error.code, 'account-not-found');
  // An account that never existed is still refused.
  const none = await dispatch(h, 'conversation.markRead', { accountId: 'nope', peer: 'bob@work.test' });
  assert.equal(!none.ok && none.error.code, 'account-not-found');
});
