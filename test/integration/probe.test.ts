/**
 * `quiver probe` against the lab: every scenario with an expected verdict (test/lab/scenarios.ts)
 * gets the verdict the issue asks for, through the real command, DNS (nsd + unbound, DNSSEC),
 * HTTPS (host-meta, POSH) and Prosody.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFromEnv } from '../support/lab.ts';
import { runQuiver, type CliResult } from '../support/cli.ts';

const lab = labFromEnv();

interface ProbeJson {
  domain: string;
  candidates: {
    transport: 'starttls' | 'tls' | 'quic';
    host: string;
    port: number;
    priority: number;
    weight: number;
    source: string;
    dnssec: 'secure' | 'insecure' | 'bogus';
    result: {
      ok: boolean;
      prooftype: string | null;
      identity: string | null;
      error: string | null;
      features: { mechanisms: string[] } | null;
      quic: {
        version: string;
        tlsVersion: string | null;
        cipher: string | null;
        alpn: string | null;
        sni: string;
        pathMtu: number;
        ech: string;
        remoteAddress: string;
      } | null;
    };
  }[];
}

const probe = (domain: string, ...extra: string[]): Promise<CliResult> =>
  runQuiver([
    'probe',
    domain,
    '--resolver',
    lab.resolver,
    '--ca',
    lab.caFile,
    '--https-port',
    String(lab.https.port),
    ...extra,
  ]);

async function probeJson(domain: string): Promise<{ result: CliResult; report: ProbeJson }> {
  const result = await probe(domain, '--json');
  assert.equal(result.json.length, 1, `one JSON object on stdout:\n${result.stdout}\n${result.stderr}`);
  return { result, report: result.json[0] as unknown as ProbeJson };
}

/** The public field names, exactly (the issue's JSON). */
function assertShape(report: ProbeJson): void {
  for (const candidate of report.candidates) {
    assert.deepEqual(Object.keys(candidate), [
      'transport',
      'host',
      'port',
      'priority',
      'weight',
      'source',
      'dnssec',
      'result',
    ]);
    // The fields of the first version, then what QUIC added (the stream features, the QUIC facts).
    assert.deepEqual(Object.keys(candidate.result), ['ok', 'prooftype', 'identity', 'error', 'features', 'quic']);
    assert.equal(candidate.result.ok, candidate.result.error === null);
    assert.equal(candidate.result.ok, candidate.result.features !== null);
    assert.equal(candidate.result.quic !== null, candidate.result.ok && candidate.transport === 'quic');
  }
}

for (const scenario of Object.values(lab.scenarios)) {
  const expected = scenario.expected;
  if (!expected) continue;
  test(`${scenario.domain}: ${expected.outcome}${expected.prooftype ? ` by ${expected.prooftype}` : ''} (${scenario.purpose})`, async () => {
    const { result, report } = await probeJson(scenario.domain);
    assertShape(report);
    assert.equal(report.domain, scenario.domain);
    const tcp = report.candidates.filter((c) => c.transport !== 'quic');
    assert.ok(tcp.length > 0, 'at least one TCP candidate');
    for (const candidate of tcp)
      assert.equal(candidate.dnssec, expected.dnssec, `${candidate.transport} ${candidate.host}:${candidate.port}`);
    const why = JSON.stringify(report, null, 1);
    // A QUIC scenario's QUIC row gets its own expected verdict (test/lab/scenarios.ts `quic.expected`).
    const quicExpected = scenario.quic?.expected;
    if (quicExpected?.outcome === 'trusted')
      for (const candidate of report.candidates.filter((c) => c.transport === 'quic')) {
        assert.equal(candidate.result.ok, true, why);
        assert.equal(candidate.result.prooftype, quicExpected.prooftype, why);
        assert.equal(candidate.result.quic?.alpn, 'xmpp-client', why);
      }
    switch (expected.outcome) {
      case 'trusted':
        assert.equal(result.code, 0, `${result.stderr}\n${why}`);
        for (const candidate of tcp) {
          assert.equal(candidate.result.ok, true, why);
          assert.equal(candidate.result.prooftype, expected.prooftype, why);
          assert.ok(candidate.result.identity, why);
        }
        break;
      case 'refused':
      case 'ask':
        assert.equal(result.code, 1, why);
        assert.equal(result.stderr.trim().split('\n').length, 1, 'one line on stderr');
        for (const candidate of report.candidates) {
          assert.equal(candidate.result.ok, false, why);
          assert.equal(candidate.result.prooftype, null);
          // An unproven server is the person's decision; a refusal is final and must not offer one.
          if (candidate.transport !== 'quic')
            assert.equal(/decide/.test(candidate.result.error ?? ''), expected.outcome === 'ask', why);
        }
        break;
    }
  });
}

