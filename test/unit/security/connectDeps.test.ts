/** connectDeps builds the verifier's context for an account: its pins from storage, clear errors for bad settings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildConnectDeps } from '../../../app/connect/connectDeps.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import { parseCertificate, summarizeCertificate } from '../../../app/security/certificate.ts';
import { openStorage } from '../../../app/storage/storage.ts';
import { makeCertificate, NOW } from './certFactory.ts';

const NO_GLOBAL = { resolver: null, extraCaPem: null };
const ACCOUNT = { resolver: '127.0.0.1:53', extraCaPem: null, transport: 'auto' as const, resolverValidates: false };

test('a bad extra CA or a resolver given as a host name: a ConnectError that names the setting', () => {
  assert.throws(
    () => buildConnectDeps({ ...ACCOUNT, extraCaPem: 'not a certificate' }, NO_GLOBAL, () => {}),
    (e: unknown) =>
      e instanceof ConnectError &&
      e.code === 'bad-trust-anchor' &&
      /^This account's extra CA certificate cannot be used: it contains no PEM certificate/.test(e.message),
  );
  assert.throws(
    () =>
      buildConnectDeps(
        { ...ACCOUNT, resolver: null },
        { resolver: null, extraCaPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
        () => {},
      ),
    (e: unknown) =>
      e instanceof ConnectError &&
      e.code === 'bad-trust-anchor' &&
      /^The global extra CA certificate cannot be used/.test(e.message),
  );
  assert.throws(
    () => buildConnectDeps({ ...ACCOUNT, resolver: 'dns.example:53' }, NO_GLOBAL, () => {}),
    (e: unknown) =>
      e instanceof ConnectError &&
      e.code === 'dns-bad-server' &&
      /Fix this account's DNS resolver setting/.test(e.message),
  );
});

test("verify reads the account's pins for the JID domain from storage, and honours accept-once", async (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: 'alice@alpha.test' }).id;
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const spki = createHash('sha256').update(parseCertificate(self.der).spki).digest('hex');
  const facts = {
    transport: 'starttls' as const,
    domain: 'alpha.test',
    sni: 'alpha.test',
    alpn: null,
    chain: [self.der],
    candidate: {
      transport: 'starttls' as const,
      host: 'alpha.test',
      port: 5222,
      priority: 0,
      weight: 0,
      source: 'default' as const,
      dnssec: 'insecure' as const,
      record: null,
    },
  };
  const deps = buildConnectDeps(ACCOUNT, NO_GLOBAL, () => {}, { storage, accountId, posh: false, now: () => NOW });
  assert.equal((await deps.verify(facts)).decision, 'unproven');
  storage.addPin(accountId, 'alpha.test', spki, summarizeCertificate(self.der));
  const pinned = await deps.verify(facts);
  assert.equal(pinned.trusted, true);
  assert.equal(pinned.prooftype, 'pin');
  assert.equal(pinned.userDecision, 'pinned');
  const once = buildConnectDeps(ACCOUNT, NO_GLOBAL, () => {}, {
    posh: false,
    acceptOnce: new Set([spki]),
    now: () => NOW,
  });
  const accepted = await once.verify(facts);
  assert.equal(accepted.prooftype, null);
  assert.equal(accepted.userDecision, 'accepted-once');
});
