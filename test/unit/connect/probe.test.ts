import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { probeCandidate, probeDomain, type ProbeDeps } from '../../../app/connect/probe.ts';
import { QUIC_UNAVAILABLE } from '../../../app/connect/connector.ts';
import { formatReport } from '../../../app/cli/probe.ts';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { SrvResolver } from '../../../app/connect/discovery.ts';
import type { Verdict } from '../../../app/contract/viewModels.ts';
import { makeCertificate, toPem } from '../security/certFactory.ts';

const nxdomain = { rcode: 'NXDOMAIN', records: [], dnssec: 'insecure' as const };

function deps(srv: SrvResolver['srv'], resolved: string[] = []): ProbeDeps & { verified: number } {
  const result = {
    verified: 0,
    dns: { srv },
    hosts: {
      resolve: async (host: string) => {
        resolved.push(host);
        if (net.isIP(host)) return [host];
        throw new Error(`The server name ${host} has no address in DNS.`);
      },
    },
    verify: async () => {
      result.verified++;
      throw new Error('not reached');
    },
    timeoutMs: 2000,
  };
  return result;
}

test('QUIC candidates are reported as not available yet, without connecting', async () => {
  const resolved: string[] = [];
  const report = await probeDomain(
    'Example.ORG.',
    deps(
      async (name) =>
        name.startsWith('_xmppq-client')
          ? {
              rcode: 'NOERROR',
              records: [{ priority: 0, weight: 0, port: 443, target: 'quic.example.org' }],
              dnssec: 'insecure',
            }
          : nxdomain,
      resolved,
    ),
  );
  assert.equal(report.domain, 'example.org');
  assert.deepEqual(report.candidates, [
    {
      transport: 'quic',
      host: 'quic.example.org',
      port: 443,
      priority: 0,
      weight: 0,
      source: 'srv:_xmppq-client._udp',
      dnssec: 'insecure',
      result: { ok: false, prooftype: null, identity: null, error: QUIC_UNAVAILABLE },
    },
  ]);
  assert.deepEqual(resolved, []);
});

test('candidates from bogus answers are refused without resolving or connecting', async () => {
  const resolved: string[] = [];
  const report = await probeDomain(
    'bogus.example',
    deps(async () => ({ rcode: 'SERVFAIL', records: [], dnssec: 'bogus' }), resolved),
  );
  assert.equal(report.candidates.length, 2);
  for (const candidate of report.candidates) {
    assert.equal(candidate.dnssec, 'bogus');
    assert.equal(candidate.result.ok, false);
    assert.match(candidate.result.error!, /failed DNSSEC validation/);
  }
  assert.deepEqual(resolved, []);
});

test("a host that does not resolve is that candidate's error, not an exception", async () => {
  const candidate: Candidate = {
    transport: 'starttls',
    host: 'nowhere.example',
    port: 5222,
    priority: 0,
    weight: 0,
    source: 'default',
    dnssec: 'insecure',
    record: null,
  };
  const result = await probeCandidate(
    'example.org',
    candidate,
    deps(async () => nxdomain),
  );
  assert.deepEqual(result, {
    ok: false,
    prooftype: null,
    identity: null,
    error: 'The server name nowhere.example has no address in DNS.',
  });
});

/** A plain TCP "server" that answers the stream header with the given features. */
async function fakeServer(t: TestContext, features: string): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received.push(chunk);
      if (chunk.includes('<stream:stream')) {
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='x' version='1.0'>${features}`,
        );
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, received };
}

test('STARTTLS: a server that does not offer <starttls/> is refused; nothing but the stream header is sent', async (t) => {
  const { port, received } = await fakeServer(
    t,
    `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  );
  const candidate: Candidate = {
    transport: 'starttls',
    host: '127.0.0.1',
    port,
    priority: 0,
    weight: 0,
    source: 'default',
    dnssec: 'insecure',
    record: null,
  };
  const probeDeps = deps(async () => nxdomain);
  const result = await probeCandidate('example.org', candidate, probeDeps);
  assert.equal(result.ok, false);
  assert.equal(result.error, `127.0.0.1:${port} does not offer STARTTLS, and Quiver never connects without TLS.`);
  assert.equal(probeDeps.verified, 0);
  // The stream header only (RFC 6120 §4.7.1: no 'from' before TLS), then the close.
  assert.match(received.join(''), /^<\?xml version='1\.0'\?><stream:stream [^>]*to='example\.org'[^>]*version='1\.0'/);
  assert.doesNotMatch(received.join(''), /from=/);
  assert.doesNotMatch(received.join(''), /auth|PLAIN/);
});