test('alpha.test: SRV candidates for STARTTLS and direct TLS, in RFC 2782 order, with the lab ports and SRV-ID/DNS-ID identity', async () => {
  const { report } = await probeJson(lab.domains.alpha);
  const tcp = report.candidates.filter((c) => c.transport !== 'quic');
  assert.deepEqual(tcp.map((c) => `${c.transport} ${c.host}:${c.port} ${c.source}`).sort(), [
    `starttls xmpp.alpha.test:${lab.prosody.starttlsPort} srv:_xmpp-client._tcp`,
    `tls xmpp.alpha.test:${lab.prosody.tlsPort} srv:_xmpps-client._tcp`,
  ]);
  const priorities = report.candidates.map((c) => c.priority);
  assert.deepEqual(
    priorities,
    [...priorities].sort((a, b) => a - b),
  );
  for (const candidate of tcp)
    assert.match(candidate.result.identity ?? '', /^(dns-id:|xmppaddr:|srv-id:_xmpp-client\.)alpha\.test$/);
});

test('hostmeta.test: the only candidate comes from Host Meta 2, direct TLS to the sni it names', async () => {
  const { report } = await probeJson(lab.domains.hostmeta);
  assert.deepEqual(
    report.candidates.map((c) => `${c.transport} ${c.host}:${c.port} ${c.source} ${c.dnssec}`),
    [`tls xmpp.provider.test:${lab.prosody.tlsPort} host-meta insecure`],
  );
});

test('nosrv.test: nothing published, so STARTTLS on 5222 and QUIC on UDP 443 (XEP-0467); the QUIC row nobody answers ends within its handshake timeout, in a sentence', async () => {
  const started = performance.now();
  const { result, report } = await probeJson(lab.domains.nosrv);
  const elapsed = performance.now() - started;
  assert.deepEqual(
    report.candidates.map((c) => `${c.transport} ${c.host}:${c.port} ${c.source}`),
    ['starttls nosrv.test:5222 default', 'quic nosrv.test:443 default'],
  );
  assert.equal(
    report.candidates[1]!.result.error,
    'nosrv.test did not answer over QUIC on UDP port 443 (127.0.0.1) within 5 s. The network may block UDP, or nothing serves XMPP over QUIC there; Quiver would use the other candidates.',
  );
  assert.equal(result.code, 1);
  // The 5 s QUIC handshake timeout, not the 10 s per-candidate deadline (plus the process's start).
  assert.ok(elapsed < 9000, `bounded (${Math.round(elapsed)} ms)`);
});

test('alpha.test: SRV records for TCP only, so no QUIC row (UDP 443 is the default only when nothing is published), and no QUIC wait', async () => {
  const started = performance.now();
  const { result, report } = await probeJson(lab.domains.alpha);
  const elapsed = performance.now() - started;
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    report.candidates.filter((c) => c.transport === 'quic'),
    [],
  );
  assert.ok(elapsed < 5000, `no QUIC handshake waited for (${Math.round(elapsed)} ms)`);
});

/** The QUIC rows of a QUIC scenario: the `_xmppq-client._udp` SRV to the lab's gateway or blackhole. */
function quicRows(report: ProbeJson, domain: string): ProbeJson['candidates'] {
  const spec = lab.scenarios[domain]!.quic!;
  const rows = report.candidates.filter((c) => c.transport === 'quic');
  assert.deepEqual(
    rows.map((c) => `${c.host}:${c.port} ${c.source}`),
    [`${spec.srvTarget}:${spec.port} srv:_xmppq-client._udp`],
    JSON.stringify(report, null, 1),
  );
  return rows;
}

/** A verified QUIC row (XEP-0467): the prooftype, then the handshake's facts and the features over QUIC. */
function assertVerifiedQuic(row: ProbeJson['candidates'][number], domain: string, prooftype: string): void {
  const why = JSON.stringify(row, null, 1);
  assert.equal(row.result.ok, true, why);
  assert.equal(row.result.prooftype, prooftype, why);
  assert.ok(row.result.identity, why);
  assert.ok((row.result.features?.mechanisms.length ?? 0) > 0, why);
  const quic = row.result.quic!;
  assert.equal(quic.version, 'QUIC v1');
  assert.equal(quic.tlsVersion, 'TLSv1.3');
  assert.equal(quic.alpn, 'xmpp-client');
  assert.equal(quic.sni, domain);
  assert.equal(quic.ech, 'not available');
  assert.ok(quic.pathMtu >= 1200, why);
  assert.equal(quic.remoteAddress, `127.0.0.1:${lab.scenarios[domain]!.quic!.port}`);
}

