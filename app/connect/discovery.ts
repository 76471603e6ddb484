/**
 * Discovery: which candidates to try for a domain, and in what order.
 *
 * RFC 6120 §3.2.1 and XEP-0368 §3: look up `_xmpps-client._tcp` and `_xmpp-client._tcp` together,
 * merge them (srvOrder.ts); when neither has records, fall back to the domain itself on 5222 with
 * STARTTLS. A service whose only record targets "." is declined (RFC 2782).
 */
import type { DnssecStatus, Transport, TransportPreference } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { orderSrvCandidates, type SrvAnswer, type SrvRecordLike } from './srvOrder.ts';
import { ConnectError } from './connectError.ts';

/** The part of the DNS client discovery needs (app/security/dnsClient.ts provides it). */
export interface SrvResolver {
  srv(name: string): Promise<{ rcode: string; records: SrvRecordLike[]; dnssec: DnssecStatus }>;
}

export interface DiscoveryResult {
  candidates: Candidate[];
  /** What went wrong on the way (a lookup that failed), for the diagnostics and the log. */
  problems: string[];
}

const SERVICES: { label: string; source: SrvAnswer['source']; transport: Transport }[] = [
  { label: '_xmpps-client._tcp', source: 'srv:_xmpps-client._tcp', transport: 'tls' },
  { label: '_xmpp-client._tcp', source: 'srv:_xmpp-client._tcp', transport: 'starttls' },
];

/** RFC 6120 §3.2.1: the fallback when SRV yields nothing. */
export const DEFAULT_STARTTLS_PORT = 5222;

export async function discover(
  domain: string,
  dns: SrvResolver,
  options: { random?: () => number; preference?: TransportPreference } = {},
): Promise<DiscoveryResult> {
  const problems: string[] = [];
  const wanted = SERVICES.filter((s) => transportAllowed(s.transport, options.preference ?? 'auto'));
  const answers = await Promise.all(
    wanted.map(async (service): Promise<SrvAnswer | null> => {
      const name = `${service.label}.${domain}`;
      try {
        const answer = await dns.srv(name);
        if (answer.dnssec === 'bogus') {
          problems.push(`${name}: the DNSSEC signatures did not validate (bogus); its records are not used`);
          return null;
        }
        if (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN') problems.push(`${name}: ${answer.rcode}`);
        return { name, source: service.source, transport: service.transport, dnssec: answer.dnssec, records: answer.records };
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
        return null;
      }
    }),
  );
  const { candidates, declined } = orderSrvCandidates(
    answers.filter((a): a is SrvAnswer => a !== null),
    options.random ?? Math.random,
  );
  if (candidates.length > 0) return { candidates, problems };
  if (declined.length > 0) {
    throw new ConnectError(
      'no-service',
      `${domain} says it offers no XMPP client service (its SRV record points to "."). Check the address, or ask the server's operator.`,
    );
  }
  if (!transportAllowed('starttls', options.preference ?? 'auto')) {
    throw new ConnectError('no-candidates', `${domain} publishes no SRV record for the chosen transport, so Quiver has nowhere to connect. Choose "auto" or STARTTLS.`);
  }
  return {
    candidates: [
      {
        transport: 'starttls',
        host: domain,
        port: DEFAULT_STARTTLS_PORT,
        priority: 0,
        weight: 0,
        source: 'default',
        dnssec: answers.every((a) => a?.dnssec === 'secure') ? 'secure' : 'insecure',
        record: null,
      },
    ],
    problems,
  };
}

function transportAllowed(transport: Transport, preference: TransportPreference): boolean {
  return preference === 'auto' || preference === transport;
}