test('STARTTLS: a stream error is reported with its condition and text', async (t) => {
  const { port } = await fakeServer(
    t,
    `<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such host</text></stream:error></stream:stream>`,
  );
  const candidate: Candidate = {
    transport: 'starttls',
    host: '127.0.0.1',
    port,
    priority: 0,
    weight: 0,
    source: 'default',
    dnssec: 'insecure',
    record: null,
    ips: ['127.0.0.1'],
  };
  const result = await probeCandidate(
    'example.org',
    candidate,
    deps(async () => nxdomain),
  );
  assert.equal(result.error, `127.0.0.1:${port} ended the stream with the error host-unknown: no such host.`);
});

test('the table: one row per candidate, errors under their row, notes last', () => {
  const text = formatReport({
    domain: 'example.org',
    candidates: [
      {
        transport: 'tls',
        host: 'xmpp.example.org',
        port: 5223,
        priority: 0,
        weight: 5,
        source: 'srv:_xmpps-client._tcp',
        dnssec: 'secure',
        result: { ok: true, prooftype: 'dane-ee', identity: 'tlsa:_5223._tcp.xmpp.example.org', error: null },
      },
      {
        transport: 'quic',
        host: 'example.org',
        port: 443,
        priority: 0,
        weight: 0,
        source: 'default',
        dnssec: 'insecure',
        result: { ok: false, prooftype: null, identity: null, error: QUIC_UNAVAILABLE },
      },
    ],
    problems: ['https://example.org/.well-known/host-meta.json: not published (HTTP 404)'],
  });
  assert.equal(
    text,
    [
      'quiver probe example.org',
      '#  transport  host:port              prio  weight  source                  DNSSEC    result',
      '1  tls        xmpp.example.org:5223  0     5       srv:_xmpps-client._tcp  secure    verified by dane-ee (tlsa:_5223._tcp.xmpp.example.org)',
      '2  quic       example.org:443        0     0       default                 insecure  FAILED',
      `   -> ${QUIC_UNAVAILABLE}`,
      'note: https://example.org/.well-known/host-meta.json: not published (HTTP 404)',
    ].join('\n'),
  );
});

