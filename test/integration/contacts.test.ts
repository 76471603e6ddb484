/**
 * Contacts against the lab's Prosody (issue 13): remove and add a contact, the subscription request
 * that follows and its mutual approval, a XEP-0191 block and unblock (mod_blocklist is in the lab's
 * modules on 0.12 and 13), and the own presence another account sees. Alice and Bob start with a
 * mutual subscription (the lab's rosters) and end with one again.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import { labFromEnv } from '../support/lab.ts';
import { addOnlineLabAccount } from '../support/labAccounts.ts';
import { nextEvent } from '../support/events.ts';

const lab = labFromEnv();
let dataDir: string;
let core: QuiverCore;
let alice = '';
let bob = '';

const addOnline = (jid: string): Promise<string> => addOnlineLabAccount(core, lab, jid);

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quiver-contacts-'));
  core = await createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });
  const aliceCanBlock = nextEvent(
    core,
    'account.changed',
    (p) => p.account.jid === 'alice@alpha.test' && p.account.canBlock,
  );
  alice = await addOnline('alice@alpha.test');
  bob = await addOnline('bob@alpha.test');
  await aliceCanBlock;
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('remove, then add: Bob is asked, approves (and asks back), Alice approves: mutual again', async () => {
  const gone = nextEvent(
    core,
    'roster.changed',
    (p) => p.accountId === alice && !p.items.some((i) => i.jid === 'bob@alpha.test'),
  );
  await core.handlers['contact.remove']({ accountId: alice, jid: 'bob@alpha.test' });
  await gone;

  const asked = nextEvent(
    core,
    'subscription.requested',
    (p) => p.request.accountId === bob && p.request.jid === 'alice@alpha.test',
  );
  await core.handlers['contact.add']({ accountId: alice, jid: 'bob@alpha.test', name: 'Bob' });
  await asked;
  assert.ok((await core.handlers['subscription.pending']({})).some((r) => r.accountId === bob));

  const askedBack = nextEvent(
    core,
    'subscription.requested',
    (p) => p.request.accountId === alice && p.request.jid === 'bob@alpha.test',
  );
  await core.handlers['subscription.answer']({ accountId: bob, jid: 'alice@alpha.test', approve: true });
  await askedBack;
  const mutual = nextEvent(
    core,
    'roster.changed',
    (p) => p.accountId === alice && p.items.some((i) => i.jid === 'bob@alpha.test' && i.subscription === 'both'),
  );
  await core.handlers['subscription.answer']({ accountId: alice, jid: 'bob@alpha.test', approve: true });
  await mutual;
  assert.deepEqual(await core.handlers['subscription.pending']({}), []);
});

test('XEP-0191: Alice blocks Bob, the block list says so, and unblocks him', async () => {
  const blocked = nextEvent(core, 'block.changed', (p) => p.accountId === alice && p.jids.includes('bob@alpha.test'));
  await core.handlers['contact.block']({ accountId: alice, jid: 'bob@alpha.test', blocked: true });
  await blocked;
  assert.deepEqual(await core.handlers['block.list']({ accountId: alice }), ['bob@alpha.test']);
  const unblocked = nextEvent(
    core,
    'block.changed',
    (p) => p.accountId === alice && !p.jids.includes('bob@alpha.test'),
  );
  await core.handlers['contact.block']({ accountId: alice, jid: 'bob@alpha.test', blocked: false });
  await unblocked;
});

test('Alice goes away with a status; Bob sees it', async () => {
  const seen = nextEvent(
    core,
    'presence.changed',
    (p) => p.accountId === bob && p.jid === 'alice@alpha.test' && p.presence?.show === 'away',
  );
  await core.handlers['presence.set']({ accountId: alice, show: 'away', status: 'at lunch' });
  const { presence } = await seen;
  assert.equal(presence?.status, 'at lunch');
  const [view] = (await core.handlers['account.list']({})).filter((a) => a.id === alice);
  assert.deepEqual(view?.presence, { show: 'away', status: 'at lunch' });
});
