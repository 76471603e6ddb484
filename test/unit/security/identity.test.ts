import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParsedCertificate } from '../../../app/security/certificate.ts';
import { parseCertificate } from '../../../app/security/certificate.ts';
import { matchIdentity } from '../../../app/security/identity.ts';
import { makeCertificate } from './certFactory.ts';

/** Identity matching is pure: most cases build the parsed view directly. */
function cert(
  names: Partial<ParsedCertificate['subjectAltNames']>,
  commonName: string | null = null,
): ParsedCertificate {
  return {
    der: new Uint8Array(),
    subject: commonName ? `CN=${commonName}` : '',
    issuer: '',
    subjectAltNames: { dnsNames: [], srvNames: [], xmppAddrs: [], ipAddresses: [], ...names },
    commonNames: commonName ? [commonName] : [],
    commonName,
    notBefore: new Date(0),
    notAfter: new Date(0),
    spki: new Uint8Array(),
    selfIssued: false,
  };
}

function identity(c: ParsedCertificate, domain: string, srv = true): string | null {
  const result = matchIdentity(c, srv ? { domain, srvService: 'xmpp-client' } : { domain });
  return result.ok ? result.identity : null;
}

test('DNS-ID: exact, case-insensitive, trailing dot ignored on either side', () => {
  const c = cert({ dnsNames: ['Alpha.Test.'] });
  assert.equal(identity(c, 'alpha.test'), 'dns-id:alpha.test');
  assert.equal(identity(c, 'ALPHA.TEST.'), 'dns-id:alpha.test');
  assert.equal(identity(c, 'beta.test'), null);
  assert.equal(identity(c, 'test'), null);
  assert.equal(identity(c, 'x.alpha.test'), null);
});

test('wildcards: only the whole left-most label, exactly one label', () => {
  const c = cert({ dnsNames: ['*.example.org'] });
  assert.equal(identity(c, 'a.example.org'), 'dns-id:a.example.org');
  assert.equal(identity(c, 'A.EXAMPLE.ORG'), 'dns-id:a.example.org');
  assert.equal(identity(c, 'example.org'), null);
  assert.equal(identity(c, 'a.b.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['a*.example.org'] }), 'ab.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['*a.example.org'] }), 'ba.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['f*o.example.org'] }), 'foo.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['a.*.example.org'] }), 'a.b.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['*.*.example.org'] }), 'a.b.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['*'] }), 'org'), null);
  assert.equal(identity(cert({ dnsNames: ['*.org'] }), 'example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['xn--*.example.org'] }), 'xn--bcher-kva.example.org'), null);
});

test('IDNs are compared as A-labels, whichever form each side uses', () => {
  const aLabel = cert({ dnsNames: ['xn--bcher-kva.example'] });
  assert.equal(identity(aLabel, 'bücher.example'), 'dns-id:xn--bcher-kva.example');
  assert.equal(identity(aLabel, 'BÜCHER.example'), 'dns-id:xn--bcher-kva.example');
  assert.equal(identity(aLabel, 'xn--bcher-kva.example'), 'dns-id:xn--bcher-kva.example');
  assert.equal(
    identity(cert({ dnsNames: ['*.xn--bcher-kva.example'] }), 'www.bücher.example'),
    'dns-id:www.xn--bcher-kva.example',
  );
  assert.equal(
    identity(cert({ xmppAddrs: ['bücher.example'] }), 'xn--bcher-kva.example'),
    'xmppaddr:xn--bcher-kva.example',
  );
  assert.equal(identity(aLabel, 'bucher.example'), null);
});

test('SRV-ID: _xmpp-client.<domain>, only when the service is asked for, never a wildcard', () => {
  const c = cert({ srvNames: ['_XMPP-Client.alpha.test'] });
  assert.equal(identity(c, 'alpha.test'), 'srv-id:_xmpp-client.alpha.test');
  assert.equal(identity(c, 'alpha.test', false), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-server.alpha.test'] }), 'alpha.test'), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-client.*.test'] }), 'alpha.test'), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-client.*.alpha.test'] }), 'x.alpha.test'), null);
});

