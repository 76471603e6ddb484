import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSummary } from '../../../app/contract/viewModels.ts';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { LIST_PINS_FOR_DOMAIN_SQL } from '../../../app/storage/pins.ts';
import { bindStorage, StorageError } from '../../../app/storage/storage.ts';

const SUMMARY: CertificateSummary = {
  subject: 'CN=alpha.test',
  issuer: 'CN=alpha.test',
  subjectAltNames: ['dns:alpha.test'],
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2028-01-01T00:00:00.000Z',
  sha256: 'aa'.repeat(32),
  spkiSha256: 'bb'.repeat(32),
};

function setup(t: { after(fn: () => void): void }) {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const storage = bindStorage(db);
  const account = storage.addAccount({ jid: 'alice@alpha.test' });
  return { db, storage, accountId: account.id };
}

test('addPin / listPins / removePin round trip, per account and domain', (t) => {
  const { storage, accountId } = setup(t);
  const pin = storage.addPin(accountId, 'Alpha.Test.', 'BB'.repeat(32), SUMMARY, 1000);
  assert.deepEqual(pin, {
    accountId,
    domain: 'alpha.test',
    spkiSha256: 'bb'.repeat(32),
    certificate: SUMMARY,
    createdAt: 1000,
  });
  storage.addPin(accountId, 'alpha.test', 'cc'.repeat(32), null, 2000);
  storage.addPin(accountId, 'beta.test', 'dd'.repeat(32), null, 500);
  assert.deepEqual(
    storage.listPins(accountId, 'alpha.test').map((p) => p.spkiSha256),
    ['bb'.repeat(32), 'cc'.repeat(32)],
  );
  assert.deepEqual(
    storage.listPins(accountId).map((p) => `${p.domain}:${p.spkiSha256.slice(0, 2)}`),
    ['alpha.test:bb', 'alpha.test:cc', 'beta.test:dd'],
  );
  assert.equal(storage.listPins(accountId, 'gamma.test').length, 0);
  // Pinning the same key again keeps the first row.
  assert.equal(storage.addPin(accountId, 'alpha.test', 'bb'.repeat(32), null, 9999).createdAt, 1000);
  assert.equal(storage.removePin(accountId, 'alpha.test', 'BB'.repeat(32)), true);
  assert.equal(storage.removePin(accountId, 'alpha.test', 'BB'.repeat(32)), false);
  assert.deepEqual(
    storage.listPins(accountId, 'alpha.test').map((p) => p.spkiSha256),
    ['cc'.repeat(32)],
  );
});

test('pins need an existing account, a hex fingerprint, and go with the account', (t) => {
  const { db, storage, accountId } = setup(t);
  assert.throws(
    () => storage.addPin('nope', 'alpha.test', 'bb'.repeat(32), null),
    (e: unknown) => e instanceof StorageError && e.code === 'account-not-found',
  );
  assert.throws(() => storage.addPin(accountId, 'alpha.test', 'not-hex', null), /CHECK constraint failed/);
  storage.addPin(accountId, 'alpha.test', 'bb'.repeat(32), SUMMARY);
  storage.removeAccount(accountId);
  assert.equal((db.prepare('SELECT count(*) AS n FROM pins').get() as { n: number }).n, 0);
});

test('listing one domain searches the primary key and needs no scan', (t) => {
  const { db } = setup(t);
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LIST_PINS_FOR_DOMAIN_SQL}`).all('a', 'b') as { detail: string }[]).map(
    (r) => r.detail,
  );
  assert.ok(
    plan.some((line) => /^SEARCH pins USING PRIMARY KEY \(account_id=\? AND domain=\?\)/.test(line)),
    plan.join('\n'),
  );
  assert.ok(!plan.some((line) => /^SCAN/.test(line)), plan.join('\n'));
});
