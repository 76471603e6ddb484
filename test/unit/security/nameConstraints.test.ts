import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Candidate } from '../../../app/connect/candidate.ts';
import { parseCertificate } from '../../../app/security/certificate.ts';
import type { TlsaResolver } from '../../../app/security/dane.ts';
import { collectDnsNameConstraints, withinDnsSubtree } from '../../../app/security/nameConstraints.ts';
import { validatePath } from '../../../app/security/pkixPath.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { makeCertificate, NOW, toPem, type CertificateSpec, type IssuedCertificate } from './certFactory.ts';

const SERVER_AUTH = ['1.3.6.1.5.5.7.3.1'];
const DEFAULT: Candidate = {
  transport: 'tls',
  host: 'victim.example',
  port: 5223,
  priority: 0,
  weight: 0,
  source: 'default',
  dnssec: 'insecure',
  record: null,
};

function facts(domain: string, chain: IssuedCertificate[], candidate: Partial<Candidate> = {}): ServerFacts {
  return {
    transport: 'tls',
    domain,
    sni: domain,
    alpn: null,
    chain: chain.map((c) => c.der),
    candidate: { ...DEFAULT, host: domain, ...candidate },
  };
}

/** A root, and under it a CA constrained to `corp.example` (and not `secret.corp.example`). */
async function constrainedCa() {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const corp = await makeCertificate({
    cn: 'Corp Constrained CA',
    ca: true,
    issuer: root,
    nameConstraints: { permitted: ['corp.example'], excluded: ['secret.corp.example'] },
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const leaf = (spec: Omit<CertificateSpec, 'issuer'>) =>
    makeCertificate({ cn: 'x', extKeyUsage: SERVER_AUTH, ...spec, issuer: corp });
  return { root, corp, anchors, leaf };
}

test('withinDnsSubtree: RFC 5280 §4.2.1.10 - the name and any subdomain; a leading dot means subdomains only', () => {
  assert.equal(withinDnsSubtree('corp.example', 'corp.example'), true);
  assert.equal(withinDnsSubtree('xmpp.corp.example', 'corp.example'), true);
  assert.equal(withinDnsSubtree('XMPP.Corp.Example.', 'corp.example'), true);
  assert.equal(withinDnsSubtree('evilcorp.example', 'corp.example'), false);
  assert.equal(withinDnsSubtree('example', 'corp.example'), false);
  assert.equal(withinDnsSubtree('corp.example', '.corp.example'), false);
  assert.equal(withinDnsSubtree('a.corp.example', '.corp.example'), true);
  assert.equal(withinDnsSubtree('anything.test', ''), true);
});

test('collectDnsNameConstraints reads every CA on a validated path, the anchor included', async () => {
  const root = await makeCertificate({
    cn: 'Constrained Root',
    ca: true,
    nameConstraints: { excluded: ['.gov.example'] },
  });
  const corp = await makeCertificate({
    cn: 'Corp CA',
    ca: true,
    issuer: root,
    nameConstraints: { permitted: ['corp.example'] },
  });
  const leaf = await makeCertificate({
    cn: 'x',
    dnsNames: ['xmpp.corp.example'],
    extKeyUsage: SERVER_AUTH,
    issuer: corp,
  });
  const path = await validatePath(
    [leaf.der, corp.der],
    loadTrustAnchors([toPem(root.der)], { includeSystem: false }),
    NOW,
  );
  assert.ok(path.ok, JSON.stringify(path));
  assert.deepEqual(collectDnsNameConstraints(path.path), [
    { ca: 'CN=Corp CA', permitted: ['corp.example'], excluded: [] },
    { ca: 'CN=Constrained Root', permitted: null, excluded: ['.gov.example'] },
  ]);
});

test('a constrained CA may vouch for names inside its subtree, through any identifier type', async () => {
  const { anchors, corp, leaf } = await constrainedCa();
  const cases: [string, Omit<CertificateSpec, 'issuer'>, string][] = [
    ['xmpp.corp.example', { dnsNames: ['xmpp.corp.example'] }, 'dns-id:xmpp.corp.example'],
    ['xmpp.corp.example', { srvNames: ['_xmpp-client.xmpp.corp.example'] }, 'srv-id:_xmpp-client.xmpp.corp.example'],
    ['xmpp.corp.example', { xmppAddrs: ['xmpp.corp.example'] }, 'xmppaddr:xmpp.corp.example'],
    ['corp.example', { cn: 'corp.example' }, 'cn:corp.example'],
  ];
  for (const [domain, spec, identity] of cases) {
    const verdict = await verifyServer(facts(domain, [await leaf(spec), corp]), { anchors, now: NOW });
    assert.equal(verdict.trusted, true, `${identity}: ${JSON.stringify(verdict.tried)}`);
    assert.equal(verdict.identity, identity);
  }
});

test('SRV-ID, XmppAddr and CN outside the permitted subtree, or inside an excluded one, are refused (pkijs checks only dNSName)', async () => {
  const { anchors, corp, leaf } = await constrainedCa();
  const cases: [string, Omit<CertificateSpec, 'issuer'>][] = [
    ['victim.example', { srvNames: ['_xmpp-client.victim.example'] }],
    ['victim.example', { xmppAddrs: ['victim.example'] }],
    ['victim.example', { cn: 'victim.example' }],
    // An in-tree dNSName does not make an out-of-tree XmppAddr acceptable.
    ['victim.example', { dnsNames: ['xmpp.corp.example'], xmppAddrs: ['victim.example'] }],
    // Excluded beats permitted.
    ['secret.corp.example', { xmppAddrs: ['secret.corp.example'] }],
    ['db.secret.corp.example', { srvNames: ['_xmpp-client.db.secret.corp.example'] }],
    ['secret.corp.example', { cn: 'secret.corp.example' }],
  ];
  for (const [domain, spec] of cases) {
    const verdict = await verifyServer(facts(domain, [await leaf(spec), corp]), { anchors, now: NOW });
    const label = `${domain} ${JSON.stringify(spec)}`;
    assert.equal(verdict.trusted, false, label);
    assert.equal(verdict.error?.code, 'name-constraints', label);
    assert.match(verdict.error?.message ?? '', /CN=Corp Constrained CA/, label);
    assert.match(verdict.tried[0]?.detail ?? '', /name constraints:/, label);
  }
});

test('a name matched through a DNSSEC-secure delegation is constrained too', async () => {
  const { anchors, corp, leaf } = await constrainedCa();
  const cert = await leaf({ xmppAddrs: ['hosting.victim.example'] });
  const verdict = await verifyServer(
    facts('alpha.test', [cert, corp], {
      host: 'hosting.victim.example',
      source: 'srv:_xmpps-client._tcp',
      dnssec: 'secure',
      record: '_xmpps-client._tcp.alpha.test. 0 0 5223 hosting.victim.example.',
    }),
    { anchors, now: NOW },
  );
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'name-constraints');
});

test('DANE-TA (2) and PKIX-TA (0): the constrained CA may not vouch for a name outside its subtree either', async () => {
  const { anchors, corp, leaf } = await constrainedCa();
  const cert = await leaf({ xmppAddrs: ['victim.example'] });
  const spkiSha256 = new Uint8Array(createHash('sha256').update(parseCertificate(corp.der).spki).digest());
  for (const usage of [0, 2]) {
    const dns: TlsaResolver = {
      async query() {
        return {
          rcode: 'NOERROR',
          records: [{ usage, selector: 1, matchingType: 1, data: spkiSha256, ttl: 300 }],
          dnssec: 'secure',
          authenticData: true,
          ttl: 300,
        };
      },
    };
    const candidate = {
      source: 'srv:_xmpps-client._tcp',
      dnssec: 'secure',
      record: '_xmpps-client._tcp.victim.example. 0 0 5223 victim.example.',
    } as const;
    const verdict = await verifyServer(facts('victim.example', [cert, corp], candidate), { anchors, now: NOW, dns });
    assert.equal(verdict.trusted, false, `usage ${usage}`);
    assert.equal(verdict.error?.code, 'dane-mismatch', `usage ${usage}`);
    assert.match(verdict.tried[0]?.detail ?? '', /may vouch only for names under corp\.example/, `usage ${usage}`);
    // The same record, for a name inside the subtree, holds.
    const inside = await leaf({ xmppAddrs: ['xmpp.corp.example'] });
    const ok = await verifyServer(
      facts('xmpp.corp.example', [inside, corp], { ...candidate, host: 'xmpp.corp.example' }),
      { anchors, now: NOW, dns },
    );
    assert.equal(ok.trusted, true, `usage ${usage}: ${JSON.stringify(ok.tried)}`);
    assert.equal(ok.prooftype, usage === 0 ? 'pkix-ta' : 'dane-ta');
  }
});
