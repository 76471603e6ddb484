import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSummary, EventEnvelope, PinView, UserError, Verdict } from '../../../app/contract/index.ts';
import type { DecisionContext } from '../../../app/connect/connectError.ts';
import { CoreError } from '../../../app/coreError.ts';
import { TrustDecisions, type PinStore } from '../../../app/core/trustDecisions.ts';

const NOW = 1_700_000_000_000;
const OLD_KEY_1 = '11'.repeat(32);
const OLD_KEY_2 = '22'.repeat(32);
const NEW_KEY = 'aa'.repeat(32);
const OTHER_DOMAIN_KEY = 'bb'.repeat(32);

const leaf: CertificateSummary = {
  subject: 'CN=alpha.test',
  issuer: 'CN=alpha.test',
  subjectAltNames: ['dns:alpha.test'],
  notBefore: '2023-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  sha256: 'cc'.repeat(32),
  spkiSha256: NEW_KEY,
};

function context(verdict: Partial<Verdict> = {}): DecisionContext {
  return {
    domain: 'alpha.test',
    candidate: {
      transport: 'starttls',
      host: 'xmpp.alpha.test',
      port: 5222,
      priority: 0,
      weight: 5,
      source: 'srv:_xmpp-client._tcp',
      dnssec: 'insecure',
      record: '_xmpp-client._tcp.alpha.test. 0 5 5222 xmpp.alpha.test.',
    },
    verdict: {
      trusted: false,
      prooftype: null,
      identity: null,
      delegation: null,
      dnssec: 'insecure',
      tried: [{ prooftype: 'pkix', ok: false, detail: 'self-signed certificate' }],
      error: null,
      decision: null,
      ...verdict,
    },
    certificates: [leaf],
  };
}

/** Pins in memory, oldest first, the way app/storage/pins.ts lists them. */
class MemoryPins implements PinStore {
  readonly rows: PinView[] = [];
  listPins(accountId: string, domain?: string): PinView[] {
    return this.rows.filter((p) => p.accountId === accountId && (domain === undefined || p.domain === domain));
  }
  addPin(accountId: string, domain: string, spkiSha256: string, certificate: CertificateSummary | null): void {
    this.rows.push({ accountId, domain, spkiSha256, certificate, createdAt: NOW });
  }
  removePin(accountId: string, domain: string, spkiSha256: string): void {
    const i = this.rows.findIndex(
      (p) => p.accountId === accountId && p.domain === domain && p.spkiSha256 === spkiSha256,
    );
    if (i >= 0) this.rows.splice(i, 1);
  }
}

function setup() {
  const pins = new MemoryPins();
  const events: EventEnvelope[] = [];
  const reconnects: string[] = [];
  const disabled: { accountId: string; error: UserError }[] = [];
  let ids = 0;
  const trust = new TrustDecisions({
    pins,
    emit: (event) => events.push(event),
    now: () => NOW,
    newId: () => `decision-${++ids}`,
    reconnect: async (accountId) => {
      reconnects.push(accountId);
    },
    disable: async (accountId, error) => {
      disabled.push({ accountId, error });
    },
  });
  return { trust, pins, events, reconnects, disabled };
}

const names = (events: EventEnvelope[]) => events.map((e) => e.name);

test('ask makes one pending decision from the verdict and announces it', () => {
  const { trust, events } = setup();
  const decision = trust.ask('acc-1', 'alice@alpha.test', context());
  assert.deepEqual(decision, {
    id: 'decision-1',
    accountId: 'acc-1',
    jid: 'alice@alpha.test',
    domain: 'alpha.test',
    transport: 'starttls',
    host: 'xmpp.alpha.test',
    port: 5222,
    kind: 'unproven',
    problem: 'self-signed',
    certificates: [leaf],
    presentedSpkiSha256: NEW_KEY,
    pinnedSpkiSha256: [],
    tried: [{ prooftype: 'pkix', ok: false, detail: 'self-signed certificate' }],
    reason: { code: 'untrusted', message: 'Quiver could not prove that this server is alpha.test.' },
    at: NOW,
  });
  assert.deepEqual(events, [{ name: 'certificate.decisionNeeded', payload: { decision } }]);
  assert.deepEqual(trust.pending(), [decision]);
});

