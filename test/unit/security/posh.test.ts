import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Candidate } from '../../../app/connect/candidate.ts';
import {
  createPoshSource,
  parsePoshDocument,
  POSH_FAILURE_TTL_MS,
  type PoshCache,
  type PoshSource,
} from '../../../app/security/posh.ts';
import { SecurityError } from '../../../app/security/securityError.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { anchorSetKey } from '../../../app/security/trustAnchors.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { fetchHttpsJson } from '../../../app/security/driver/httpsFetch.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { openStorage } from '../../../app/storage/storage.ts';
import { makeHierarchy, NOW, toPem, type IssuedCertificate } from './certFactory.ts';
import { startHttpsServer } from './httpsTestServer.ts';

const RFC7711_PATH = '/.well-known/posh/xmpp-client.json';
const DRAFT_PATH = '/.well-known/posh._xmpp-client._tcp.json';
const CANDIDATE: Candidate = {
  transport: 'starttls',
  host: 'hosting.example.net',
  port: 5222,
  priority: 0,
  weight: 0,
  source: 'srv:_xmpp-client._tcp',
  dnssec: 'insecure',
  record: '_xmpp-client._tcp.alpha.test. 0 0 5222 hosting.example.net.',
};

function facts(chain: IssuedCertificate[]): ServerFacts {
  return {
    transport: 'starttls',
    domain: 'alpha.test',
    sni: 'alpha.test',
    alpn: null,
    chain: chain.map((c) => c.der),
    candidate: CANDIDATE,
  };
}

function b64(der: Uint8Array, algorithm: 'sha256' | 'sha512'): string {
  return createHash(algorithm).update(der).digest('base64');
}

/** A PoshSource against the in-test server (its port as the `httpsPort` override, as with the lab); a fake clock. */
async function setup(t: TestContext, options: { cache?: PoshCache | null } = {}) {
  const server = await startHttpsServer(t, ['alpha.test', 'hosting.example.net']);
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  const clock = { now: 1_000_000 };
  const posh = createPoshSource({
    anchors,
    resolve: async () => ['127.0.0.1'],
    cache: options.cache ?? null,
    now: () => clock.now,
    fetchJson: fetchHttpsJson,
    httpsPort: server.port,
  });
  return { server, posh, clock, anchors, base: 'https://alpha.test' };
}

/** The provider's certificate: valid PKIX, names only hosting.example.net. */
async function provider() {
  const { root, intermediate, leaf } = await makeHierarchy({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
  });
  return { anchors: loadTrustAnchors([toPem(root.der)], { includeSystem: false }), chain: [leaf, intermediate], leaf };
}

async function verify(posh: PoshSource, p: Awaited<ReturnType<typeof provider>>) {
  return verifyServer(facts(p.chain), { anchors: p.anchors, now: NOW, posh });
}

test('parsePoshDocument: fingerprints or url (https only), anything else is refused', () => {
  assert.deepEqual(
    parsePoshDocument({ fingerprints: [{ 'sha-256': 'AA==', 'sha-1': 'x' }, 'junk'], expires: 60.7 }, 'u'),
    { kind: 'fingerprints', fingerprints: [{ 'sha-256': 'AA==' }], expires: 60 },
  );
  assert.deepEqual(parsePoshDocument({ url: 'https://h.test/p.json' }, 'u'), {
    kind: 'url',
    url: 'https://h.test/p.json',
    expires: null,
  });
  for (const bad of [[], 'x', null, { fingerprints: [] }, { fingerprints: [{ 'sha-1': 'x' }] }, {}]) {
    assert.throws(
      () => parsePoshDocument(bad, 'u'),
      (e: unknown) => e instanceof SecurityError && e.code === 'https-bad-json',
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => parsePoshDocument({ url: 'http://h.test/p.json' }, 'u'),
    (e: unknown) => e instanceof SecurityError && e.code === 'https-redirect',
  );
});

test('a hosted domain proved by POSH (sha-256 or sha-512 of the whole certificate): prooftype posh with the delegation', async (t) => {
  const { server, posh, base } = await setup(t);
  const p = await provider();
  for (const fingerprint of [{ 'sha-256': b64(p.leaf.der, 'sha256') }, { 'sha-512': b64(p.leaf.der, 'sha512') }]) {
    server.routes.set(RFC7711_PATH, {
      body: { fingerprints: [{ 'sha-256': b64(new Uint8Array([1]), 'sha256') }, fingerprint] },
    });
    const verdict = await verify(posh, p);
    assert.equal(verdict.trusted, true);
    assert.equal(verdict.prooftype, 'posh');
    assert.equal(verdict.identity, 'posh:alpha.test');
    assert.equal(verdict.delegation, `posh:${base}${RFC7711_PATH}`);
    assert.equal(verdict.decision, null);
    assert.deepEqual(
      verdict.tried.map((a) => [a.prooftype, a.ok]),
      [
        ['pkix', false],
        ['posh', true],
      ],
    );
  }
});

test('the draft path is tried when the RFC 7711 path is 404', async (t) => {
  const { server, posh, base } = await setup(t);
  const p = await provider();
  server.routes.set(DRAFT_PATH, { body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }] } });
  const verdict = await verify(posh, p);
  assert.equal(verdict.prooftype, 'posh');
  assert.equal(verdict.delegation, `posh:${base}${DRAFT_PATH}`);
  assert.deepEqual(server.hits, [RFC7711_PATH, DRAFT_PATH]);
});