test('quic-a.test: the QUIC row is verified (pkix, the gateway certificate naming quic-a.test and quic-b.test) beside the TCP rows', async () => {
  const { result, report } = await probeJson('quic-a.test');
  assertShape(report);
  assert.equal(result.code, 0, result.stderr);
  assertVerifiedQuic(quicRows(report, 'quic-a.test')[0]!, 'quic-a.test', 'pkix');
  const tcp = report.candidates.filter((c) => c.transport !== 'quic');
  assert.deepEqual(tcp.map((c) => c.transport).sort(), ['starttls', 'tls']);
  for (const row of tcp) {
    assert.equal(row.result.ok, true, JSON.stringify(row));
    assert.equal(row.result.prooftype, 'pkix');
    assert.equal(row.result.quic, null);
  }
});

test('quic-a.test without --json: the QUIC row says verified, then its QUIC facts and features', async () => {
  const result = await probe('quic-a.test');
  assert.equal(result.code, 0, result.stderr);
  const port = lab.scenarios['quic-a.test']!.quic!.port;
  assert.match(
    result.stdout,
    new RegExp(
      `\\d\\s+quic\\s+xmpp\\.quic-a\\.test:${port}\\s+\\d+\\s+\\d+\\s+srv:_xmppq-client\\._udp\\s+insecure\\s+verified by pkix \\(.+\\)\\n\\s+QUIC v1 \\(TLSv1\\.3, [^)]+\\), ALPN xmpp-client, SNI quic-a\\.test, path MTU \\d+ bytes, ECH not available, 127\\.0\\.0\\.1:${port}\\n\\s+features: SASL `,
    ),
  );
});

test('quic-dane.test: the QUIC row is verified by dane-ee (TLSA at _<port>._udp), as the TCP rows', async () => {
  const { result, report } = await probeJson('quic-dane.test');
  assertShape(report);
  assert.equal(result.code, 0, result.stderr);
  const row = quicRows(report, 'quic-dane.test')[0]!;
  assert.equal(row.dnssec, 'secure');
  assertVerifiedQuic(row, 'quic-dane.test', 'dane-ee');
  assert.match(row.result.identity ?? '', /_udp/);
  for (const tcp of report.candidates.filter((c) => c.transport !== 'quic'))
    assert.equal(tcp.result.prooftype, 'dane-ee', JSON.stringify(tcp));
});

test('udp-blocked.test: the QUIC row fails with the timeout sentence, the TCP rows verify, exit 0', async () => {
  const { result, report } = await probeJson('udp-blocked.test');
  assertShape(report);
  assert.equal(result.code, 0, result.stderr);
  const row = quicRows(report, 'udp-blocked.test')[0]!;
  assert.equal(
    row.result.error,
    `udp-blocked.test did not answer over QUIC on UDP port ${lab.udpBlackhole.port} (127.0.0.1) within 5 s. The network may block UDP, or nothing serves XMPP over QUIC there; Quiver would use the other candidates.`,
  );
  const tcp = report.candidates.filter((c) => c.transport !== 'quic');
  assert.ok(tcp.length > 0);
  for (const candidate of tcp) assert.equal(candidate.result.prooftype, 'pkix', JSON.stringify(candidate));
});

test('noservice.test: the "." target stops with "no service", exit 1, no candidates', async () => {
  const { result, report } = await probeJson(lab.domains.noservice);
  assert.equal(result.code, 1);
  assert.deepEqual(report.candidates, []);
  assert.match(result.stderr, /offers no XMPP client service/);
});

test('without --json: a readable table, one row per candidate', async () => {
  const result = await probe(lab.domains.alpha);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^quiver probe alpha\.test\n#\s+transport\s+host:port\s+prio\s+weight\s+source\s+DNSSEC\s+result\n/,
  );
  assert.match(
    result.stdout,
    new RegExp(
      `\\d\\s+tls\\s+xmpp\\.alpha\\.test:${lab.prosody.tlsPort}\\s+\\d+\\s+\\d+\\s+srv:_xmpps-client\\._tcp\\s+insecure\\s+verified by pkix`,
    ),
  );
});

test('usage errors exit 2', async () => {
  assert.equal((await runQuiver(['probe'])).code, 2);
  assert.equal((await runQuiver(['probe', 'alpha.test', 'beta.test'])).code, 2);
  assert.equal((await runQuiver(['probe', 'not a domain'])).code, 2);
  assert.equal((await runQuiver(['probe', 'alpha.test', '--resolver', 'nope'])).code, 2);
});
