import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { DnssecStatus } from '../../../app/contract/viewModels.ts';
import { parseCertificate } from '../../../app/security/certificate.ts';
import { tlsaMatches, tlsaName, type TlsaResolver } from '../../../app/security/dane.ts';
import type { DnsAnswer, TlsaRecord } from '../../../app/security/dnsClient.ts';
import { SecurityError } from '../../../app/security/securityError.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { makeCertificate, makeHierarchy, NOW, toPem, type IssuedCertificate } from './certFactory.ts';

const RECORD = '_xmpps-client._tcp.alpha.test. 0 5 5223 hosting.example.net.';
const SECURE_SRV: Candidate = {
  transport: 'tls',
  host: 'hosting.example.net',
  port: 5223,
  priority: 0,
  weight: 5,
  source: 'srv:_xmpps-client._tcp',
  dnssec: 'secure',
  record: RECORD,
};

function facts(
  chain: IssuedCertificate[],
  candidate: Partial<Candidate> = {},
  transport: ServerFacts['transport'] = 'tls',
): ServerFacts {
  return {
    transport,
    domain: 'alpha.test',
    sni: 'alpha.test',
    alpn: 'xmpp-client',
    chain: chain.map((c) => c.der),
    candidate: { ...SECURE_SRV, transport, ...candidate },
  };
}

/** A TLSA resolver with one scripted answer; records every name asked. */
function tlsa(
  records: Omit<TlsaRecord, 'ttl'>[],
  dnssec: DnssecStatus = 'secure',
  rcode: DnsAnswer['rcode'] = 'NOERROR',
): TlsaResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async query(name) {
      asked.push(name);
      return {
        rcode,
        records: records.map((r) => ({ ...r, ttl: 300 })),
        dnssec,
        authenticData: dnssec === 'secure',
        ttl: records.length > 0 ? 300 : null,
      };
    },
  };
}

function digest(bytes: Uint8Array, matchingType: number): Uint8Array {
  if (matchingType === 0) return bytes;
  return new Uint8Array(
    createHash(matchingType === 1 ? 'sha256' : 'sha512')
      .update(bytes)
      .digest(),
  );
}

/** The TLSA data for `cert` with this selector and matching type. */
function association(cert: IssuedCertificate, selector: number, matchingType: number): Uint8Array {
  return digest(selector === 0 ? cert.der : parseCertificate(cert.der).spki, matchingType);
}

const noAnchors = loadTrustAnchors([], { includeSystem: false });

test('tlsaName: _port._tcp.target, _udp for QUIC, as A-labels', () => {
  assert.equal(tlsaName(facts([])), '_5223._tcp.hosting.example.net');
  assert.equal(
    tlsaName({ transport: 'quic', candidate: { ...SECURE_SRV, host: 'Bücher.example', port: 443 } }),
    '_443._udp.xn--bcher-kva.example',
  );
});

test('DANE-EE (3): every selector and matching type matches a self-signed certificate for another name, expired', async () => {
  const cert = await makeCertificate({ cn: 'nobody', dnsNames: ['nobody.invalid'], notAfter: new Date('2026-02-01') });
  for (const selector of [0, 1]) {
    for (const matchingType of [0, 1, 2]) {
      const dns = tlsa([{ usage: 3, selector, matchingType, data: association(cert, selector, matchingType) }]);
      const verdict = await verifyServer(facts([cert]), { anchors: noAnchors, now: NOW, dns });
      const label = `3 ${selector} ${matchingType}`;
      assert.equal(verdict.trusted, true, label);
      assert.equal(verdict.prooftype, 'dane-ee', label);
      assert.equal(verdict.identity, 'tlsa:_5223._tcp.hosting.example.net', label);
      assert.equal(verdict.delegation, `dnssec-srv:${RECORD}`, label);
      assert.equal(verdict.decision, null);
      assert.deepEqual(
        verdict.tried.map((a) => [a.prooftype, a.ok]),
        [['dane-ee', true]],
        label,
      );
      assert.match(verdict.tried[0]?.detail ?? '', /names and dates not checked/);
      assert.deepEqual(dns.asked, ['_5223._tcp.hosting.example.net']);
    }
  }
});

