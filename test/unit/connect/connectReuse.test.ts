import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedVerdict, sharedFetch } from '../../../app/connect/connectReuse.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import type { TrustAnchors } from '../../../app/security/trustAnchors.ts';
import type { Verdict } from '../../../app/contract/viewModels.ts';
import { verdict } from '../../support/verdicts.ts';

const anchors = { anchors: [] } as unknown as TrustAnchors;
const facts = (domain: string, chain = [Uint8Array.of(1, 2, 3)]): ServerFacts => ({
  transport: 'quic',
  domain,
  sni: 'quic-a.test',
  alpn: 'xmpp-client',
  chain,
  candidate: {
    host: 'xmpp.quic-a.test',
    port: 443,
    source: 'srv:_xmppq-client._udp',
    dnssec: 'insecure',
    record: null,
  },
});
const verdictOf = (trusted: boolean): Verdict => verdict(trusted ? { trusted, prooftype: 'pkix' } : {});

test('a trusted verdict is reused for the same facts within a minute, and only for the same facts', async () => {
  let runs = 0;
  const run = (trusted: boolean) => async () => (runs++, verdictOf(trusted));
  const context = (at: number, pins: string[] = [], scope = 'system resolver') => ({
    anchors,
    now: new Date(at),
    pins: pins.map((spkiSha256) => ({ spkiSha256 })),
    scope,
  });
  const t0 = Date.UTC(2026, 11, 6);
  assert.equal((await cachedVerdict(facts('reuse-a.test'), context(t0), run(true))).trusted, true);
  await cachedVerdict(facts('reuse-a.test'), context(t0 + 1000), run(true));
  assert.equal(runs, 1, 'the second account with the same facts did not validate again');
  await cachedVerdict(facts('reuse-b.test'), context(t0 + 1000), run(true));
  assert.equal(runs, 2, 'another domain is verified for itself');
  await cachedVerdict(facts('reuse-a.test', [Uint8Array.of(9)]), context(t0 + 1000), run(true));
  assert.equal(runs, 3, 'another chain is verified');
  await cachedVerdict(facts('reuse-a.test'), context(t0 + 1000, ['ab']), run(true));
  assert.equal(runs, 4, 'other pins are verified');
  await cachedVerdict(
    facts('reuse-a.test'),
    context(t0 + 1000, [], 'a validating resolver of another account'),
    run(true),
  );
  assert.equal(runs, 5, 'another resolver (DANE, DNSSEC) is verified');
  await cachedVerdict(facts('reuse-a.test'), context(t0 + 61_000), run(true));
  assert.equal(runs, 6, 'after a minute the verifier runs again');
});

test('a refusal is never reused', async () => {
  let runs = 0;
  const t0 = Date.UTC(2026, 11, 6);
  for (let i = 0; i < 2; i++)
    assert.equal(
      (
        await cachedVerdict(
          facts('refused.test'),
          { anchors, now: new Date(t0 + i), pins: [], scope: '' },
          async () => (runs++, verdictOf(false)),
        )
      ).trusted,
      false,
    );
  assert.equal(runs, 2);
});

test('host-meta: one fetch serves every caller; a caller that stops waiting does not stop the others', async () => {
  let fetches = 0;
  let release: (value: unknown) => void = () => undefined;
  const fetch = () => (fetches++, new Promise((resolve) => (release = resolve)));
  const key = `shared-${Math.random()}`;
  const first = sharedFetch(key, undefined, fetch);
  const controller = new AbortController();
  const second = sharedFetch(key, controller.signal, fetch);
  controller.abort();
  await assert.rejects(second, (e: Error & { code?: string }) => e.code === 'aborted');
  release({ links: [] });
  assert.deepEqual(await first, { links: [] });
  assert.deepEqual(await sharedFetch(key, undefined, fetch), { links: [] });
  assert.equal(fetches, 1);
});
