/**
 * Default account labels through the assembled core (no network: the accounts are disabled): they
 * tell accounts on the same domain apart, follow when an account is removed (account.changed, and
 * conversation.changed for a removed account's kept conversations), and `label: null` in
 * account.update goes back to the default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountView } from '../../../app/contract/index.ts';
import { dispatch } from '../../../app/contract/index.ts';
import { openOfflineCore } from '../../support/offlineCore.ts';

function setup(t: { after(fn: () => Promise<void> | void): void }) {
  return openOfflineCore(t, (profile) => {
    const alice = profile.addAccount({ jid: 'alice@work.test', enabled: false }).id;
    const bob = profile.addAccount({ jid: 'bob@work.test', enabled: false }).id;
    const home = profile.addAccount({ jid: 'alice@home.test', enabled: false }).id;
    profile.insertMessage({
      accountId: alice,
      peer: 'carol@work.test',
      direction: 'in',
      body: 'lunch?',
      stanzaId: null,
      at: 10,
      state: 'received',
    });
    return { alice, bob, home };
  });
}

/** Waits (bounded) until `found` holds: conversation changes are sent at the end of a batch. */
async function until(found: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !found(); i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(found(), 'the expected event never came');
}

test('accounts on the same domain get their bare JIDs, others their domain', async (t) => {
  const { core } = await setup(t);
  // Review: two accounts on the same server both read 'alpha.test': colour was the only cue.
  assert.deepEqual(
    (await core.handlers['account.list']({})).map((v) => [v.jid, v.label]),
    [
      ['alice@work.test', 'alice@work.test'],
      ['bob@work.test', 'bob@work.test'],
      ['alice@home.test', 'home.test'],
    ],
  );
});

test('removing an account re-announces those whose default label changed, and a removed one keeps the rule', async (t) => {
  const { core, alice, bob, home, events } = await setup(t);
  const h = core.handlers;
  await h['account.remove']({ accountId: alice, keepHistory: true });
  const changed = () =>
    events.flatMap((e) => (e.name === 'account.changed' ? [[e.payload.account.id, e.payload.account.label]] : []));
  assert.deepEqual(changed(), [[bob, 'work.test']]);
  const kept = (await h['conversation.list']({})).find((c) => c.accountId === alice);
  // bob@work.test is listed: the removed alice@work.test is told apart from it.
  assert.equal(kept?.removedAccount?.label, 'alice@work.test');

  events.length = 0;
  await h['account.remove']({ accountId: bob });
  assert.deepEqual(changed(), [], `${home} keeps 'home.test'`);
  // The removed alice@work.test is now alone on work.test: its conversations are announced again.
  await until(() =>
    events.some(
      (e) =>
        e.name === 'conversation.changed' &&
        e.payload.conversation.accountId === alice &&
        e.payload.conversation.removedAccount?.label === 'work.test',
    ),
  );
});

test("account.update with label null goes back to the default; '' is still refused", async (t) => {
  const { core, alice } = await setup(t);
  const h = core.handlers;
  assert.equal((await h['account.update']({ accountId: alice, label: 'Work' })).label, 'Work');
  const reset = await dispatch(h, 'account.update', { accountId: alice, label: null });
  assert.equal(reset.ok && (reset.value as AccountView).label, 'alice@work.test');
  const empty = await dispatch(h, 'account.update', { accountId: alice, label: '' });
  assert.equal(empty.ok, false);
});