test('DANE-TA (2): the anchor in the chain, a valid path to it, the SRV target or the domain named', async () => {
  const ta = await makeCertificate({ cn: 'Private TA', ca: true });
  const leaf = await makeCertificate({ cn: 'hosting.example.net', dnsNames: ['hosting.example.net'], issuer: ta });
  for (const [selector, matchingType] of [
    [0, 0],
    [0, 1],
    [0, 2],
    [1, 0],
    [1, 1],
    [1, 2],
  ] as const) {
    const dns = tlsa([{ usage: 2, selector, matchingType, data: association(ta, selector, matchingType) }]);
    const verdict = await verifyServer(facts([leaf, ta]), { anchors: noAnchors, now: NOW, dns });
    assert.equal(verdict.prooftype, 'dane-ta', `2 ${selector} ${matchingType}`);
    assert.equal(verdict.identity, 'dns-id:hosting.example.net');
    assert.equal(verdict.delegation, `dnssec-srv:${RECORD}`);
  }
  // The domain's own name needs no delegation.
  const forDomain = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: ta });
  const own = await verifyServer(facts([forDomain, ta]), {
    anchors: noAnchors,
    now: NOW,
    dns: tlsa([{ usage: 2, selector: 1, matchingType: 1, data: association(ta, 1, 1) }]),
  });
  assert.equal(own.prooftype, 'dane-ta');
  assert.equal(own.delegation, null);
  // 2 0 0 carries the whole anchor: it need not be in the chain.
  const full = await verifyServer(facts([leaf]), {
    anchors: noAnchors,
    now: NOW,
    dns: tlsa([{ usage: 2, selector: 0, matchingType: 0, data: ta.der }]),
  });
  assert.equal(full.prooftype, 'dane-ta');
});

test('DANE-TA refusals: anchor missing from the chain, a name nobody asked for, an expired leaf', async () => {
  const ta = await makeCertificate({ cn: 'Private TA', ca: true });
  const leaf = await makeCertificate({ cn: 'hosting.example.net', dnsNames: ['hosting.example.net'], issuer: ta });
  const record = { usage: 2, selector: 1, matchingType: 1, data: association(ta, 1, 1) };
  const missing = await verifyServer(facts([leaf]), { anchors: noAnchors, now: NOW, dns: tlsa([record]) });
  assert.equal(missing.trusted, false);
  assert.equal(missing.error?.code, 'dane-mismatch');
  assert.equal(missing.decision, null);
  assert.match(missing.tried[0]?.detail ?? '', /needs the anchor in the chain/);
  const other = await makeCertificate({ cn: 'other.test', dnsNames: ['other.test'], issuer: ta });
  const wrongName = await verifyServer(facts([other, ta]), { anchors: noAnchors, now: NOW, dns: tlsa([record]) });
  assert.equal(wrongName.error?.code, 'dane-mismatch');
  assert.match(wrongName.tried[0]?.detail ?? '', /does not name alpha\.test or hosting\.example\.net/);
  const expired = await makeCertificate({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
    issuer: ta,
    notAfter: new Date('2026-06-01'),
  });
  const old = await verifyServer(facts([expired, ta]), { anchors: noAnchors, now: NOW, dns: tlsa([record]) });
  assert.equal(old.error?.code, 'dane-mismatch');
  assert.match(old.tried[0]?.detail ?? '', /expired/);
});

test('DANE-TA: an intermediate below the anchor with an unknown critical extension is refused (RFC 5280 §6.1.4 (o))', async () => {
  const ta = await makeCertificate({ cn: 'Private TA', ca: true });
  const odd = await makeCertificate({ cn: 'Odd Intermediate', ca: true, issuer: ta, unknownCriticalExtension: true });
  const leaf = await makeCertificate({ cn: 'hosting.example.net', dnsNames: ['hosting.example.net'], issuer: odd });
  const verdict = await verifyServer(facts([leaf, odd, ta]), {
    anchors: noAnchors,
    now: NOW,
    dns: tlsa([{ usage: 2, selector: 1, matchingType: 1, data: association(ta, 1, 1) }]),
  });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'dane-mismatch');
  assert.match(
    verdict.tried[0]?.detail ?? '',
    /CN=Odd Intermediate, an intermediate authority on the path, has a critical extension/,
  );
});

