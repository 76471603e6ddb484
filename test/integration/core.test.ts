/**
 * The assembled core (the same one Electron and the browser host run) against the lab's Prosody:
 * two accounts online at once, roster and presence, a chat between them, history that survives a
 * restart, and a wrong password shown in words.
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

const openCore = () => createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quiver-core-'));
  core = await openCore();
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const addOnline = (jid: string): Promise<string> => addOnlineLabAccount(core, lab, jid);

let alice = '';
let bob = '';

test('two accounts come online at once; the roster and the contact presence arrive', async () => {
  // Alice's view of Bob (Bob's own account also sees its own presence, which does not count).
  const bobPresence = nextEvent(
    core,
    'presence.changed',
    (p) => p.accountId === alice && p.jid === 'bob@alpha.test' && p.presence !== null,
  );
  alice = await addOnline('alice@alpha.test');
  bob = await addOnline('bob@alpha.test');
  const accounts = await core.handlers['account.list']({});
  assert.deepEqual(accounts.map((a) => [a.jid, a.status]).sort(), [
    ['alice@alpha.test', 'online'],
    ['bob@alpha.test', 'online'],
  ]);
  assert.ok(accounts.every((a) => a.boundJid?.includes('/')));
  await bobPresence;
  const roster = await core.handlers['roster.list']({ accountId: alice });
  const bobItem = roster.find((r) => r.jid === 'bob@alpha.test');
  assert.ok(bobItem, `bob in alice's roster: ${JSON.stringify(roster)}`);
  assert.equal(bobItem.subscription, 'both');
  assert.equal(bobItem.presence?.show, 'available');
});

test('a message from one account arrives at the other and is stored on both sides', async () => {
  const body = `core hello ${Date.now()}`;
  // Only this message: the first login's archive catch-up may add older ones.
  const arrived = nextEvent(
    core,
    'message.added',
    (p) => p.message.accountId === bob && p.message.direction === 'in' && p.message.body === body,
  );
  const sentUpdate = nextEvent(
    core,
    'message.updated',
    (p) => p.message.accountId === alice && p.message.state === 'sent',
  );
  const sent = await core.handlers['chat.send']({ accountId: alice, to: 'bob@alpha.test', body });
  assert.equal(sent.direction, 'out');
  const { message } = await arrived;
  assert.equal(message.body, body);
  assert.equal(message.peer, 'alice@alpha.test');
  assert.equal(message.stanzaId, sent.stanzaId, 'the stanza id travels with the message');
  await sentUpdate;
  const history = await core.handlers['chat.history']({ accountId: bob, peer: 'alice@alpha.test' });
  assert.equal(history.at(-1)?.body, body);
});

test('each connection is recorded with its security facts', async () => {
  const records = await core.handlers['connection.list']({ accountId: alice });
  assert.ok(records.length >= 1);
  const [latest] = records;
  assert.equal(latest!.verification.trusted, true);
  assert.equal(latest!.verification.prooftype, 'pkix');
  assert.ok(latest!.tlsVersion);
  assert.ok(latest!.saslMechanism);
});

test('history survives a restart of the core', async () => {
  await core.close();
  core = await openCore();
  const history = await core.handlers['chat.history']({ accountId: alice, peer: 'bob@alpha.test' });
  assert.ok(history.some((m) => m.body.startsWith('core hello')));
});

test('a wrong password is shown in words and not retried in a loop', async () => {
  const jid = 'carol@beta.test';
  const failed = nextEvent(core, 'account.changed', (p) => p.account.jid === jid && p.account.status === 'error');
  await core.handlers['account.add']({ jid, password: 'wrong', resolver: lab.resolver, extraCaPem: lab.caPem });
  const { account } = await failed;
  assert.equal(account.error?.code, 'not-authorized');
  assert.match(account.error?.message ?? '', /password/i);
});