test('a changed key lists the keys pinned before and keeps the verifier\u2019s reason', () => {
  const { trust, pins } = setup();
  pins.addPin('acc-1', 'alpha.test', OLD_KEY_1, null);
  const reason = { code: 'pin-mismatch', message: 'alpha.test presented another key than the one you pinned.' };
  const decision = trust.ask('acc-1', 'alice@alpha.test', context({ decision: 'key-changed', error: reason }));
  assert.equal(decision.kind, 'key-changed');
  assert.equal(decision.problem, 'key-changed');
  assert.deepEqual(decision.pinnedSpkiSha256, [OLD_KEY_1]);
  assert.deepEqual(decision.reason, reason);
});

test('the decision names the actual problem from the verifier’s code, and keeps its reason', () => {
  const { trust } = setup();
  const cases: [string, string][] = [
    ['wrong-name', 'wrong-name'],
    ['expired', 'expired'],
    ['not-yet-valid', 'not-yet-valid'],
    ['self-signed', 'self-signed'],
    ['missing-intermediate', 'missing-intermediate'],
    ['untrusted', 'unknown-issuer'],
  ];
  for (const [code, problem] of cases) {
    const reason = { code, message: `alpha.test: ${code}` };
    const decision = trust.ask('acc-1', 'alice@alpha.test', context({ decision: 'unproven', error: reason }));
    assert.equal(decision.problem, problem, code);
    assert.deepEqual(decision.reason, reason);
  }
});

test('a second decision for the same account resolves the first; other accounts keep theirs', async () => {
  const { trust, events } = setup();
  trust.ask('acc-1', 'alice@alpha.test', context());
  trust.ask('acc-2', 'bob@alpha.test', context());
  events.length = 0;
  trust.ask('acc-1', 'alice@alpha.test', context());
  assert.deepEqual(names(events), ['certificate.decisionResolved', 'certificate.decisionNeeded']);
  assert.deepEqual(events[0]?.payload, { decisionId: 'decision-1' });
  assert.deepEqual(
    trust.pending().map((d) => d.id),
    ['decision-3', 'decision-2'],
  );
  await assert.rejects(trust.decide('decision-1', 'pin'), { code: 'decision-not-found' });
});

test('accept once is handed to the next connection attempt exactly once, and never pinned', async () => {
  const { trust, pins, events, reconnects } = setup();
  trust.ask('acc-1', 'alice@alpha.test', context());
  events.length = 0;
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], []);

  await trust.decide('decision-1', 'accept-once');
  assert.deepEqual(events, [{ name: 'certificate.decisionResolved', payload: { decisionId: 'decision-1' } }]);
  assert.deepEqual(reconnects, ['acc-1']);
  assert.deepEqual(trust.pending(), []);
  assert.deepEqual(pins.rows, []);
  // Another account's next attempt gets nothing of it.
  assert.deepEqual([...trust.takeAcceptedOnce('acc-2')], []);
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], [NEW_KEY]);
  // A later attempt (a reconnect too) asks again.
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], []);
});

test('the accepted key is set aside before the account reconnects', async () => {
  const pins = new MemoryPins();
  const seen: string[][] = [];
  const trust: TrustDecisions = new TrustDecisions({
    pins,
    emit: () => undefined,
    now: () => NOW,
    newId: () => 'decision-1',
    reconnect: async (accountId) => {
      seen.push([...trust.takeAcceptedOnce(accountId)]);
    },
    disable: async () => assert.fail('accept once does not disable'),
  });
  trust.ask('acc-1', 'alice@alpha.test', context());
  await trust.decide('decision-1', 'accept-once');
  assert.deepEqual(seen, [[NEW_KEY]]);
});

