import type { LabPorts } from './ports.ts';
import {
  SCENARIOS,
  srvTargetOf,
  type QuicSpec,
  type Scenario,
  type ServerRole,
  type ZoneSigning,
} from './scenarios.ts';

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
  /** How dns.ts serves it: as is, signed, or signed with broken signatures. */
  readonly signing: ZoneSigning;
}

const TTL = 60;

/**
 * The zones nsd serves, one per scenario, generated from SCENARIOS and the lab's ports.
 * `spkiSha256Hex(name)` gives the SPKI hash of a lab certificate, for TLSA records.
 */
export function labZones(ports: LabPorts, spkiSha256Hex: (certificate: string) => string): Zone[] {
  return SCENARIOS.map((scenario) => scenarioZone(scenario, ports, spkiSha256Hex));
}

function scenarioZone(s: Scenario, ports: LabPorts, spkiSha256Hex: (certificate: string) => string): Zone {
  const records: ResourceRecord[] = [
    { name: '@', type: 'SOA', data: `ns.${s.domain}. hostmaster.${s.domain}. 1 3600 600 86400 ${TTL}` },
    { name: '@', type: 'NS', data: `ns.${s.domain}.` },
    { name: 'ns', type: 'A', data: '127.0.0.1' },
    // The apex address is where HTTPS (POSH, host-meta) is fetched from.
    { name: '@', type: 'A', data: '127.0.0.1' },
  ];
  const target = srvTargetOf(s);
  const inZone = target.endsWith(`.${s.domain}`);
  if (s.server !== 'none' && inZone) {
    records.push({ name: target.slice(0, -(s.domain.length + 1)), type: 'A', data: '127.0.0.1' });
  }
  const starttlsPort =
    s.server === 'plain' ? ports.plain : s.server === 'modern' ? ports.prosody13Starttls : ports.starttls;
  const tlsPort = s.server === 'modern' ? ports.prosody13Tls : ports.tls;
  if (s.xmppClientSrv) {
    // RFC 6120 §3.2.1: _xmpp-client._tcp SRV; priority 0, weight 5.
    records.push({ name: '_xmpp-client._tcp', type: 'SRV', data: `0 5 ${starttlsPort} ${target}.` });
  }
  if (s.xmppsClientSrv && (s.server === 'tls' || s.server === 'modern')) {
    // XEP-0368 §2: "_xmpps-client._tcp" records point at a port that speaks TLS from the start.
    records.push({ name: '_xmpps-client._tcp', type: 'SRV', data: `0 5 ${tlsPort} ${target}.` });
  }
  if (s.quic) {
    // The SRV name discovery reads for XEP-0467 (app/connect/discovery.ts); priority 0, weight 5.
    const port = quicPort(s.quic, s.server, ports);
    records.push({ name: '_xmppq-client._udp', type: 'SRV', data: `0 5 ${port} ${target}.` });
  }
  if (s.srvNotAvailable) {
    // RFC 2782: "A Target of "." means that the service is decidedly not available at this domain."
    records.push({ name: '_xmpp-client._tcp', type: 'SRV', data: '0 0 0 .' });
    records.push({ name: '_xmpps-client._tcp', type: 'SRV', data: '0 0 0 .' });
  }
  if (s.tlsaSpkiOf) {
    if (!inZone) throw new TypeError(`lab: ${s.domain}: TLSA records need an SRV target inside the zone`);
    const owner = target.slice(0, -(s.domain.length + 1));
    // RFC 7673 §3: the TLSA base domain is the SRV target, prefixed "_<port>._tcp" (RFC 6698 §3).
    // 3 1 1: DANE-EE, SubjectPublicKeyInfo, SHA-256 (RFC 7671 §5.1, RFC 7218).
    const data = `3 1 1 ${spkiSha256Hex(s.tlsaSpkiOf)}`;
    records.push({ name: `_${starttlsPort}._tcp.${owner}`, type: 'TLSA', data });
    records.push({ name: `_${tlsPort}._tcp.${owner}`, type: 'TLSA', data });
  }
  if (s.quic?.tlsaSpkiOf) {
    if (!inZone) throw new TypeError(`lab: ${s.domain}: TLSA records need an SRV target inside the zone`);
    if (s.quic.endpoint !== 'gateway') throw new TypeError(`lab: ${s.domain}: QUIC TLSA records need the gateway`);
    const owner = target.slice(0, -(s.domain.length + 1));
    // RFC 7673 §3 with the QUIC candidate's transport (issue 11: "DANE applies to QUIC candidates
    // too, with the TLSA records at `_<port>._udp.<target>`"): 3 1 1 as above.
    records.push({
      name: `_${quicPort(s.quic, s.server, ports)}._udp.${owner}`,
      type: 'TLSA',
      data: `3 1 1 ${spkiSha256Hex(s.quic.tlsaSpkiOf)}`,
    });
  }
  return { origin: s.domain, records, signing: s.signing ?? 'unsigned' };
}

/**
 * The UDP port a scenario's `_xmppq-client._udp` SRV names: the blackhole, or the gateway in front
 * of the scenario's server (the second gateway for Prosody 13's scenarios).
 */
export function quicPort(quic: QuicSpec, server: ServerRole, ports: LabPorts): number {
  if (quic.endpoint === 'blackhole') return ports.udpBlackhole;
  return server === 'modern' ? ports.prosody13QuicGateway : ports.quicGateway;
}

/** The zone file text for nsd (or for ldns-signzone, which nsd then serves signed). */
export function renderZone(zone: Zone): string {
  const lines = [`$ORIGIN ${zone.origin}.`, `$TTL ${TTL}`];
  for (const rr of zone.records) lines.push(`${rr.name}\t${rr.ttl ?? TTL}\tIN\t${rr.type}\t${rr.data}`);
  return lines.join('\n') + '\n';
}
