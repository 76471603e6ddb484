/**
 * A server nothing can prove (the lab's selfsigned.test) is never accepted silently: the core asks
 * the person, and the answer (accept once, pin, refuse) decides. A pinned key that changes is
 * refused with both keys shown. Real Prosody, real DNS, the real core.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { openStorage } from '../../app/storage/storage.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import { labFromEnv } from '../support/lab.ts';
import { nextEvent } from '../support/events.ts';

const lab = labFromEnv();
const JID = 'sid@selfsigned.test';
let dataDir: string;
let core: QuiverCore;
const openCore = () => createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quiver-decisions-'));
  core = await openCore();
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let accountId = '';

test('a self-signed server is not accepted silently: the person is asked, with the certificate and what was tried', async () => {
  const asked = nextEvent(core, 'certificate.decisionNeeded', (p) => p.decision.jid === JID);
  const account = await core.handlers['account.add']({
    jid: JID,
    password: lab.users[JID]!,
    resolver: lab.resolver,
    extraCaPem: lab.caPem,
  });
  accountId = account.id;
  const { decision } = await asked;
  assert.equal(decision.kind, 'unproven');
  assert.equal(decision.domain, 'selfsigned.test');
  assert.match(decision.presentedSpkiSha256, /^[0-9a-f]{64}$/);
  assert.ok(decision.certificates[0]?.subject.includes('selfsigned.test'), decision.certificates[0]?.subject);
  assert.ok(decision.tried.some((t) => t.prooftype === 'pkix' && !t.ok));
  const [view] = (await core.handlers['account.list']({})).filter((a) => a.id === accountId);
  assert.equal(view!.status, 'error');
  assert.equal(view!.error?.code, 'needs-decision');
  assert.deepEqual(
    (await core.handlers['certificate.pending']({})).map((d) => d.id),
    [decision.id],
  );
});

test('pinning the key connects, and the record says prooftype pin', async () => {
  const [decision] = await core.handlers['certificate.pending']({});
  const online = nextEvent(core, 'account.changed', (p) => p.account.id === accountId && p.account.status === 'online');
  await core.handlers['certificate.decide']({ decisionId: decision!.id, choice: 'pin' });
  await online;
  const pins = await core.handlers['pin.list']({ accountId });
  assert.deepEqual(
    pins.map((p) => [p.domain, p.spkiSha256]),
    [['selfsigned.test', decision!.presentedSpkiSha256]],
  );
  const [record] = await core.handlers['connection.list']({ accountId, limit: 1 });
  assert.equal(record!.verification.trusted, true);
  assert.equal(record!.verification.prooftype, 'pin');
  assert.equal(record!.verification.userDecision, 'pinned');
});

test('a pinned server whose key changes is refused with the old and new keys', async () => {
  await core.close();
  // Stand-in for the server changing its key: the pin now names another key.
  const storage = openStorage(join(dataDir, 'quiver.db'));
  const [pin] = storage.listPins(accountId);
  storage.removePin(accountId, pin!.domain, pin!.spkiSha256);
  storage.addPin(accountId, pin!.domain, 'ab'.repeat(32), null);
  storage.close();

  core = await openCore();
  const asked = nextEvent(core, 'certificate.decisionNeeded', (p) => p.decision.accountId === accountId);
  // Enabled accounts connect at start; the pending decision may already be there.
  const pendingNow = await core.handlers['certificate.pending']({});
  const decision = pendingNow[0] ?? (await asked).decision;
  assert.equal(decision.kind, 'key-changed');
  assert.deepEqual(decision.pinnedSpkiSha256, ['ab'.repeat(32)]);
  assert.equal(decision.presentedSpkiSha256, pin!.spkiSha256);
  assert.match(decision.reason.message, /key|pinned/i);

  // Refuse: the account goes offline and stays disabled.
  const disabled = nextEvent(core, 'account.changed', (p) => p.account.id === accountId && !p.account.enabled);
  await core.handlers['certificate.decide']({ decisionId: decision.id, choice: 'refuse' });
  await disabled;
  assert.deepEqual(await core.handlers['certificate.pending']({}), []);
});

test('accept once connects without pinning', async () => {
  const storage = openStorage(join(dataDir, 'quiver.db'));
  for (const p of storage.listPins(accountId)) storage.removePin(accountId, p.domain, p.spkiSha256);
  storage.close();
  const asked = nextEvent(core, 'certificate.decisionNeeded', (p) => p.decision.accountId === accountId);
  await core.handlers['account.setEnabled']({ accountId, enabled: true });
  const { decision } = await asked;
  assert.equal(decision.kind, 'unproven');
  const online = nextEvent(core, 'account.changed', (p) => p.account.id === accountId && p.account.status === 'online');
  await core.handlers['certificate.decide']({ decisionId: decision.id, choice: 'accept-once' });
  await online;
  assert.deepEqual(await core.handlers['pin.list']({ accountId }), []);
  // The record says the person accepted the key once: not a pin, and no prooftype.
  const [record] = await core.handlers['connection.list']({ accountId, limit: 1 });
  assert.equal(record!.verification.trusted, true);
  assert.equal(record!.verification.prooftype, null);
  assert.equal(record!.verification.userDecision, 'accepted-once');
});