test('no document at either path: the detail says so', async (t) => {
  const { server, posh } = await setup(t);
  const verdict = await verify(posh, await provider());
  assert.equal(verdict.decision, 'unproven');
  assert.match(
    verdict.tried[1]?.detail ?? '',
    /alpha\.test publishes no POSH document \(HTTP 404 at \/\.well-known\/posh\/xmpp-client\.json and \/\.well-known\/posh\._xmpp-client\._tcp\.json\)/,
  );
  assert.deepEqual(server.hits, [RFC7711_PATH, DRAFT_PATH]);
});

test('url delegation is followed once, and only once', async (t) => {
  const { server, posh, base } = await setup(t);
  const p = await provider();
  const hosted = 'https://hosting.example.net/posh/alpha.json';
  server.routes.set(RFC7711_PATH, { body: { url: hosted, expires: 3600 } });
  server.routes.set('/posh/alpha.json', {
    body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }], expires: 3600 },
  });
  const verdict = await verify(posh, p);
  assert.equal(verdict.prooftype, 'posh');
  assert.equal(verdict.delegation, `posh:${base}${RFC7711_PATH}`);
  assert.match(verdict.tried[1]?.detail ?? '', /delegating to https:\/\/hosting\.example\.net\/posh\/alpha\.json/);

  const second = await setup(t);
  second.server.routes.set(RFC7711_PATH, { body: { url: 'https://hosting.example.net/a.json' } });
  second.server.routes.set('/a.json', { body: { url: 'https://hosting.example.net/b.json' } });
  second.server.routes.set('/b.json', { body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }] } });
  const twice = await verify(second.posh, p);
  assert.equal(twice.trusted, false);
  assert.equal(twice.decision, 'unproven');
  assert.match(twice.tried[1]?.detail ?? '', /follows only one POSH delegation/);
  assert.deepEqual(second.server.hits, [RFC7711_PATH, '/a.json']);
});

test('fingerprints of another certificate: not proved; the person may decide', async (t) => {
  const { server, posh } = await setup(t);
  const p = await provider();
  server.routes.set(RFC7711_PATH, { body: { fingerprints: [{ 'sha-256': b64(new Uint8Array([9]), 'sha256') }] } });
  const verdict = await verify(posh, p);
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'wrong-name');
  assert.equal(verdict.decision, 'unproven');
  assert.match(verdict.tried[1]?.detail ?? '', /lists 1 fingerprint\(s\), none of this certificate/);
});

test('oversized, invalid JSON, and a redirect to http: no POSH proof', async (t) => {
  const { server, posh, clock } = await setup(t);
  const p = await provider();
  const cases: [Parameters<typeof server.routes.set>[1], RegExp][] = [
    [{ body: { fingerprints: [{ 'sha-256': 'x'.repeat(70_000) }] } }, /larger than 65536 bytes/],
    [{ body: '{"fingerprints": [' }, /did not return a JSON document/],
    [{ status: 302, headers: { location: 'http://alpha.test/.well-known/posh/xmpp-client.json' } }, /not HTTPS/],
  ];
  for (const [route, pattern] of cases) {
    server.routes.set(RFC7711_PATH, route);
    clock.now += POSH_FAILURE_TTL_MS + 1;
    const verdict = await verify(posh, p);
    assert.equal(verdict.trusted, false);
    assert.equal(verdict.tried[1]?.prooftype, 'posh');
    assert.match(verdict.tried[1]?.detail ?? '', pattern);
  }
});

test('POSH is not tried when the certificate names the JID domain', async (t) => {
  const { server, posh } = await setup(t);
  const { leaf } = await makeHierarchy();
  const verdict = await verifyServer(
    { ...facts([leaf]) },
    { anchors: loadTrustAnchors([], { includeSystem: false }), now: NOW, posh },
  );
  // The leaf alone, from an issuer Quiver does not know (and no caIssuers): an unknown authority.
  assert.equal(verdict.error?.code, 'untrusted');
  assert.deepEqual(
    verdict.tried.map((a) => a.prooftype),
    ['pkix'],
  );
  assert.deepEqual(server.hits, []);
});