test('PKIX-EE (1) and PKIX-TA (0): a PKIX-valid path and a record for the leaf, or for a CA on the path', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  for (const matchingType of [0, 1, 2]) {
    for (const selector of [0, 1]) {
      const ee = await verifyServer(facts([leaf, intermediate]), {
        anchors,
        now: NOW,
        dns: tlsa([{ usage: 1, selector, matchingType, data: association(leaf, selector, matchingType) }]),
      });
      assert.equal(ee.prooftype, 'pkix-ee', `1 ${selector} ${matchingType}`);
      assert.equal(ee.identity, 'dns-id:hosting.example.net');
      for (const ca of [intermediate, root]) {
        const ta = await verifyServer(facts([leaf, intermediate]), {
          anchors,
          now: NOW,
          dns: tlsa([{ usage: 0, selector, matchingType, data: association(ca, selector, matchingType) }]),
        });
        assert.equal(ta.prooftype, 'pkix-ta', `0 ${selector} ${matchingType}`);
      }
    }
  }
  // PKIX-TA naming the leaf, or PKIX-EE naming a CA: no match, refused.
  const wrongPlace = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    dns: tlsa([{ usage: 0, selector: 1, matchingType: 1, data: association(leaf, 1, 1) }]),
  });
  assert.equal(wrongPlace.error?.code, 'dane-mismatch');
  // A record for the leaf, but the chain does not validate with our anchors: refused, no decision.
  const invalid = await verifyServer(facts([leaf, intermediate]), {
    anchors: noAnchors,
    now: NOW,
    dns: tlsa([{ usage: 1, selector: 1, matchingType: 1, data: association(leaf, 1, 1) }]),
  });
  assert.equal(invalid.trusted, false);
  assert.equal(invalid.error?.code, 'dane-mismatch');
  assert.equal(invalid.decision, null);
  assert.match(invalid.tried[0]?.detail ?? '', /PKIX chain is not valid/);
});

test('a usable TLSA record that does not match: refused, no PKIX fallback, no decision, not even for a pin or accept-once', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const stranger = await makeCertificate({ cn: 'stranger' });
  const dns = tlsa([{ usage: 3, selector: 1, matchingType: 1, data: association(stranger, 1, 1) }]);
  const spki = createHash('sha256').update(parseCertificate(leaf.der).spki).digest('hex');
  const verdict = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    dns,
    pins: [{ spkiSha256: spki }],
    acceptOnce: new Set([spki]),
  });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.decision, null);
  assert.equal(verdict.error?.code, 'dane-mismatch');
  assert.match(
    verdict.error?.message ?? '',
    /^hosting\.example\.net presented a certificate that does not match alpha\.test's DNSSEC-signed DANE records \(_5223\._tcp\.hosting\.example\.net\)\. .*cannot be overridden/,
  );
  assert.deepEqual(
    verdict.tried.map((a) => [a.prooftype, a.ok]),
    [['dane-ee', false]],
  );
  assert.match(verdict.tried[0]?.detail ?? '', /TLSA 3 1 1 did not match the end-entity key/);
});

test('one matching record among non-matching and unusable ones is enough', async () => {
  const cert = await makeCertificate({ cn: 'x' });
  const stranger = await makeCertificate({ cn: 'stranger' });
  const dns = tlsa([
    { usage: 4, selector: 1, matchingType: 1, data: association(cert, 1, 1) },
    { usage: 3, selector: 1, matchingType: 1, data: association(stranger, 1, 1) },
    { usage: 3, selector: 0, matchingType: 2, data: association(cert, 0, 2) },
  ]);
  const verdict = await verifyServer(facts([cert]), { anchors: noAnchors, now: NOW, dns });
  assert.equal(verdict.prooftype, 'dane-ee');
});

test('only unusable records (unknown usage, selector, matching type, wrong digest size): DANE does not apply, PKIX decides', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const dns = tlsa([
    { usage: 4, selector: 1, matchingType: 1, data: association(leaf, 1, 1) },
    { usage: 3, selector: 2, matchingType: 1, data: association(leaf, 1, 1) },
    { usage: 3, selector: 1, matchingType: 3, data: association(leaf, 1, 1) },
    { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(20) },
  ]);
  const verdict = await verifyServer(facts([leaf, intermediate]), { anchors, now: NOW, dns });
  assert.equal(verdict.prooftype, 'pkix');
  assert.deepEqual(
    verdict.tried.map((a) => a.ok),
    [false, true],
  );
  assert.match(verdict.tried[0]?.detail ?? '', /4 TLSA record\(s\), none usable/);
});

