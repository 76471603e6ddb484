import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import tls from 'node:tls';
import { once } from 'node:events';
import { probeCandidate, probeDomain, type ProbeDeps } from '../../../app/connect/probe.ts';
import { formatReport } from '../../../app/cli/probe.ts';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { SrvResolver } from '../../../app/connect/discovery.ts';
import type { Verdict } from '../../../app/contract/viewModels.ts';
import { makeCertificate, toPem } from '../security/certFactory.ts';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import { testCertificate } from '../../support/quicPair.ts';
import { TRUSTED, verdict } from '../../support/verdicts.ts';

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

test('QUIC candidates are probed, not reported as unavailable: one with no address is its own error', async () => {
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
      result: {
        ok: false,
        prooftype: null,
        identity: null,
        error: 'The server name quic.example.org has no address in DNS.',
        features: null,
        quic: null,
      },
    },
  ]);
  assert.deepEqual(resolved, ['quic.example.org']);
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
    features: null,
    quic: null,
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

test('the table: one row per candidate, errors under their row, QUIC facts and features under verified rows, notes last', () => {
  const features = {
    namespaces: ['urn:ietf:params:xml:ns:xmpp-sasl', 'urn:xmpp:sm:3'],
    starttls: false,
    mechanisms: ['SCRAM-SHA-1', 'PLAIN'],
    sasl2Mechanisms: [],
    bind2: false,
    sm: true,
  };
  const text = formatReport({
    domain: 'example.org',
    candidates: [
      {
        transport: 'quic',
        host: 'xmpp.example.org',
        port: 443,
        priority: 0,
        weight: 0,
        source: 'srv:_xmppq-client._udp',
        dnssec: 'secure',
        result: {
          ok: true,
          prooftype: 'dane-ee',
          identity: 'tlsa:_443._udp.xmpp.example.org',
          error: null,
          features,
          quic: {
            version: 'QUIC v1',
            tlsVersion: 'TLSv1.3',
            cipher: 'TLS_AES_128_GCM_SHA256',
            alpn: 'xmpp-client',
            sni: 'example.org',
            pathMtu: 1452,
            ech: 'not available',
            remoteAddress: '192.0.2.1:443',
          },
        },
      },
      {
        transport: 'tls',
        host: 'xmpp.example.org',
        port: 5223,
        priority: 0,
        weight: 5,
        source: 'srv:_xmpps-client._tcp',
        dnssec: 'secure',
        result: {
          ok: true,
          prooftype: 'dane-ee',
          identity: 'tlsa:_5223._tcp.xmpp.example.org',
          error: null,
          features,
          quic: null,
        },
      },
      {
        transport: 'quic',
        host: 'example.org',
        port: 443,
        priority: 0,
        weight: 0,
        source: 'default',
        dnssec: 'insecure',
        result: {
          ok: false,
          prooftype: null,
          identity: null,
          error: 'example.org did not answer over QUIC on UDP port 443 (192.0.2.1) within 5 s.',
          features: null,
          quic: null,
        },
      },
    ],
    problems: ['https://example.org/.well-known/host-meta.json: not published (HTTP 404)'],
  });
  assert.equal(
    text,
    [
      'quiver probe example.org',
      '#  transport  host:port              prio  weight  source                  DNSSEC    result',
      '1  quic       xmpp.example.org:443   0     0       srv:_xmppq-client._udp  secure    verified by dane-ee (tlsa:_443._udp.xmpp.example.org)',
      '   QUIC v1 (TLSv1.3, TLS_AES_128_GCM_SHA256), ALPN xmpp-client, SNI example.org, path MTU 1452 bytes, ECH not available, 192.0.2.1:443',
      '   features: SASL SCRAM-SHA-1 PLAIN; stream management',
      '2  tls        xmpp.example.org:5223  0     5       srv:_xmpps-client._tcp  secure    verified by dane-ee (tlsa:_5223._tcp.xmpp.example.org)',
      '   features: SASL SCRAM-SHA-1 PLAIN; stream management',
      '3  quic       example.org:443        0     0       default                 insecure  FAILED',
      '   -> example.org did not answer over QUIC on UDP port 443 (192.0.2.1) within 5 s.',
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
/** TLS_FEATURES as the probe reports them. */
const SCRAM_FEATURES = {
  namespaces: ['urn:ietf:params:xml:ns:xmpp-sasl'],
  starttls: false,
  mechanisms: ['SCRAM-SHA-256'],
  sasl2Mechanisms: [],
  bind2: false,
  sm: false,
};

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

const trusted = async (): Promise<Verdict> => TRUSTED;

/** What probing a candidate that logs in over TLS, with the fake verifier trusting it, reports. */
const TRUSTED_RESULT = {
  ok: true,
  prooftype: 'pkix',
  identity: 'dns-id:example.org',
  error: null,
  features: SCRAM_FEATURES,
  quic: null,
};

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
  assert.deepEqual(result, TRUSTED_RESULT);
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
  assert.deepEqual(result, TRUSTED_RESULT);
  // Only the broken address: its TLS failure is the error.
  const onlyBroken = await probeCandidate(
    'example.org',
    { ...candidate, ips: ['127.0.0.2'] },
    { ...deps(async () => nxdomain), verify: trusted },
  );
  assert.equal(onlyBroken.ok, false);
  assert.match(onlyBroken.error ?? '', /TLS/);
});

/**
 * An XMPP server over QUIC on 127.0.0.1 (XEP-0467: ALPN xmpp-client, one bidirectional stream per
 * XMPP stream): answers each stream header with TLS_FEATURES and the close with its own.
 */
async function quicServer(t: TestContext): Promise<{ port: number; connections: () => number; streams: () => number }> {
  const ep = await QuicEndpoint.bind();
  let connections = 0;
  let streams = 0;
  ep.listen({
    alpn: ['xmpp-client'],
    ...testCertificate(),
    onConnection: (conn) => {
      connections++;
      conn.on('stream', (stream: QuicStreamHandle) => {
        streams++;
        let text = '';
        stream.on('data', (chunk: Uint8Array) => {
          text += new TextDecoder().decode(chunk);
          if (text.includes('<stream:stream')) {
            text = text.replace(/<\?xml[^>]*>|<stream:stream[^>]*>/g, '');
            stream.write(new TextEncoder().encode(HEADER + TLS_FEATURES));
          }
          if (text.includes('</stream:stream>')) stream.write(new TextEncoder().encode('</stream:stream>'));
        });
        stream.on('end', () => stream.end());
      });
    },
  });
  t.after(() => ep.close());
  return { port: ep.address.port, connections: () => connections, streams: () => streams };
}

test('QUIC: each candidate is verified by the one verifier on a connection of its own, with the handshake facts and the features', async (t) => {
  const server = await quicServer(t);
  const seen: { transport: string; domain: string; sni: string; alpn: string | null; chain: number }[] = [];
  const report = await probeDomain('example.org', {
    dns: {
      srv: async (name) =>
        name.startsWith('_xmppq-client')
          ? {
              rcode: 'NOERROR',
              records: [
                { priority: 0, weight: 0, port: server.port, target: 'q1.example.org' },
                { priority: 1, weight: 0, port: server.port, target: 'q2.example.org' },
              ],
              dnssec: 'insecure',
            }
          : nxdomain,
    },
    // Both names reach the same QUIC endpoint: the account pool would share one connection.
    hosts: { resolve: async () => ['127.0.0.1'] },
    verify: async (facts) => {
      seen.push({
        transport: facts.transport,
        domain: facts.domain,
        sni: facts.sni,
        alpn: facts.alpn,
        chain: facts.chain.length,
      });
      return trusted();
    },
    timeoutMs: 5000,
  });
  assert.deepEqual(
    report.candidates.map((c) => `${c.transport} ${c.host}:${c.port}`),
    [`quic q1.example.org:${server.port}`, `quic q2.example.org:${server.port}`],
  );
  for (const candidate of report.candidates) {
    assert.equal(candidate.result.error, null);
    assert.equal(candidate.result.ok, true);
    assert.equal(candidate.result.prooftype, 'pkix');
    assert.equal(candidate.result.identity, 'dns-id:example.org');
    assert.deepEqual(candidate.result.features, SCRAM_FEATURES);
    const quic = candidate.result.quic!;
    assert.equal(quic.version, 'QUIC v1');
    assert.equal(quic.tlsVersion, 'TLSv1.3');
    assert.equal(quic.alpn, 'xmpp-client');
    assert.equal(quic.sni, 'example.org');
    assert.equal(quic.ech, 'not available');
    assert.ok(quic.pathMtu >= 1200, `path MTU ${quic.pathMtu}`);
    assert.equal(quic.remoteAddress, `127.0.0.1:${server.port}`);
  }
  // One full handshake per candidate, each judged by the verifier: no shared connection, no ticket.
  assert.equal(server.connections(), 2);
  assert.equal(server.streams(), 2);
  assert.deepEqual(seen, [
    { transport: 'quic', domain: 'example.org', sni: 'example.org', alpn: 'xmpp-client', chain: 1 },
    { transport: 'quic', domain: 'example.org', sni: 'example.org', alpn: 'xmpp-client', chain: 1 },
  ]);
});

test('QUIC: a server the verifier does not trust is refused with its reason, and no stream is opened', async (t) => {
  const server = await quicServer(t);
  const candidate: Candidate = {
    transport: 'quic',
    host: '127.0.0.1',
    port: server.port,
    priority: 0,
    weight: 0,
    source: 'srv:_xmppq-client._udp',
    dnssec: 'insecure',
    record: null,
  };
  const result = await probeCandidate('example.org', candidate, {
    ...deps(async () => nxdomain),
    verify: async () =>
      verdict({ error: { code: 'untrusted', message: 'example.org presented a certificate for quic.example.net.' } }),
  });
  assert.deepEqual(result, {
    ok: false,
    prooftype: null,
    identity: null,
    error: 'example.org presented a certificate for quic.example.net.',
    features: null,
    quic: null,
  });
  assert.equal(server.connections(), 1);
  assert.equal(server.streams(), 0);
});

test('QUIC: an endpoint that swallows every datagram (UDP blocked) fails within the handshake timeout, in a sentence', async (t) => {
  const blackhole = dgram.createSocket('udp4');
  let datagrams = 0;
  blackhole.on('message', () => datagrams++);
  blackhole.bind(0, '127.0.0.1');
  await once(blackhole, 'listening');
  t.after(() => blackhole.close());
  const port = blackhole.address().port;
  const candidate: Candidate = {
    transport: 'quic',
    host: 'quic.example.org',
    port,
    priority: 0,
    weight: 0,
    source: 'srv:_xmppq-client._udp',
    dnssec: 'insecure',
    record: null,
    ips: ['127.0.0.1'],
  };
  const started = performance.now();
  const result = await probeCandidate('example.org', candidate, {
    ...deps(async () => nxdomain),
    timeoutMs: 10_000,
    quicHandshakeTimeoutMs: 400,
  });
  const elapsed = performance.now() - started;
  assert.equal(result.ok, false);
  assert.equal(
    result.error,
    `example.org did not answer over QUIC on UDP port ${port} (127.0.0.1) within 400 ms. The network may block UDP, or nothing serves XMPP over QUIC there; Quiver would use the other candidates.`,
  );
  assert.ok(datagrams > 0, 'the Initial was sent');
  assert.ok(elapsed < 3000, `bounded by the handshake timeout, not the 10 s deadline (${Math.round(elapsed)} ms)`);
});