test('XmppAddr: the domain exactly; no wildcards; a user JID does not name a server', () => {
  assert.equal(identity(cert({ xmppAddrs: ['Alpha.Test'] }), 'alpha.test'), 'xmppaddr:alpha.test');
  assert.equal(identity(cert({ xmppAddrs: ['*.test'] }), 'alpha.test'), null);
  assert.equal(identity(cert({ xmppAddrs: ['user@alpha.test'] }), 'alpha.test'), null);
  assert.equal(identity(cert({ xmppAddrs: ['alpha.test/resource'] }), 'alpha.test'), null);
});

test('CN only when the certificate has no DNS-ID, SRV-ID or XmppAddr', () => {
  assert.equal(identity(cert({}, 'alpha.test'), 'alpha.test'), 'cn:alpha.test');
  assert.equal(identity(cert({}, '*.test.example'), 'alpha.test.example'), 'cn:alpha.test.example');
  assert.equal(identity(cert({ dnsNames: ['other.test'] }, 'alpha.test'), 'alpha.test'), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-client.other.test'] }, 'alpha.test'), 'alpha.test'), null);
  assert.equal(identity(cert({ xmppAddrs: ['other.test'] }, 'alpha.test'), 'alpha.test'), null);
  // An iPAddress SAN is not an identifier type XMPP uses: the CN still counts.
  assert.equal(identity(cert({ ipAddresses: ['192.0.2.1'] }, 'alpha.test'), 'alpha.test'), 'cn:alpha.test');
});

test('a failed match lists what the certificate presents', () => {
  const result = matchIdentity(
    cert({ dnsNames: ['other.test'], srvNames: ['_xmpp-client.other.test'], xmppAddrs: ['other.test'] }, 'cn.test'),
    { domain: 'alpha.test', srvService: 'xmpp-client' },
  );
  assert.deepEqual(result, {
    ok: false,
    presented: ['dns:other.test', 'srv:_xmpp-client.other.test', 'xmpp:other.test'],
  });
  assert.deepEqual(matchIdentity(cert({}, 'other.test'), { domain: 'alpha.test' }), {
    ok: false,
    presented: ['cn:other.test'],
  });
  assert.deepEqual(matchIdentity(cert({}), { domain: 'alpha.test' }), { ok: false, presented: [] });
});

test('names read from real certificates: otherName SANs and a CN-only certificate', async () => {
  const full = parseCertificate(
    (await makeCertificate({ cn: 'ignored.test', srvNames: ['_xmpp-client.alpha.test'], xmppAddrs: ['beta.test'] }))
      .der,
  );
  assert.equal(identity(full, 'alpha.test'), 'srv-id:_xmpp-client.alpha.test');
  assert.equal(identity(full, 'beta.test'), 'xmppaddr:beta.test');
  assert.equal(identity(full, 'ignored.test'), null);
  const cnOnly = parseCertificate((await makeCertificate({ cn: 'alpha.test', o: 'Alpha' })).der);
  assert.equal(identity(cnOnly, 'alpha.test'), 'cn:alpha.test');
  const idn = parseCertificate((await makeCertificate({ cn: 'x', dnsNames: ['xn--bcher-kva.example'] })).der);
  assert.equal(identity(idn, 'bücher.example'), 'dns-id:xn--bcher-kva.example');
});

test('a dNSName with non-ASCII bytes (not IA5) matches nothing', async () => {
  const parsed = parseCertificate((await makeCertificate({ cn: 'x', dnsNames: ['bücher.example'] })).der);
  assert.equal(identity(parsed, 'bücher.example'), null);
  assert.equal(identity(parsed, 'xn--bcher-kva.example'), null);
});

test('certificate names are read as they stand: no percent-decoding, Unicode mapping or numeric IPv4 parsing', () => {
  // dNSName and the SRVName domain part: strict LDH labels (RFC 5280 §4.2.1.6, RFC 1034 §3.5).
  assert.equal(identity(cert({ dnsNames: ['ex%61mple.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ dnsNames: ['*.ex%61mple.org'] }), 'xmpp.example.org'), null);
  assert.equal(identity(cert({ dnsNames: ['ex\u00adample.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ dnsNames: ['exa mple.com'] }), 'exa mple.com'), null);
  assert.equal(identity(cert({ dnsNames: ['-alpha.test'] }), '-alpha.test'), null);
  assert.equal(identity(cert({ dnsNames: ['alpha_x.test'] }), 'alpha_x.test'), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-client.ex%61mple.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ srvNames: ['_xmpp-client.ex\u00adample.com'] }), 'example.com'), null);
  // XmppAddr (UTF8String): no %, no format characters, no characters IDNA would map.
  assert.equal(identity(cert({ xmppAddrs: ['ex%61mple.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ xmppAddrs: ['ex\u00adample.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ xmppAddrs: ['exa\u200dmple.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ xmppAddrs: ['\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com'] }), 'example.com'), null);
  assert.equal(identity(cert({ xmppAddrs: ['example\u3002com'] }), 'example.com'), null);
  // The CN fallback follows the dNSName rules.
  assert.equal(identity(cert({}, 'ex%61mple.com'), 'example.com'), null);
  // Still matched: plain LDH in any case, and a real U-label in an XmppAddr.
  assert.equal(identity(cert({ xmppAddrs: ['EXAMPLE.COM'] }), 'example.com'), 'xmppaddr:example.com');
  assert.equal(
    identity(cert({ xmppAddrs: ['BÜCHER.example'] }), 'xn--bcher-kva.example'),
    'xmppaddr:xn--bcher-kva.example',
  );
  assert.equal(
    identity(cert({ srvNames: ['_XMPP-CLIENT.example.com'] }), 'example.com'),
    'srv-id:_xmpp-client.example.com',
  );
});

test('numeric names match nothing; an IP-literal domain matches only an iPAddress entry', () => {
  assert.equal(identity(cert({ dnsNames: ['0x7f.1'] }), '127.0.0.1'), null);
  assert.equal(identity(cert({ dnsNames: ['127.0.0.1'] }), '127.0.0.1'), null);
  assert.equal(identity(cert({ xmppAddrs: ['127.0.0.1'] }), '127.0.0.1'), null);
  assert.equal(identity(cert({}, '127.0.0.1'), '127.0.0.1'), null);
  assert.equal(identity(cert({ dnsNames: ['alpha.123'] }), 'alpha.123'), null);
  // A reference a URL parser would read as an address is not a domain at all.
  assert.equal(identity(cert({ dnsNames: ['0x7f.1'], ipAddresses: ['127.0.0.1'] }), '0x7f.1'), null);
  assert.equal(identity(cert({ dnsNames: ['ex%61mple.com'] }), 'ex%61mple.com'), null);
  assert.equal(identity(cert({ ipAddresses: ['127.0.0.1'] }), '127.0.0.1'), 'ip:127.0.0.1');
  assert.equal(identity(cert({ ipAddresses: ['2001:db8::1'] }), '[2001:DB8:0::1]'), 'ip:2001:db8::1');
  assert.equal(identity(cert({ ipAddresses: ['127.0.0.2'] }), '127.0.0.1'), null);
  assert.deepEqual(
    matchIdentity(cert({ dnsNames: ['127.0.0.1'], ipAddresses: ['10.0.0.1'] }), { domain: '127.0.0.1' }),
    { ok: false, presented: ['dns:127.0.0.1', 'ip:10.0.0.1'] },
  );
});

test('a match says which identifier type held and for which domain (what name constraints check)', () => {
  assert.deepEqual(
    matchIdentity(cert({ srvNames: ['_xmpp-client.Alpha.Test'] }), { domain: 'ALPHA.test', srvService: 'xmpp-client' }),
    { ok: true, identity: 'srv-id:_xmpp-client.alpha.test', type: 'srv-id', domain: 'alpha.test' },
  );
  assert.deepEqual(matchIdentity(cert({ dnsNames: ['*.test.example'] }), { domain: 'a.test.example' }), {
    ok: true,
    identity: 'dns-id:a.test.example',
    type: 'dns-id',
    domain: 'a.test.example',
  });
  assert.deepEqual(matchIdentity(cert({}, 'alpha.test'), { domain: 'alpha.test' }), {
    ok: true,
    identity: 'cn:alpha.test',
    type: 'cn',
    domain: 'alpha.test',
  });
});