test('pin replaces every older pin for that domain, keeps other domains, then reconnects', async () => {
  const { trust, pins, events, reconnects, disabled } = setup();
  pins.addPin('acc-1', 'alpha.test', OLD_KEY_1, null);
  pins.addPin('acc-1', 'alpha.test', OLD_KEY_2, null);
  pins.addPin('acc-1', 'beta.test', OTHER_DOMAIN_KEY, null);
  pins.addPin('acc-2', 'alpha.test', OLD_KEY_1, null);
  trust.ask('acc-1', 'alice@alpha.test', context({ decision: 'key-changed' }));
  events.length = 0;

  await trust.decide('decision-1', 'pin');
  const afterPin: PinView[] = [
    { accountId: 'acc-1', domain: 'beta.test', spkiSha256: OTHER_DOMAIN_KEY, certificate: null, createdAt: NOW },
    { accountId: 'acc-1', domain: 'alpha.test', spkiSha256: NEW_KEY, certificate: leaf, createdAt: NOW },
  ];
  assert.deepEqual(pins.listPins('acc-1'), afterPin);
  assert.deepEqual(
    pins.listPins('acc-2').map((p) => p.spkiSha256),
    [OLD_KEY_1],
  );
  assert.deepEqual(events, [
    { name: 'certificate.decisionResolved', payload: { decisionId: 'decision-1' } },
    { name: 'pin.changed', payload: { accountId: 'acc-1', pins: afterPin } },
  ]);
  assert.deepEqual(reconnects, ['acc-1']);
  assert.deepEqual(disabled, []);
  // A pin is stored, not lent: nothing waits for the next attempt.
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], []);
});

test('refuse disables the account with the refused-by-user error and does not reconnect', async () => {
  const { trust, pins, events, reconnects, disabled } = setup();
  trust.ask('acc-1', 'alice@alpha.test', context());
  events.length = 0;
  await trust.decide('decision-1', 'refuse');
  assert.deepEqual(events, [{ name: 'certificate.decisionResolved', payload: { decisionId: 'decision-1' } }]);
  assert.deepEqual(disabled, [
    {
      accountId: 'acc-1',
      error: {
        code: 'refused-by-user',
        message:
          'You refused the certificate alpha.test presented; the account stays offline. Enable it again to retry.',
      },
    },
  ]);
  assert.deepEqual(reconnects, []);
  assert.deepEqual(pins.rows, []);
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], []);
  assert.deepEqual(trust.pending(), []);
});

test('deciding on an unknown or already answered decision fails with decision-not-found', async () => {
  const { trust, events, reconnects } = setup();
  const notFound = {
    name: 'CoreError',
    code: 'decision-not-found',
    message: 'That certificate decision is no longer pending: the account was removed or asked again.',
  };
  await assert.rejects(trust.decide('no-such-decision', 'accept-once'), CoreError);
  await assert.rejects(trust.decide('no-such-decision', 'accept-once'), notFound);
  trust.ask('acc-1', 'alice@alpha.test', context());
  await trust.decide('decision-1', 'accept-once');
  events.length = 0;
  await assert.rejects(trust.decide('decision-1', 'accept-once'), notFound);
  assert.deepEqual(events, []);
  assert.deepEqual(reconnects, ['acc-1']);
});

test('forgetting a removed account resolves its pending decision and drops its accepted keys', async () => {
  const { trust, events } = setup();
  trust.ask('acc-1', 'alice@alpha.test', context());
  await trust.decide('decision-1', 'accept-once');
  trust.ask('acc-1', 'alice@alpha.test', context());
  trust.ask('acc-2', 'bob@alpha.test', context());
  events.length = 0;

  trust.forget('acc-1');
  assert.deepEqual(events, [{ name: 'certificate.decisionResolved', payload: { decisionId: 'decision-2' } }]);
  assert.deepEqual(
    trust.pending().map((d) => d.id),
    ['decision-3'],
  );
  assert.deepEqual([...trust.takeAcceptedOnce('acc-1')], []);
  await assert.rejects(trust.decide('decision-2', 'pin'), { code: 'decision-not-found' });

  // An account with nothing pending is forgotten silently.
  events.length = 0;
  trust.forget('acc-9');
  assert.deepEqual(events, []);
});
