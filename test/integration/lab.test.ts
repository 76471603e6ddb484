// The lab itself: its DNS answers (DNSSEC, TLSA), its Prosody instances offer what the scenarios
// say with the certificate each scenario names, its HTTPS server serves the POSH and host-meta
// documents, and the accounts and rosters it creates work. These check the wiring only; what Quiver
// concludes from it is tested by the probe and connect tests.
// Run: node scripts/withLab.ts node --test test/integration/lab.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { get as httpsGet } from 'node:https';
import type { Answer, TlsaData } from 'dns-packet';
import { labFromEnv } from '../support/lab.ts';
import { dnsQuery } from '../lab/dnsQuery.ts';
import { streamFeatures, tlsStreamFeatures } from '../lab/streamProbe.ts';

const lab = labFromEnv();

type Srv = { priority: number; weight: number; port: number; target: string };

async function srv(name: string): Promise<{ rcode: string; records: Srv[] }> {
  const reply = await dnsQuery(lab.resolver, name, 'SRV');
  const records = (reply.packet.answers ?? []).filter((a) => a.type === 'SRV').map((a) => a.data as Srv);
  return { rcode: reply.rcode, records };
}

function addresses(answers: readonly Answer[] | undefined): string[] {
  return (answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
}

test('unbound resolves the SRV records of every scenario', async () => {
  for (const domain of [lab.domains.alpha, lab.domains.beta, lab.domains.wrongname]) {
    assert.deepEqual((await srv(`_xmpp-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.starttlsPort, target: `xmpp.${domain}` },
    ]);
    assert.deepEqual((await srv(`_xmpps-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.tlsPort, target: `xmpp.${domain}` },
    ]);
    const a = await dnsQuery(lab.resolver, `xmpp.${domain}`, 'A');
    assert.deepEqual(addresses(a.packet.answers), ['127.0.0.1']);
  }
  assert.deepEqual((await srv(`_xmpp-client._tcp.${lab.domains.plain}`)).records, [
    { priority: 0, weight: 5, port: lab.prosody.plainPort, target: `xmpp.${lab.domains.plain}` },
  ]);
  assert.deepEqual((await srv(`_xmpps-client._tcp.${lab.domains.plain}`)).records, []);
});

test('nosrv.test has an address but no SRV; noservice.test says "decidedly not available"', async () => {
  const none = await srv(`_xmpp-client._tcp.${lab.domains.nosrv}`);
  assert.equal(none.rcode, 'NXDOMAIN');
  assert.deepEqual(none.records, []);
  const a = await dnsQuery(lab.resolver, lab.domains.nosrv, 'A');
  assert.deepEqual(addresses(a.packet.answers), ['127.0.0.1']);
  assert.deepEqual((await srv(`_xmpp-client._tcp.${lab.domains.noservice}`)).records, [
    { priority: 0, weight: 0, port: 0, target: '.' },
  ]);
});

test('the STARTTLS port offers <starttls/> and requires it, for each TLS host', async () => {
  for (const domain of [lab.domains.alpha, lab.domains.beta, lab.domains.wrongname]) {
    const features = await streamFeatures(lab.prosody.starttlsPort, domain);
    assert.match(features, /<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]>\s*<required\s*\/>/, domain);
    // RFC 6120 §6.4.1: no SASL before TLS when TLS is required.
    assert.doesNotMatch(features, /<mechanisms/, domain);
  }
});

