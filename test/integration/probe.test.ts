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
    result: { ok: boolean; prooftype: string | null; identity: string | null; error: string | null };
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
    assert.deepEqual(Object.keys(candidate.result), ['ok', 'prooftype', 'identity', 'error']);
    assert.equal(candidate.result.ok, candidate.result.error === null);
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

test('nosrv.test: nothing published, so STARTTLS on 5222 and QUIC on UDP 443 (XEP-0467), QUIC reported as not available yet', async () => {
  const { result, report } = await probeJson(lab.domains.nosrv);
  assert.deepEqual(
    report.candidates.map((c) => `${c.transport} ${c.host}:${c.port} ${c.source}`),
    ['starttls nosrv.test:5222 default', 'quic nosrv.test:443 default'],
  );
  assert.equal(report.candidates[1]!.result.error, 'XMPP over QUIC is not available in this version of Quiver yet.');
  assert.equal(result.code, 1);
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
