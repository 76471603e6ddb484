/**
 * `quiver probe <domain>`: how Quiver would reach a domain and whether each way proves the server,
 * without logging in. A diagnostic for server operators: one JSON object with --json, a table
 * otherwise. Exit 0 when at least one candidate verified, 1 otherwise (reason on stderr).
 */
import { buildConnectDeps } from '../connect/connectDeps.ts';
import { ConnectError } from '../connect/connectError.ts';
import { probeDomain, type ProbeReport, type ProbeResult } from '../connect/probe.ts';
import { parseCommandArgs, has, httpsPortFlag, resolverFlag, UsageError } from './args.ts';
import { oneLine } from './oneLine.ts';
import { readCa } from './files.ts';
import { usageOf } from './usage.ts';
import type { CliIo } from './cliIo.ts';

const SPEC = {
  resolver: { arity: 1 },
  'resolver-validates': { arity: 0 },
  ca: { arity: 1, repeat: true },
  json: { arity: 0 },
  // Diagnostic, not in the usage text: the HTTPS port for host-meta (the lab serves it on a high port).
  'https-port': { arity: 1 },
} as const;

export async function runProbe(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, SPEC);
  if (args.help) {
    io.stdout(usageOf('probe'));
    return 0;
  }
  const [domain, ...extra] = args.positionals;
  if (!domain || extra.length > 0) throw new UsageError('probe takes exactly one domain');
  if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(domain) || domain.length > 253)
    throw new UsageError(`"${domain}" is not a domain name like example.org`);
  const resolver = resolverFlag(args);
  const httpsPort = httpsPortFlag(args);
  const json = has(args, 'json');
  const caPems = (args.flags.get('ca') ?? []).map(([file]) => readCa(file!));
  const extraCaPem = caPems.join('\n') || null;

  // `httpsPort` applies to POSH too (the lab serves HTTPS on a high port). No storage: no pins, no POSH cache.
  const deps = buildConnectDeps(
    { resolver, resolverValidates: has(args, 'resolver-validates'), extraCaPem, transport: 'auto' },
    { resolver: null, extraCaPem: null },
    () => undefined,
    { httpsPort },
  );

  let report: ProbeReport;
  try {
    report = await probeDomain(domain, {
      dns: deps.dns,
      hosts: deps.hosts,
      verify: deps.verify,
      hostMeta: deps.hostMeta,
      httpsPort,
    });
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    if (json)
      io.stdout(
        JSON.stringify({ domain: domain.toLowerCase().replace(/\.$/, ''), candidates: [], problems: [error.message] }),
      );
    else io.stdout(`${domain}: ${error.message}`);
    io.stderr(`quiver: ${oneLine(error.message)}`);
    return 1;
  }
  io.stdout(json ? JSON.stringify(report) : formatReport(report));
  if (report.candidates.some((c) => c.result.ok)) return 0;
  const first = report.candidates.find((c) => c.result.error !== null);
  io.stderr(
    `quiver: ${oneLine(first ? `no way to reach ${report.domain} was verified; the first: ${first.host}:${first.port} (${first.transport}): ${first.result.error}` : `no way to reach ${report.domain} was verified`)}`,
  );
  return 1;
}

/** Under a verified row: the QUIC handshake's facts (XEP-0467), then what the server offers. */
function details(result: ProbeResult): string[] {
  const out: string[] = [];
  const quic = result.quic;
  if (quic)
    out.push(
      `${quic.version} (${[quic.tlsVersion, quic.cipher].filter(Boolean).join(', ') || 'TLS 1.3'}), ALPN ${quic.alpn ?? '-'}, SNI ${quic.sni}, path MTU ${quic.pathMtu} bytes, ECH ${quic.ech}, ${quic.remoteAddress}`,
    );
  const features = result.features;
  if (features) {
    const offered = [
      features.mechanisms.length > 0 ? `SASL ${features.mechanisms.join(' ')}` : null,
      features.sasl2Mechanisms.length > 0 ? `SASL2 ${features.sasl2Mechanisms.join(' ')}` : null,
      features.bind2 ? 'Bind 2' : null,
      features.sm ? 'stream management' : null,
    ].filter((part): part is string => part !== null);
    out.push(`features: ${offered.length > 0 ? offered.join('; ') : '(none Quiver uses)'}`);
  }
  return out;
}

/** The report as a table a person reads: one row per candidate in the order Quiver tries them. */
export function formatReport(report: ProbeReport): string {
  const header = ['#', 'transport', 'host:port', 'prio', 'weight', 'source', 'DNSSEC', 'result'];
  const rows = report.candidates.map((c, i) => [
    String(i + 1),
    c.transport,
    `${c.host}:${c.port}`,
    String(c.priority),
    String(c.weight),
    c.source,
    c.dnssec,
    c.result.ok ? `verified by ${c.result.prooftype ?? '-'} (${c.result.identity ?? '-'})` : 'FAILED',
  ]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, col) => (col === cells.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ');
  const out = [`quiver probe ${report.domain}`, line(header)];
  const indent = ' '.repeat(widths[0]! + 2);
  report.candidates.forEach((c, i) => {
    out.push(line(rows[i]!));
    if (c.result.error) out.push(`${indent}-> ${c.result.error}`);
    for (const detail of details(c.result)) out.push(`${indent}${detail}`);
  });
  if (report.candidates.length === 0) out.push('(no candidates)');
  for (const problem of report.problems) out.push(`note: ${problem}`);
  return out.join('\n');
}