/** A throwaway certificate for a scripted TLS server (the verifier is scripted: only TLS itself matters). */
async function throwawayCertificate(): Promise<{ key: string; cert: string }> {
  const now = Date.now();
  const leaf = await makeCertificate({
    cn: 'example.org',
    dnsNames: ['example.org'],
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', leaf.keys.privateKey));
  return {
    key: `-----BEGIN PRIVATE KEY-----\n${pkcs8
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .trimEnd()}\n-----END PRIVATE KEY-----\n`,
    cert: toPem(leaf.der),
  };
}

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='x' version='1.0'>`;
const STARTTLS_FEATURES = `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`;
const TLS_FEATURES = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>`;

/**
 * A scripted STARTTLS server on 127.0.0.1: plaintext stream, `<proceed/>` followed by `afterProceed`
 * in the same write, then TLS with a throwaway certificate and a real stream inside it.
 */
async function startTlsServer(
  t: TestContext,
  afterProceed: string,
): Promise<{ port: number; tlsStreams: () => number }> {
  const { key, cert } = await throwawayCertificate();
  let tlsStreams = 0;
  const server = net.createServer((socket) => {
    let plain = '';
    const onPlain = (chunk: Buffer) => {
      plain += chunk.toString('utf8');
      if (plain.includes('<stream:stream')) {
        plain = plain.replace(/<\?xml[^>]*>|<stream:stream[^>]*>/g, '');
        socket.write(HEADER + STARTTLS_FEATURES);
      }
      if (plain.includes('<starttls')) {
        socket.off('data', onPlain);
        socket.write(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>${afterProceed}`);
        const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
        secure.setEncoding('utf8');
        secure.on('data', (data: string) => {
          if (data.includes('<stream:stream')) {
            tlsStreams++;
            secure.write(HEADER + TLS_FEATURES);
          }
          if (data.includes('</stream:stream>')) secure.end('</stream:stream>');
        });
        secure.on('error', () => socket.destroy());
      }
    };
    socket.on('data', onPlain);
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, tlsStreams: () => tlsStreams };
}

const trusted = async (): Promise<Verdict> =>
  ({
    trusted: true,
    prooftype: 'pkix',
    identity: 'dns-id:example.org',
    delegation: null,
    dnssec: 'insecure',
    tried: [],
    error: null,
    decision: null,
  }) as Verdict;

test('STARTTLS: plaintext after <proceed/> fails the candidate; nothing of it is read as if it came over TLS', async (t) => {
  // An injected stream header and features (incomplete, so still in the framer), and a complete
  // injected element (parsed and queued): both must fail the candidate.
  for (const injected of [HEADER + TLS_FEATURES, STARTTLS_FEATURES, `<stream:features>`]) {
    const server = await startTlsServer(t, injected);
    const candidate: Candidate = {
      transport: 'starttls',
      host: '127.0.0.1',
      port: server.port,
      priority: 0,
      weight: 0,
      source: 'default',
      dnssec: 'insecure',
      record: null,
      ips: ['127.0.0.1'],
    };
    const result = await probeCandidate('example.org', candidate, { ...deps(async () => nxdomain), verify: trusted });
    assert.equal(result.ok, false, injected);
    assert.match(result.error ?? '', /sent unencrypted data after agreeing to STARTTLS/, injected);
    assert.equal(server.tlsStreams(), 0, 'no stream is opened over TLS');
  }
});

test('STARTTLS: whitespace after <proceed/> is allowed, and the stream over TLS starts with a fresh framer', async (t) => {
  const server = await startTlsServer(t, '\n ');
  const candidate: Candidate = {
    transport: 'starttls',
    host: '127.0.0.1',
    port: server.port,
    priority: 0,
    weight: 0,
    source: 'default',
    dnssec: 'insecure',
    record: null,
    ips: ['127.0.0.1'],
  };
  const result = await probeCandidate('example.org', candidate, { ...deps(async () => nxdomain), verify: trusted });
  assert.deepEqual(result, { ok: true, prooftype: 'pkix', identity: 'dns-id:example.org', error: null });
  assert.equal(server.tlsStreams(), 1);
});

test('direct TLS: an address where TCP connects but TLS fails does not stop the next address', async (t) => {
  const { key, cert } = await throwawayCertificate();
  const good = tls.createServer({ key, cert, ALPNProtocols: ['xmpp-client'] }, (socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      if (data.includes('<stream:stream')) socket.write(HEADER + TLS_FEATURES);
      if (data.includes('</stream:stream>')) socket.end('</stream:stream>');
    });
    socket.on('error', () => socket.destroy());
  });
  good.listen(0, '127.0.0.1');
  await once(good, 'listening');
  t.after(() => good.close());
  const port = (good.address() as net.AddressInfo).port;
  // 127.0.0.2, same port: accepts TCP and answers in plaintext, so the TLS handshake fails there.
  const broken = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  broken.listen(port, '127.0.0.2');
  await once(broken, 'listening');
  t.after(() => broken.close());
  const candidate: Candidate = {
    transport: 'tls',
    host: 'xmpp.example.org',
    port,
    priority: 0,
    weight: 0,
    source: 'srv:_xmpps-client._tcp',
    dnssec: 'insecure',
    record: null,
    ips: ['127.0.0.2', '127.0.0.1'],
  };
  const result = await probeCandidate('example.org', candidate, { ...deps(async () => nxdomain), verify: trusted });
  assert.deepEqual(result, { ok: true, prooftype: 'pkix', identity: 'dns-id:example.org', error: null });
  // Only the broken address: its TLS failure is the error.
  const onlyBroken = await probeCandidate(
    'example.org',
    { ...candidate, ips: ['127.0.0.2'] },
    { ...deps(async () => nxdomain), verify: trusted },
  );
  assert.equal(onlyBroken.ok, false);
  assert.match(onlyBroken.error ?? '', /TLS/);
});