test('a TLSA answer from an insecure zone is ignored (tried says so), and PKIX or the person decides', async () => {
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const dns = tlsa([{ usage: 3, selector: 1, matchingType: 1, data: association(self, 1, 1) }], 'insecure');
  const verdict = await verifyServer(facts([self]), { anchors: noAnchors, now: NOW, dns });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'self-signed');
  assert.equal(verdict.decision, 'unproven');
  assert.deepEqual(
    verdict.tried.map((a) => [a.prooftype, a.ok]),
    [
      ['dane-ee', false],
      ['pkix', false],
    ],
  );
  assert.match(verdict.tried[0]?.detail ?? '', /1 TLSA record\(s\) ignored: the answer is not DNSSEC-signed/);
});

test('no TLSA records (secure denial): DANE does not apply', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    dns: tlsa([], 'secure', 'NXDOMAIN'),
  });
  assert.equal(verdict.prooftype, 'pkix');
  assert.match(verdict.tried[0]?.detail ?? '', /no TLSA records \(DNSSEC-signed denial\)/);
});

test('a bogus TLSA answer, or a failed lookup: refused, no decision, even when PKIX would pass', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const bogus = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    dns: tlsa([], 'bogus', 'SERVFAIL'),
  });
  assert.equal(bogus.trusted, false);
  assert.equal(bogus.decision, null);
  assert.equal(bogus.error?.code, 'dnssec-bogus');
  assert.match(bogus.error?.message ?? '', /DNSSEC signatures on the DANE \(TLSA\) records of hosting\.example\.net/);
  const failing: TlsaResolver = {
    async query() {
      throw new SecurityError('dns-timeout', 'No answer from the DNS server 127.0.0.1:53.');
    },
  };
  const timeout = await verifyServer(facts([leaf, intermediate]), { anchors, now: NOW, dns: failing });
  assert.equal(timeout.trusted, false);
  assert.equal(timeout.decision, null);
  assert.equal(timeout.error?.code, 'dane-lookup-failed');
  const refused = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    dns: tlsa([], 'insecure', 'REFUSED'),
  });
  assert.equal(refused.error?.code, 'dane-lookup-failed');
});

test('no TLSA lookup unless the candidate came from a DNSSEC-secure SRV answer', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  for (const candidate of [
    { dnssec: 'insecure' as const },
    { source: 'default' as const, host: 'alpha.test' },
    { source: 'host-meta' as const },
  ]) {
    const dns = tlsa([{ usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32) }]);
    const verdict = await verifyServer(facts([leaf, intermediate], candidate), { anchors, now: NOW, dns });
    assert.equal(verdict.prooftype, 'pkix', JSON.stringify(candidate));
    assert.deepEqual(dns.asked, []);
    assert.equal(verdict.tried.length, 1);
  }
});

test('QUIC asks for _port._udp', async () => {
  const cert = await makeCertificate({ cn: 'x' });
  const dns = tlsa([{ usage: 3, selector: 1, matchingType: 1, data: association(cert, 1, 1) }]);
  const verdict = await verifyServer(facts([cert], { source: 'srv:_xmppq-client._udp', port: 443 }, 'quic'), {
    anchors: noAnchors,
    now: NOW,
    dns,
  });
  assert.equal(verdict.prooftype, 'dane-ee');
  assert.deepEqual(dns.asked, ['_443._udp.hosting.example.net']);
});

test('tlsaMatches: null for unusable parameters, exact comparison otherwise', () => {
  const der = new Uint8Array([1, 2, 3]);
  const spki = new Uint8Array([4, 5]);
  assert.equal(tlsaMatches({ selector: 0, matchingType: 0, data: der }, der, spki), true);
  assert.equal(tlsaMatches({ selector: 1, matchingType: 0, data: der }, der, spki), false);
  assert.equal(tlsaMatches({ selector: 2, matchingType: 0, data: der }, der, spki), null);
  assert.equal(tlsaMatches({ selector: 0, matchingType: 9, data: der }, der, spki), null);
  assert.equal(tlsaMatches({ selector: 0, matchingType: 1, data: new Uint8Array(31) }, der, spki), null);
});
