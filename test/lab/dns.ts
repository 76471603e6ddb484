import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, run } from './managedProcess.ts';
import { waitUntil } from './waitUntil.ts';
import { dnsQuery } from './dnsQuery.ts';
import { renderZone, type Zone } from './zones.ts';
import { signZone } from './dnssec.ts';

export interface DnsOptions {
  readonly labDir: string;
  readonly authoritativePort: number;
  readonly resolverPort: number;
  readonly zones: readonly Zone[];
  /**
   * Further DS or DNSKEY records in presentation format, given to unbound as `trust-anchor:`. The
   * DS of every zone signed here (`signing` 'signed' or 'bogus') is added to these.
   */
  readonly trustAnchors?: readonly string[];
}

export interface LabDns {
  readonly nsd: ManagedProcess;
  readonly unbound: ManagedProcess;
  /** Every trust anchor unbound was given (the DS records of the signed zones), one line each. */
  readonly trustAnchors: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts nsd (authoritative for the lab zones) and unbound (the resolver the client is pointed
 * at, with stub zones to nsd, validating with the DS of each signed zone as trust anchor), both
 * in the foreground as process-group leaders, both configured only from files in `<labDir>/dns`.
 * Zones are signed first with fresh keys (dnssec.ts). Resolves once unbound answers for every zone.
 */
export async function startDns(opts: DnsOptions): Promise<LabDns> {
  const dir = join(opts.labDir, 'dns');
  await mkdir(dir, { recursive: true });
  const zoneFiles = new Map<string, string>();
  const anchors = [...(opts.trustAnchors ?? [])];
  await Promise.all(
    opts.zones.map(async (zone) => {
      const file = join(dir, `${zone.origin}.zone`);
      await writeFile(file, renderZone(zone));
      if (zone.signing === 'unsigned') {
        zoneFiles.set(zone.origin, file);
        return;
      }
      const signed = await signZone(dir, zone.origin, file, { bogus: zone.signing === 'bogus' });
      zoneFiles.set(zone.origin, signed.zoneFile);
      anchors.push(signed.ds);
    }),
  );
  anchors.sort(); // stable config text whatever order the signing finished in
  const nsdConf = join(dir, 'nsd.conf');
  const unboundConf = join(dir, 'unbound.conf');
  await writeFile(nsdConf, nsdConfig(dir, opts, zoneFiles));
  await writeFile(unboundConf, unboundConfig(dir, opts, anchors));
  await run('nsd-checkconf', [nsdConf], 'checking the nsd config');
  await run('unbound-checkconf', [unboundConf], 'checking the unbound config');

  const started: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((p) => p.stop()));
  };
  try {
    const nsd = new ManagedProcess('nsd', 'nsd', ['-d', '-c', nsdConf], join(dir, 'nsd.out'));
    started.push(nsd);
    const unbound = new ManagedProcess('unbound', 'unbound', ['-d', '-c', unboundConf], join(dir, 'unbound.out'));
    started.push(unbound);

    const authoritative = `127.0.0.1:${opts.authoritativePort}`;
    const resolver = `127.0.0.1:${opts.resolverPort}`;
    await Promise.all(
      opts.zones.map((zone) =>
        waitUntil(
          `nsd answering SOA ${zone.origin} on ${authoritative}`,
          async () => (await dnsQuery(authoritative, zone.origin, 'SOA', { timeoutMs: 300 })).packet.flag_aa,
          { server: nsd, extraLogs: [join(dir, 'nsd.log')] },
        ),
      ),
    );
    await Promise.all(
      opts.zones.map((zone) =>
        waitUntil(
          `unbound resolving SOA ${zone.origin} on ${resolver}`,
          async () => {
            const reply = await dnsQuery(resolver, zone.origin, 'SOA', { timeoutMs: 300 });
            return reply.rcode === 'NOERROR' && (reply.packet.answers?.length ?? 0) > 0;
          },
          { server: unbound, extraLogs: [join(dir, 'unbound.log')] },
        ),
      ),
    );
    return { nsd, unbound, trustAnchors: anchors, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function nsdConfig(dir: string, opts: DnsOptions, zoneFiles: ReadonlyMap<string, string>): string {
  const lines = [
    'server:',
    `  ip-address: 127.0.0.1@${opts.authoritativePort}`,
    `  port: ${opts.authoritativePort}`,
    '  do-ip4: yes',
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    '  database: ""',
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  xfrdir: "${dir}"`,
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  server-count: 1',
    '  verbosity: 1',
    '  hide-version: yes',
    'remote-control:',
    '  control-enable: no',
  ];
  for (const zone of opts.zones)
    lines.push('zone:', `  name: "${zone.origin}"`, `  zonefile: "${zoneFiles.get(zone.origin)}"`);
  return lines.join('\n') + '\n';
}

function unboundConfig(dir: string, opts: DnsOptions, trustAnchors: readonly string[]): string {
  const lines = [
    'server:',
    `  interface: 127.0.0.1@${opts.resolverPort}`,
    `  port: ${opts.resolverPort}`,
    '  do-ip4: yes',
    '  do-ip6: no',
    '  do-udp: yes',
    '  do-tcp: yes',
    '  access-control: 127.0.0.0/8 allow',
    // Runs as root in the foreground, no chroot, everything in the lab dir.
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    `  logfile: "${join(dir, 'unbound.log')}"`,
    '  verbosity: 1',
    '  num-threads: 1',
    '  so-reuseport: no',
    '  outgoing-range: 64',
    // Source ports only from the kernel's ephemeral range, never a lab listening port.
    '  outgoing-port-avoid: 0-32767',
    '  outgoing-port-avoid: 61000-65535',
    // nsd is on 127.0.0.1; unbound refuses to query localhost unless told.
    '  do-not-query-localhost: no',
    '  cache-max-ttl: 60',
    '  cache-max-negative-ttl: 5',
    '  qname-minimisation: no',
    // RFC 4035 §4.3: a validating resolver. Each signed lab zone is an island of trust whose DS is
    // configured statically below (no auto-trust-anchor-file: keys are fresh every run); zones
    // without an anchor above them are insecure, and a signed zone that fails validation is bogus,
    // which unbound answers with SERVFAIL since permissive mode is off.
    '  module-config: "validator iterator"',
    '  val-permissive-mode: no',
    // A bogus answer is cached this long; short, so a restarted zone is seen soon.
    '  val-bogus-ttl: 5',
  ];
  for (const anchor of trustAnchors) lines.push(`  trust-anchor: "${anchor}"`);
  // RFC 6761 §6.2: .test is special-use and unbound answers it locally by default;
  // "transparent" lets the stub zones through.
  for (const zone of opts.zones) lines.push(`  local-zone: "${zone.origin}." transparent`);
  lines.push('remote-control:', '  control-enable: no');
  for (const zone of opts.zones) {
    lines.push('stub-zone:', `  name: "${zone.origin}."`, `  stub-addr: 127.0.0.1@${opts.authoritativePort}`);
  }
  return lines.join('\n') + '\n';
}