test("STARTTLS on the c2s port upgrades to TLS with the certificate of the stream's host", async () => {
  for (const [domain, certName] of [
    [lab.domains.beta, 'beta.test'],
    [lab.domains.wrongname, 'other.test'],
    // A hosted domain gets the provider's certificate: it names provider.test, not hosted.test.
    [lab.domains.hosted, 'provider.test'],
  ] as const) {
    const plain = connect({ host: '127.0.0.1', port: lab.prosody.starttlsPort });
    try {
      await once(plain, 'connect');
      plain.setEncoding('utf8');
      let text = '';
      let requested = false;
      const proceeded = new Promise<void>((resolve, reject) => {
        plain.on('data', (chunk: string) => {
          text += chunk;
          if (!requested && text.includes('</stream:features>')) {
            requested = true;
            plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
          }
          // RFC 6120 §5.4.2.3: the server replies <proceed/> and both sides begin the TLS handshake.
          if (/<proceed[^>]*\/>/.test(text)) {
            plain.removeAllListeners('data');
            resolve();
          }
          if (/<failure/.test(text)) reject(new Error(`STARTTLS failed: ${text}`));
        });
        plain.once('error', reject);
      });
      plain.write(
        `<stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
      );
      await proceeded;
      const secure = tlsConnect({
        socket: plain,
        servername: domain,
        ca: lab.caPem,
        checkServerIdentity: () => undefined,
      });
      await once(secure, 'secureConnect');
      assert.equal(secure.authorized, true, domain);
      assert.equal(secure.getPeerX509Certificate()?.checkHost(certName), certName, domain);
      secure.destroy();
    } finally {
      plain.destroy();
    }
  }
});

test('the plain instance offers no STARTTLS', async () => {
  const features = await streamFeatures(lab.prosody.plainPort, lab.domains.plain);
  assert.match(features, /<stream:features/);
  assert.doesNotMatch(features, /starttls/);
});

async function directTls(servername: string): Promise<{ socket: TLSSocket; features: string }> {
  return tlsStreamFeatures(lab.prosody.tlsPort, servername, { ca: lab.caPem, ALPNProtocols: ['xmpp-client'] });
}

test('direct TLS presents the alpha.test certificate for SNI alpha.test, chained to the lab CA', async () => {
  const { socket, features } = await directTls(lab.domains.alpha);
  try {
    assert.equal(socket.authorized, true); // chain to lab.caPem and DNS-ID alpha.test both checked
    assert.equal(socket.alpnProtocol, 'xmpp-client');
    const cert = socket.getPeerX509Certificate();
    assert.ok(cert);
    assert.ok(cert.checkIssued(new X509Certificate(lab.caPem)));
    assert.equal(cert.checkHost('alpha.test'), 'alpha.test');
    assert.match(features, /<mechanisms/); // authentication is offered once encrypted
  } finally {
    socket.destroy();
  }
});

test('direct TLS presents the beta.test certificate for SNI beta.test', async () => {
  const { socket } = await directTls(lab.domains.beta);
  try {
    assert.equal(socket.authorized, true);
    const cert = socket.getPeerX509Certificate();
    assert.equal(cert?.checkHost('beta.test'), 'beta.test');
    assert.equal(cert?.checkHost('alpha.test'), undefined);
  } finally {
    socket.destroy();
  }
});

test('wrongname.test presents a valid certificate for other.test', async () => {
  await assert.rejects(directTls(lab.domains.wrongname), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  const { socket } = await tlsStreamFeatures(lab.prosody.tlsPort, lab.domains.wrongname, {
    ca: lab.caPem,
    checkServerIdentity: () => undefined, // look at the certificate without the name check
  });
  try {
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerX509Certificate()?.checkHost('other.test'), 'other.test');
  } finally {
    socket.destroy();
  }
});

/** Reads from the socket until `pattern` matches the text received since the last call. */
function reader(socket: TLSSocket): (pattern: RegExp) => Promise<string> {
  let buffered = '';
  let waiting: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    waiting?.();
  });
  return (pattern) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got ${buffered}`)), 3000);
      const check = (): void => {
        const m = pattern.exec(buffered);
        if (!m) return;
        clearTimeout(timer);
        waiting = undefined;
        const upTo = m.index + m[0].length;
        resolve(buffered.slice(0, upTo));
        buffered = buffered.slice(upTo);
      };
      waiting = check;
      check();
    });
}

