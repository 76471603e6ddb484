import type { LabPorts } from './ports.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

/** One resource record in presentation format (RFC 1035 §5.1). */
export interface ResourceRecord {
  /** Owner name relative to the origin ("@" for the apex) or absolute with a trailing dot. */
  readonly name: string;
  readonly type: string;
  /** RDATA in presentation format, e.g. SRV "0 5 5222 xmpp.alpha.test.". */
  readonly data: string;
  readonly ttl?: number;
}

export interface Zone {
  /** Without the trailing dot: "alpha.test". */
  readonly origin: string;
  readonly records: readonly ResourceRecord[];
}

const TTL = 60;

/**
 * The zones nsd serves, one per scenario, generated from SCENARIOS and the lab's ports. A later
 * DNSSEC step signs these same zones (ldns-signzone) and adds TLSA rows; nothing else changes.
 */
export function labZones(ports: LabPorts): Zone[] {
  return SCENARIOS.map((scenario) => scenarioZone(scenario, ports));
}

function scenarioZone(s: Scenario, ports: LabPorts): Zone {
  const records: ResourceRecord[] = [
    { name: '@', type: 'SOA', data: `ns.${s.domain}. hostmaster.${s.domain}. 1 3600 600 86400 ${TTL}` },
    { name: '@', type: 'NS', data: `ns.${s.domain}.` },
    { name: 'ns', type: 'A', data: '127.0.0.1' },
    { name: '@', type: 'A', data: '127.0.0.1' },
  ];
  const target = `xmpp.${s.domain}.`;
  if (s.server !== 'none') records.push({ name: 'xmpp', type: 'A', data: '127.0.0.1' });
  const starttlsPort = s.server === 'plain' ? ports.plain : ports.starttls;
  if (s.xmppClientSrv) {
    // RFC 6120 §3.2.1: _xmpp-client._tcp SRV; priority 0, weight 5.
    records.push({ name: '_xmpp-client._tcp', type: 'SRV', data: `0 5 ${starttlsPort} ${target}` });
  }
  if (s.xmppsClientSrv && s.server === 'tls') {
    // XEP-0368 §2: "_xmpps-client._tcp" records point at a port that speaks TLS from the start.
    records.push({ name: '_xmpps-client._tcp', type: 'SRV', data: `0 5 ${ports.tls} ${target}` });
  }
  if (s.srvNotAvailable) {
    // RFC 2782: "A Target of "." means that the service is decidedly not available at this domain."
    records.push({ name: '_xmpp-client._tcp', type: 'SRV', data: '0 0 0 .' });
    records.push({ name: '_xmpps-client._tcp', type: 'SRV', data: '0 0 0 .' });
  }
  return { origin: s.domain, records };
}

/** The zone file text for nsd. */
export function renderZone(zone: Zone): string {
  const lines = [`$ORIGIN ${zone.origin}.`, `$TTL ${TTL}`];
  for (const rr of zone.records) lines.push(`${rr.name}\t${rr.ttl ?? TTL}\tIN\t${rr.type}\t${rr.data}`);
  return lines.join('\n') + '\n';
}