test('expires is honoured by the SQLite cache on a fake clock; failures are kept only briefly; no expires, no caching', async (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const { server, posh, clock, anchors } = await setup(t, { cache: storage });
  const anchorSet = anchorSetKey(anchors);
  const p = await provider();
  server.routes.set(RFC7711_PATH, { body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }], expires: 600 } });
  assert.equal((await verify(posh, p)).prooftype, 'posh');
  assert.equal(server.hits.length, 1);
  const stored = storage.getPoshEntry('alpha.test', anchorSet);
  assert.equal(stored?.expiresAt, clock.now + 600_000);
  // Within the 600 s: from the cache, even though the server would now say something else.
  server.routes.set(RFC7711_PATH, {
    body: { fingerprints: [{ 'sha-256': b64(new Uint8Array([1]), 'sha256') }], expires: 600 },
  });
  clock.now += 599_000;
  const cached = await verify(posh, p);
  assert.equal(cached.prooftype, 'posh');
  assert.match(cached.tried[1]?.detail ?? '', /\(cached\)/);
  assert.equal(server.hits.length, 1);
  // After it: fetched again.
  clock.now += 2_000;
  assert.equal((await verify(posh, p)).trusted, false);
  assert.equal(server.hits.length, 2);

  // A failure is cached for POSH_FAILURE_TTL_MS only.
  server.routes.set(RFC7711_PATH, { status: 500, body: 'oops' });
  clock.now += 601_000;
  await verify(posh, p);
  assert.equal(server.hits.length, 3);
  assert.match(storage.getPoshEntry('alpha.test', anchorSet)?.error ?? '', /HTTP 500/);
  await verify(posh, p);
  assert.equal(server.hits.length, 3);
  clock.now += POSH_FAILURE_TTL_MS;
  server.routes.set(RFC7711_PATH, { body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }] } });
  assert.equal((await verify(posh, p)).prooftype, 'posh');
  assert.equal(server.hits.length, 4);
  // No "expires": used now, not kept (the stale failure row is not consulted again either, it expired).
  assert.equal((await verify(posh, p)).prooftype, 'posh');
  assert.equal(server.hits.length, 5);
});

test("a POSH document fetched through one account's extra CA is no proof for an account without it (cache per anchor set)", async (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  // Account A trusts the web server's CA (an extra anchor); account B does not. Same database.
  const { server, posh: withCa, clock } = await setup(t, { cache: storage });
  const withoutCa = createPoshSource({
    anchors: loadTrustAnchors([], { includeSystem: false }),
    resolve: async () => ['127.0.0.1'],
    cache: storage,
    now: () => clock.now,
    fetchJson: fetchHttpsJson,
    httpsPort: server.port,
  });
  const p = await provider();
  server.routes.set(RFC7711_PATH, { body: { fingerprints: [{ 'sha-256': b64(p.leaf.der, 'sha256') }], expires: 600 } });
  assert.equal((await verify(withCa, p)).prooftype, 'posh');
  assert.equal(server.hits.length, 1);

  // B must fetch for itself, and its HTTPS check fails: A's fingerprints are not reused.
  const b = await verify(withoutCa, p);
  assert.equal(b.trusted, false);
  assert.equal(b.decision, 'unproven');
  assert.equal(b.tried[1]?.prooftype, 'posh');
  assert.doesNotMatch(b.tried[1]?.detail ?? '', /cached|remembered/);
  assert.equal(server.hits.length, 1, 'the TLS handshake fails before any request');
  // B's failure is remembered for B only ...
  const again = await verify(withoutCa, p);
  assert.match(again.tried[1]?.detail ?? '', /remembered from a recent attempt/);
  // ... and A still has its own proof, from the cache.
  const a = await verify(withCa, p);
  assert.equal(a.prooftype, 'posh');
  assert.match(a.tried[1]?.detail ?? '', /\(cached\)/);
  assert.equal(server.hits.length, 1);
});

test('anchorSetKey: equal for the same certificates in any order, different with one more', async () => {
  const [one, two] = [(await makeHierarchy()).root, (await makeHierarchy()).root];
  const key = (certs: IssuedCertificate[]) =>
    anchorSetKey(
      loadTrustAnchors(
        certs.map((c) => toPem(c.der)),
        { includeSystem: false },
      ),
    );
  assert.match(key([one]), /^[0-9a-f]{64}$/);
  assert.equal(key([one, two]), key([two, one]));
  assert.equal(key([one, one]), key([one]));
  assert.notEqual(key([one]), key([one, two]));
  assert.notEqual(key([]), key([one]));
});