test('alice logs in with her lab password and has bob in her roster, subscription both', async () => {
  const { socket } = await directTls(lab.domains.alpha);
  try {
    const read = reader(socket);
    const password = lab.users['alice@alpha.test'];
    assert.ok(password);
    socket.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0alice\0${password}`).toString('base64')}</auth>`,
    );
    assert.match(await read(/<(success|failure)[\s\S]*?(\/>|<\/success>|<\/failure>)/), /<success/);
    socket.write(
      `<stream:stream to='alpha.test' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
    await read(/<\/stream:features>/);
    socket.write(
      `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>lab</resource></bind></iq>`,
    );
    assert.match(await read(/<iq[^>]*id=['"]b1['"][\s\S]*?<\/iq>/), /type=['"]result['"]/);
    socket.write(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`);
    const roster = await read(/<iq[^>]*id=['"]r1['"][\s\S]*?<\/iq>/);
    assert.match(
      roster,
      /<item[^>]*jid=['"]bob@alpha\.test['"][^>]*subscription=['"]both['"]|<item[^>]*subscription=['"]both['"][^>]*jid=['"]bob@alpha\.test['"]/,
    );
  } finally {
    socket.destroy();
  }
});

// ---- DNSSEC, delegation, DANE, POSH, host-meta (issue 3) ----

/** A query with the DO bit (RFC 4035 §3.2.1) so the resolver reports AD. */
async function secureQuery(name: string, type: 'SRV' | 'TLSA' | 'A' | 'SOA', server = lab.resolver) {
  const reply = await dnsQuery(server, name, type, { dnssecOk: true });
  const answers = (reply.packet.answers ?? []).filter((a) => a.type === type);
  return { rcode: reply.rcode, ad: reply.packet.flag_ad, answers, all: reply.packet.answers ?? [] };
}

function tlsaHex(answers: readonly Answer[]): string[] {
  return answers.flatMap((a) => {
    if (a.type !== 'TLSA') return [];
    const d: TlsaData = a.data;
    return [`${d.usage} ${d.selector} ${d.matchingType} ${Buffer.from(d.certificate).toString('hex')}`];
  });
}

test('unbound has one trust anchor (a DS) per signed zone', () => {
  const signed = Object.values(lab.scenarios)
    .filter((s) => s.signing !== 'unsigned')
    .map((s) => s.domain)
    .sort();
  assert.deepEqual(
    signed,
    [
      lab.domains.bogus,
      lab.domains.daneMismatch,
      lab.domains.dane,
      lab.domains.secureHosted,
      lab.domains.quicDane,
    ].sort(),
  );
  assert.deepEqual(
    lab.trustAnchors.map((ds) => ds.split(' ')[0]).sort(),
    signed.map((d) => `${d}.`),
  );
  for (const ds of lab.trustAnchors) assert.match(ds, /^\S+\. IN DS \d+ 13 2 [0-9a-f]{64}$/);
});

test('nsd serves the signed zones with RRSIGs', async () => {
  const reply = await secureQuery(`_xmpp-client._tcp.${lab.domains.dane}`, 'SRV', lab.authoritative);
  assert.equal(reply.rcode, 'NOERROR');
  assert.ok(
    reply.all.some((a) => a.type === 'RRSIG'),
    'RRSIG in the authoritative answer',
  );
});

test('answers from signed zones carry AD; answers from unsigned zones do not', async () => {
  for (const domain of [lab.domains.secureHosted, lab.domains.dane, lab.domains.daneMismatch]) {
    for (const service of ['_xmpp-client._tcp', '_xmpps-client._tcp']) {
      const reply = await secureQuery(`${service}.${domain}`, 'SRV');
      assert.equal(reply.rcode, 'NOERROR', `${service}.${domain}`);
      assert.equal(reply.ad, true, `${service}.${domain} should be secure`);
      assert.equal(reply.answers.length, 1, `${service}.${domain}`);
    }
  }
  // A secure denial of existence (NSEC, RFC 4035 §5.4) also carries AD.
  const none = await secureQuery(`_xmppq-client._udp.${lab.domains.dane}`, 'SRV');
  assert.equal(none.rcode, 'NXDOMAIN');
  assert.equal(none.ad, true);
  for (const domain of [lab.domains.alpha, lab.domains.hosted, lab.domains.unsignedTlsa, lab.domains.selfsigned]) {
    const reply = await secureQuery(`_xmpp-client._tcp.${domain}`, 'SRV');
    assert.equal(reply.rcode, 'NOERROR', domain);
    assert.equal(reply.ad, false, `${domain} should be insecure`);
  }
});

test('bogus.test: the SRV, A and apex answers are SERVFAIL, while its (intact) SOA validates', async () => {
  for (const [name, type] of [
    [`_xmpp-client._tcp.${lab.domains.bogus}`, 'SRV'],
    [`_xmpps-client._tcp.${lab.domains.bogus}`, 'SRV'],
    [`xmpp.${lab.domains.bogus}`, 'A'],
  ] as const) {
    const reply = await secureQuery(name, type);
    assert.equal(reply.rcode, 'SERVFAIL', `${name} ${type}`);
    assert.deepEqual(reply.answers, [], `${name} ${type}`);
  }
  const soa = await secureQuery(lab.domains.bogus, 'SOA');
  assert.equal(soa.rcode, 'NOERROR');
  assert.equal(soa.ad, true); // the anchor is right: only the signatures over the data are broken
  // The authoritative server itself still serves the records: the failure is the validator's.
  const raw = await secureQuery(`_xmpp-client._tcp.${lab.domains.bogus}`, 'SRV', lab.authoritative);
  assert.equal(raw.answers.length, 1);
});

test('hosted domains are delegated by SRV to xmpp.provider.test; hostmeta.test has no SRV', async () => {
  for (const domain of [lab.domains.hosted, lab.domains.hostedUrl, lab.domains.hostedDraft, lab.domains.secureHosted]) {
    assert.deepEqual((await srv(`_xmpp-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.starttlsPort, target: 'xmpp.provider.test' },
    ]);
    assert.deepEqual((await srv(`_xmpps-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.tlsPort, target: 'xmpp.provider.test' },
    ]);
    assert.equal(lab.scenarios[domain]?.srvTarget, 'xmpp.provider.test');
  }
  assert.deepEqual(addresses((await dnsQuery(lab.resolver, 'xmpp.provider.test', 'A')).packet.answers), ['127.0.0.1']);
  const none = await srv(`_xmpp-client._tcp.${lab.domains.hostmeta}`);
  assert.equal(none.rcode, 'NXDOMAIN');
  assert.deepEqual((await srv(`_xmpps-client._tcp.${lab.domains.hostmeta}`)).records, []);
  assert.deepEqual(addresses((await dnsQuery(lab.resolver, lab.domains.hostmeta, 'A')).packet.answers), ['127.0.0.1']);
});

test(
  'TLSA 3 1 1 on both ports: secure and matching for dane.test, secure and not matching for ' +
    'dane-mismatch.test, insecure and not matching for unsigned-tlsa.test',
  async () => {
    const cases = [
      { domain: lab.domains.dane, ad: true, matches: true },
      { domain: lab.domains.daneMismatch, ad: true, matches: false },
      { domain: lab.domains.unsignedTlsa, ad: false, matches: false },
    ];
    for (const { domain, ad, matches } of cases) {
      const spki = lab.certificates[lab.scenarios[domain]?.certificate ?? '']?.spkiSha256Hex;
      assert.ok(spki, domain);
      for (const port of [lab.prosody.starttlsPort, lab.prosody.tlsPort]) {
        // RFC 7673 §3: the TLSA base domain is the SRV target.
        const name = `_${port}._tcp.xmpp.${domain}`;
        const reply = await secureQuery(name, 'TLSA');
        assert.equal(reply.rcode, 'NOERROR', name);
        assert.equal(reply.ad, ad, name);
        const [record, ...rest] = tlsaHex(reply.answers);
        assert.deepEqual(rest, [], name);
        assert.match(record ?? '', /^3 1 1 [0-9a-f]{64}$/, name);
        assert.equal(record === `3 1 1 ${spki}`, matches, name);
      }
      assert.equal(lab.scenarios[domain]?.tlsa, matches ? 'matching' : 'not-matching');
    }
    // The key the mismatching records name is one no lab server presents.
    const decoy = lab.certificates['decoy.test']?.spkiSha256Hex;
    assert.ok(decoy);
    assert.deepEqual(
      tlsaHex((await secureQuery(`_${lab.prosody.tlsPort}._tcp.xmpp.${lab.domains.daneMismatch}`, 'TLSA')).answers),
      [`3 1 1 ${decoy}`],
    );
  },
);

/** Direct TLS to the lab's TLS port with `sni`, without verification, opening a stream to `to`. */
async function presented(
  sni: string,
  to = sni,
): Promise<{ cert: X509Certificate; authorized: boolean; error: string | null; features: string }> {
  const { socket, features } = await tlsStreamFeatures(lab.prosody.tlsPort, to, {
    servername: sni,
    ca: lab.caPem,
    ALPNProtocols: ['xmpp-client'],
    rejectUnauthorized: false,
  });
  try {
    const cert = socket.getPeerX509Certificate();
    assert.ok(cert, sni);
    const error = socket.authorizationError;
    return {
      cert,
      authorized: socket.authorized,
      error: error ? String((error as NodeJS.ErrnoException).code ?? error) : null,
      features,
    };
  } finally {
    socket.destroy();
  }
}

function derSha256(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64');
}

test("direct TLS presents, for each scenario's SNI, the certificate the scenario names", async () => {
  const served = Object.values(lab.scenarios).filter((s) => s.server === 'tls');
  assert.ok(served.length >= 14);
  await Promise.all(
    served.map(async (s) => {
      const expected = lab.certificates[s.certificate ?? ''];
      assert.ok(expected, s.domain);
      const { cert, features } = await presented(s.domain);
      assert.equal(derSha256(cert), expected.derSha256Base64, `${s.domain} presents ${s.certificate}`);
      assert.match(features, /<stream:features/, s.domain);
    }),
  );
  // The provider's alias host: SNI xmpp.provider.test gets the provider's certificate too.
  assert.equal(
    derSha256((await presented('xmpp.provider.test')).cert),
    lab.certificates['provider.test']?.derSha256Base64,
  );
});

test('PKIX outcome of each hostile certificate, as a plain TLS client sees it', async () => {
  const selfsigned = await presented(lab.domains.selfsigned);
  assert.equal(selfsigned.authorized, false);
  assert.equal(selfsigned.error, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  const dane = await presented(lab.domains.dane);
  assert.equal(dane.error, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  // DANE-EE (RFC 7671 §5.1) is about the key: the TLSA names this certificate's SPKI.
  const daneSpki = createHash('sha256')
    .update(dane.cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  assert.equal(daneSpki, lab.certificates['dane.test']?.spkiSha256Hex);

  const expired = await presented(lab.domains.expired);
  assert.equal(expired.error, 'CERT_HAS_EXPIRED');
  assert.ok(Date.parse(expired.cert.validTo) < Date.now());
  assert.ok(expired.cert.checkIssued(new X509Certificate(lab.caPem)));

  const nointermediate = await presented(lab.domains.nointermediate);
  assert.equal(nointermediate.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.ok(nointermediate.cert.checkIssued(new X509Certificate(lab.intermediateCaPem)));
  // With the intermediate supplied, the path builds: only the intermediate was missing.
  const { socket } = await tlsStreamFeatures(lab.prosody.tlsPort, lab.domains.nointermediate, {
    ca: [lab.caPem, lab.intermediateCaPem],
  });
  assert.equal(socket.authorized, true);
  socket.destroy();

  // dane-mismatch.test: PKIX alone would accept it; only the TLSA says no.
  const mismatch = await presented(lab.domains.daneMismatch);
  assert.equal(mismatch.authorized, true);
  assert.equal(mismatch.cert.checkHost(lab.domains.daneMismatch), lab.domains.daneMismatch);

  // The provider's certificate names only the provider, never a hosted domain.
  // The chain is good; Node's name check (SNI hosted.test) is what fails.
  const hosted = await presented(lab.domains.hosted);
  assert.equal(hosted.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.ok(hosted.cert.checkIssued(new X509Certificate(lab.caPem)));
  assert.equal(hosted.cert.checkHost(lab.domains.hosted), undefined);
  assert.equal(hosted.cert.checkHost('xmpp.provider.test'), 'xmpp.provider.test');
  assert.equal(hosted.cert.checkHost('provider.test'), 'provider.test');
});

/** GET https://<host>:<lab https port><path>, verified against the lab CA with SNI `host`. */
async function fetchLab(
  host: string,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      {
        host: '127.0.0.1',
        servername: host,
        port: lab.https.port,
        path,
        headers: { host: `${host}:${lab.https.port}` },
        ca: lab.caPem,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error(`no answer for https://${host}${path} within 2000 ms`)));
  });
}

const POSH = '/.well-known/posh/xmpp-client.json';

test("POSH: hosted.test and provider.test serve the SHA-256 of the provider's whole DER certificate", async () => {
  const providerCert = (await presented('xmpp.provider.test')).cert;
  for (const domain of [lab.domains.hosted, lab.domains.provider]) {
    assert.equal(lab.scenarios[domain]?.posh, `https://${domain}${POSH}`);
    const res = await fetchLab(domain, POSH);
    assert.equal(res.status, 200, domain);
    assert.equal(res.type, 'application/json');
    const doc = JSON.parse(res.body) as { fingerprints: { 'sha-256': string; 'sha-512': string }[]; expires: number };
    // RFC 7711 §3.1: fingerprints and expires.
    assert.equal(doc.fingerprints.length, 1);
    assert.equal(doc.fingerprints[0]?.['sha-256'], derSha256(providerCert));
    assert.equal(doc.fingerprints[0]?.['sha-512'], createHash('sha512').update(providerCert.raw).digest('base64'));
    assert.ok(Number.isInteger(doc.expires) && doc.expires > 0);
  }
  // The same certificate is what hosted.test's SNI gets.
  assert.equal(derSha256((await presented(lab.domains.hosted)).cert), derSha256(providerCert));
});

test('POSH: hosted-url.test serves a "url" reference to the provider\'s document', async () => {
  const res = await fetchLab(lab.domains.hostedUrl, POSH);
  assert.equal(res.status, 200);
  const doc = JSON.parse(res.body) as { url: string; expires: number };
  // RFC 7711 §3.2: the reference is an https URL.
  assert.equal(doc.url, `https://provider.test${POSH}`);
  const target = new URL(doc.url);
  const followed = await fetchLab(target.hostname, target.pathname);
  assert.equal(followed.status, 200);
  assert.ok((JSON.parse(followed.body) as { fingerprints: unknown[] }).fingerprints.length === 1);
});

test("POSH: hosted-draft.test serves its document only at the drafts' path", async () => {
  const draftPath = '/.well-known/posh._xmpp-client._tcp.json';
  assert.equal(lab.scenarios[lab.domains.hostedDraft]?.posh, `https://${lab.domains.hostedDraft}${draftPath}`);
  assert.equal((await fetchLab(lab.domains.hostedDraft, POSH)).status, 404);
  const res = await fetchLab(lab.domains.hostedDraft, draftPath);
  assert.equal(res.status, 200);
  const doc = JSON.parse(res.body) as { fingerprints: { 'sha-256': string }[] };
  assert.equal(doc.fingerprints[0]?.['sha-256'], lab.certificates['provider.test']?.derSha256Base64);
});

test('POSH is absent (404) where the scenario has none, e.g. secure-hosted.test and alpha.test', async () => {
  for (const domain of [lab.domains.secureHosted, lab.domains.alpha]) {
    assert.equal((await fetchLab(domain, POSH)).status, 404, domain);
    assert.equal(lab.scenarios[domain]?.posh, null);
  }
});

test('host-meta: hostmeta.test points a direct TLS link at the provider, which serves hostmeta.test there', async () => {
  const res = await fetchLab(lab.domains.hostmeta, '/.well-known/host-meta.json');
  assert.equal(res.status, 200);
  const doc = JSON.parse(res.body) as {
    xmpp: { ttl: number };
    links: { rel: string; port: number; ips: string[]; priority: number; weight: number; sni: string }[];
  };
  assert.ok(doc.xmpp.ttl > 0); // XEP-0487 §2.2: the "xmpp" object says this XEP is in use
  assert.deepEqual(doc.links, [
    {
      rel: 'urn:xmpp:alt-connections:tls',
      port: lab.prosody.tlsPort,
      ips: ['127.0.0.1'],
      priority: 10,
      weight: 50,
      sni: 'xmpp.provider.test',
    },
  ]);
  const [link] = doc.links;
  assert.ok(link);
  // Following the link: SNI xmpp.provider.test, stream to hostmeta.test.
  const { socket, features } = await tlsStreamFeatures(link.port, lab.domains.hostmeta, {
    host: link.ips[0],
    servername: link.sni,
    ca: lab.caPem,
    ALPNProtocols: ['xmpp-client'],
  });
  try {
    assert.equal(socket.authorized, true); // chain and the name xmpp.provider.test
    assert.equal(socket.getPeerX509Certificate()?.checkHost(lab.domains.hostmeta), undefined);
    assert.match(features, /<mechanisms/);
  } finally {
    socket.destroy();
  }
  assert.equal((await fetchLab(lab.domains.alpha, '/.well-known/host-meta.json')).status, 404);
});

test("the HTTPS server's certificate names every scenario domain and chains to the lab CA", async () => {
  for (const domain of [lab.domains.hosted, lab.domains.nosrv, lab.domains.bogus]) {
    assert.equal((await fetchLab(domain, '/nothing-here')).status, 404, domain); // TLS verified, then 404
  }
});

/** Logs `local` in with SASL PLAIN over direct TLS with `sni`, binds, returns the bound JID. */
async function login(jid: string, sni: string): Promise<string> {
  const [local, domain] = jid.split('@') as [string, string];
  const password = lab.users[jid];
  assert.ok(password, `${jid} has a lab password`);
  const { socket } = await tlsStreamFeatures(lab.prosody.tlsPort, domain, {
    servername: sni,
    ca: lab.caPem,
    ALPNProtocols: ['xmpp-client'],
    // The chain is checked; the name is not: a hosted domain's certificate names the provider, and
    // proving that delegation (POSH, secure SRV, host-meta) is the verifier's job, not the lab's.
    checkServerIdentity: () => undefined,
  });
  try {
    const read = reader(socket);
    socket.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${local}\0${password}`).toString('base64')}</auth>`,
    );
    assert.match(await read(/<(success|failure)[\s\S]*?(\/>|<\/success>|<\/failure>)/), /<success/, jid);
    socket.write(
      `<stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
    await read(/<\/stream:features>/);
    socket.write(
      `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>lab</resource></bind></iq>`,
    );
    const bound = /<jid>([^<]+)<\/jid>/.exec(await read(/<iq[^>]*id=['"]b1['"][\s\S]*?<\/iq>/));
    assert.ok(bound, jid);
    return bound[1] ?? '';
  } finally {
    socket.destroy();
  }
}

test('the scenario accounts exist; henry logs in on hosted.test and hank on hostmeta.test via the provider', async () => {
  for (const jid of [
    'henry@hosted.test',
    'hugo@hosted-url.test',
    'hilda@hosted-draft.test',
    'sam@secure-hosted.test',
    'dana@dane.test',
    'mona@dane-mismatch.test',
    'bob@bogus.test',
    'uma@unsigned-tlsa.test',
    'sid@selfsigned.test',
    'ed@expired.test',
    'nia@nointermediate.test',
    'hank@hostmeta.test',
  ]) {
    assert.equal(typeof lab.users[jid], 'string', jid);
  }
  assert.equal(await login('henry@hosted.test', lab.domains.hosted), 'henry@hosted.test/lab');
  assert.equal(await login('hank@hostmeta.test', 'xmpp.provider.test'), 'hank@hostmeta.test/lab');
});

test('each scenario states what the verifier should conclude', () => {
  const expected = (d: string) => lab.scenarios[d]?.expected;
  assert.deepEqual(expected(lab.domains.alpha), { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' });
  assert.deepEqual(expected(lab.domains.hosted), { outcome: 'trusted', prooftype: 'posh', dnssec: 'insecure' });
  assert.deepEqual(expected(lab.domains.secureHosted), { outcome: 'trusted', prooftype: 'pkix', dnssec: 'secure' });
  assert.deepEqual(expected(lab.domains.dane), { outcome: 'trusted', prooftype: 'dane-ee', dnssec: 'secure' });
  assert.deepEqual(expected(lab.domains.daneMismatch), { outcome: 'refused', prooftype: null, dnssec: 'secure' });
  assert.deepEqual(expected(lab.domains.bogus), { outcome: 'refused', prooftype: null, dnssec: 'bogus' });
  for (const d of [lab.domains.selfsigned, lab.domains.wrongname, lab.domains.expired, lab.domains.nointermediate]) {
    assert.equal(expected(d)?.outcome, 'ask', d);
  }
});
