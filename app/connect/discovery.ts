/**
 * Discovery: which candidates to try for a domain, and in what order.
 *
 * Looked up concurrently, under one deadline (a late answer is dropped and reported, so one slow
 * source cannot hold up the connection):
 * - SRV `_xmpp-client._tcp` (RFC 6120 §3.2.1, STARTTLS), `_xmpps-client._tcp` (XEP-0368 §3, direct
 *   TLS) and `_xmppq-client._udp` (QUIC: the record name of the one deployed XEP-0467 implementation);
 * - Host Meta 2 (XEP-0487) at `https://<domain>/.well-known/host-meta.json`, which also carries
 *   XEP-0156 links; when that document is missing, the XEP-0156 XRD `/.well-known/host-meta`.
 * Host-meta is not waited for once SRV has spoken (issue 11: "discovery never waits for host-meta
 * once SRV answers are in"): when every SRV lookup has answered and at least one gave a usable
 * record (a target other than "."), discovery returns at once, with host-meta's links only if they
 * had already arrived. A fetch to a port 443 that answers slowly (or a web server: 2.8 RTT and a
 * TLS handshake) would otherwise delay every login. When SRV gave nothing usable (NXDOMAIN, no
 * records, ".", failures, bogus), host-meta may be the only source and is waited for, under the
 * deadline. A fetch not waited for is abandoned quietly: its signal aborts (the fetcher may close
 * its connection), its answer or failure is dropped, and it adds nothing to `problems` — not
 * waiting is the design, not a fault, and the connector turns every problem into a failure line.
 * Diagnostics that want the whole picture (`quiver probe`) pass `hostMetaWait: 'always'`.
 *
 * All sources make one list (srvOrder.ts `orderCandidates`). When nothing is found: STARTTLS on the
 * domain at 5222 (RFC 6120 §3.2.2) and QUIC on UDP 443 (XEP-0467 §2: "we also define UDP port 443 as
 * the default port to attempt a XMPP-over-QUIC connection on if those are not available").
 * A service whose only record targets "." is declined (RFC 2782: "service is decidedly not
 * available at this domain"): that cancels only that service's own default (`_xmpp-client._tcp` the
 * 5222 one, `_xmppq-client._udp` the UDP 443 one); the domain declines XMPP (`no-service`) only
 * when nothing is left.
 */
import type { CandidateSource, DnssecStatus, Transport, TransportPreference } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { hasUsableRecord, orderCandidates, type SrvAnswer, type SrvRecordLike } from './srvOrder.ts';
import { hostMetaCandidates, parseHostMetaJson, parseHostMetaXrd, type HostMeta } from './hostMeta.ts';
import { ConnectError } from './connectError.ts';
import { beforeDeadline } from './deadline.ts';

/** The part of the DNS client discovery needs (app/security/dnsClient.ts provides it). */
export interface SrvResolver {
  srv(name: string): Promise<{ rcode: string; records: SrvRecordLike[]; dnssec: DnssecStatus }>;
}

/**
 * How discovery fetches host-meta documents. Both MUST use HTTPS with full PKIX checks of the
 * domain's certificate (XEP-0487 §3, XEP-0156 §3) and reject on any HTTP status but 200.
 */
export interface HostMetaFetcher {
  /**
   * GET and parse as JSON (app/security/driver/httpsFetch.ts `fetchHttpsJson`). `signal` aborts
   * when discovery no longer waits for the answer (it has its candidates, or its deadline passed):
   * the fetcher SHOULD then close its connection; whatever it resolves or rejects with afterwards
   * is ignored.
   */
  json(url: string, signal?: AbortSignal): Promise<unknown>;
  /** GET as text, for the XRD form; without it only `host-meta.json` is read. `signal` as for `json`. */
  text?(url: string, signal?: AbortSignal): Promise<string>;
}

/**
 * When discovery waits for host-meta: `'if-needed'` (the default, for logins) only when SRV gave no
 * usable record; `'always'` (diagnostics) until it answers or the deadline passes.
 */
export type HostMetaWait = 'if-needed' | 'always';

export interface DiscoveryOptions {
  /** In [0, 1); the RFC 2782 weighted choice. Default Math.random. */
  random?: () => number;
  preference?: TransportPreference;
  /** Host-meta fetching; null or absent: host-meta is not looked up. */
  hostMeta?: HostMetaFetcher | null;
  /** Default `'if-needed'`: see `HostMetaWait`. */
  hostMetaWait?: HostMetaWait;
  /** Diagnostic: the HTTPS port of the host-meta URLs (the lab serves HTTPS on a high port). Default 443. */
  httpsPort?: number;
  /** All lookups together. Default DISCOVERY_DEADLINE_MS. */
  deadlineMs?: number;
  /** Starts the deadline, a signal that aborts when it passes (tests abort it by hand). Default: `AbortSignal.timeout`. */
  startDeadline?: (ms: number) => AbortSignal;
}

export interface DiscoveryResult {
  candidates: Candidate[];
  /** What went wrong on the way (a lookup that failed or came too late), for the diagnostics and the log. */
  problems: string[];
  /** Things seen but not used: XEP-0156 BOSH / WebSocket links (`rel href`). */
  unused: string[];
  /** Names whose answers failed DNSSEC validation (bogus). */
  bogus: string[];
}

interface Service {
  label: string;
  source: SrvAnswer['source'];
  transport: Transport;
}

const SERVICES: readonly Service[] = [
  { label: '_xmpps-client._tcp', source: 'srv:_xmpps-client._tcp', transport: 'tls' },
  { label: '_xmpp-client._tcp', source: 'srv:_xmpp-client._tcp', transport: 'starttls' },
  { label: '_xmppq-client._udp', source: 'srv:_xmppq-client._udp', transport: 'quic' },
];

/** RFC 6120 §3.2.1: the fallback when SRV yields nothing. */
export const DEFAULT_STARTTLS_PORT = 5222;
/** XEP-0467 §2: the default port for XMPP over QUIC (UDP). */
export const DEFAULT_QUIC_PORT = 443;
export const DISCOVERY_DEADLINE_MS = 5000;

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'late' };
type HostMetaOutcome<T> = Outcome<T> | { kind: 'abandoned' };

/** What `beforeDeadline` rejects with when the discovery deadline passed: turned into `{ kind: 'late' }`. */
const LATE = Symbol('late');
/** What host-meta's race rejects with when discovery stopped waiting for it: `{ kind: 'abandoned' }`. */
const ABANDONED = Symbol('abandoned');

/**
 * The candidates for `domain`, in the order to try them.
 * Candidates with `dnssec: 'bogus'` (the defaults, when the only answers failed DNSSEC validation)
 * MUST be refused, not tried: `bogusRefusal` says why, for the person.
 * @throws ConnectError `no-service` (the domain declines XMPP), `no-candidates` (nothing for the
 *   chosen transport)
 */
export async function discover(
  domain: string,
  dns: SrvResolver,
  options: DiscoveryOptions = {},
): Promise<DiscoveryResult> {
  const preference = options.preference ?? 'auto';
  const deadlineMs = options.deadlineMs ?? DISCOVERY_DEADLINE_MS;
  // AbortSignal.timeout: its timer does not keep the process alive, and once every lookup has
  // answered nothing listens to it any more.
  const deadline = (options.startDeadline ?? ((ms: number) => AbortSignal.timeout(ms)))(deadlineMs);
  const problems: string[] = [];
  const unused: string[] = [];
  const bogus: string[] = [];

  const bounded = async <T>(work: Promise<T>): Promise<Outcome<T>> => {
    try {
      return { kind: 'done', value: await beforeDeadline(work, deadline, { reason: () => LATE }) };
    } catch (error) {
      if (error === LATE) return { kind: 'late' };
      throw error;
    }
  };
  const late = (what: string) => problems.push(`${what}: no answer within ${deadlineMs / 1000} s; ignored`);

  const srvLookups = SERVICES.filter((s) => transportAllowed(s.transport, preference)).map(
    async (service): Promise<SrvAnswer | null> => {
      const name = `${service.label}.${domain}`;
      try {
        const outcome = await bounded(dns.srv(name));
        if (outcome.kind === 'late') {
          late(name);
          return null;
        }
        const answer = outcome.value;
        if (answer.dnssec === 'bogus') {
          bogus.push(name);
          problems.push(`${name}: the DNSSEC signatures did not validate (bogus); its records are not used`);
          return null;
        }
        if (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN') problems.push(`${name}: ${answer.rcode}`);
        return {
          name,
          source: service.source,
          transport: service.transport,
          dnssec: answer.dnssec,
          records: answer.records,
        };
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
        return null;
      }
    },
  );

  const wantsHostMeta =
    options.hostMeta && (transportAllowed('tls', preference) || transportAllowed('quic', preference));
  // Host-meta keeps its problems to itself until discovery decides to use it: an abandoned fetch
  // must not write into the result after it has been returned.
  const hostMetaProblems: string[] = [];
  const stopHostMeta = new AbortController();
  const boundedHostMeta = async <T>(work: Promise<T>): Promise<HostMetaOutcome<T>> => {
    try {
      const beforeStop = beforeDeadline(work, stopHostMeta.signal, { reason: () => ABANDONED });
      return { kind: 'done', value: await beforeDeadline(beforeStop, deadline, { reason: () => LATE }) };
    } catch (error) {
      if (error === ABANDONED) return { kind: 'abandoned' };
      if (error !== LATE) throw error;
      stopHostMeta.abort(); // the fetcher may close its connection now
      return { kind: 'late' };
    }
  };
  const hostMetaLate = (what: string) =>
    hostMetaProblems.push(`${what}: no answer within ${deadlineMs / 1000} s; ignored`);
  const hostMetaLookup = wantsHostMeta
    ? fetchHostMeta(domain, options.hostMeta!, {
        httpsPort: options.httpsPort,
        signal: stopHostMeta.signal,
        bounded: boundedHostMeta,
        late: hostMetaLate,
        problems: hostMetaProblems,
      })
    : Promise.resolve(null);

  const answers = await Promise.all(srvLookups);
  const found = answers.filter((a): a is SrvAnswer => a !== null);
  const srvUsable = found.some(hasUsableRecord);
  let hostMeta: { meta: HostMeta; url: string } | null = null;
  if (!wantsHostMeta) {
    hostMeta = null;
  } else if (options.hostMetaWait === 'always' || !srvUsable) {
    hostMeta = await hostMetaLookup;
    problems.push(...hostMetaProblems);
  } else {
    const arrived = await alreadyArrived(hostMetaLookup);
    if (arrived.done) {
      hostMeta = arrived.value;
      problems.push(...hostMetaProblems);
    } else {
      // Not waited for: see the header. fetchHostMeta never rejects, so nothing is left unhandled.
      stopHostMeta.abort();
    }
  }

  let others: Candidate[] = [];
  if (hostMeta) {
    problems.push(...hostMeta.meta.problems.map((p) => `${hostMeta.url}: ${p}`));
    unused.push(...hostMeta.meta.unused);
    others = hostMetaCandidates(hostMeta.meta, hostMeta.url).filter((c) => transportAllowed(c.transport, preference));
  }
  const { candidates, declined } = orderCandidates(found, others, options.random ?? Math.random);
  if (candidates.length > 0) return { candidates, problems, unused, bogus };
  // A validating resolver said an answer was tampered with or broken (RFC 4035 §5.5): the fallback
  // candidates carry `bogus`, so that whoever broke the answer cannot choose where Quiver connects:
  // such a candidate is refused, never tried (the issue: "Bogus answers: refuse that candidate").
  const dnssec: DnssecStatus =
    bogus.length > 0
      ? 'bogus'
      : found.length > 0 && found.length === answers.length && found.every((a) => a.dnssec === 'secure')
        ? 'secure'
        : 'insecure';
  const fallback = defaultCandidates(domain, dnssec, declined).filter((c) => transportAllowed(c.transport, preference));
  if (fallback.length === 0 && declined.length > 0) {
    throw new ConnectError(
      'no-service',
      `${domain} says it offers no XMPP client service (its SRV record points to "."). Check the address, or ask the server's operator.`,
    );
  }
  if (fallback.length === 0) {
    throw new ConnectError(
      'no-candidates',
      `${domain} publishes no SRV record for the chosen transport, so Quiver has nowhere to connect. Choose "auto" or STARTTLS.`,
    );
  }
  return { candidates: fallback, problems, unused, bogus };
}

/**
 * The defaults when no record gave a candidate, less those a "." record cancelled.
 *
 * RFC 6120 §3.2.1 (fallback to the domain on 5222) applies when the `_xmpp-client._tcp` lookup
 * yields nothing; RFC 2782: a target of "." means "the service is decidedly not available at this
 * domain", so `_xmpp-client._tcp` "." cancels that fallback, and `_xmpps-client._tcp` "." (which
 * has no fallback of its own) cancels nothing. XEP-0467 §2 defines UDP 443 as the QUIC default "if
 * those [other forms of discovery] are not available": `_xmppq-client._udp` "." cancels it; so does a
 * domain that declined both TCP client services, which has said as plainly as DNS can that it offers
 * no XMPP client service, and a guess at UDP 443 would overrule it.
 */
function defaultCandidates(domain: string, dnssec: DnssecStatus, declined: readonly CandidateSource[]): Candidate[] {
  const declines = (source: CandidateSource) => declined.includes(source);
  const tcpDeclined = declines('srv:_xmpp-client._tcp') && declines('srv:_xmpps-client._tcp');
  const out: Candidate[] = [];
  if (!declines('srv:_xmpp-client._tcp')) {
    out.push({
      transport: 'starttls',
      host: domain,
      port: DEFAULT_STARTTLS_PORT,
      priority: 0,
      weight: 0,
      source: 'default',
      dnssec,
      record: null,
    });
  }
  if (!declines('srv:_xmppq-client._udp') && !tcpDeclined) {
    out.push({
      transport: 'quic',
      host: domain,
      port: DEFAULT_QUIC_PORT,
      priority: 0,
      weight: 0,
      source: 'default',
      dnssec,
      record: null,
    });
  }
  return out;
}

/** Why a candidate with `dnssec: 'bogus'` is refused, worded for a person. */
export function bogusRefusal(domain: string, names: readonly string[]): string {
  const which = names.length > 0 ? ` (${names.join(', ')})` : '';
  return `The DNS answers for ${domain}${which} failed DNSSEC validation, so Quiver does not trust them to say where ${domain}'s server is, and refuses this way to connect. This is a fault in ${domain}'s DNS or an attack; tell the server's operator.`;
}

/** The host-meta URL for a domain (XEP-0487 §3, RFC 6415 §2). */
export function hostMetaUrl(domain: string, file: 'host-meta.json' | 'host-meta', httpsPort?: number): string {
  const port = httpsPort === undefined || httpsPort === 443 ? '' : `:${httpsPort}`;
  return `https://${domain}${port}/.well-known/${file}`;
}

/**
 * Whether `lookup` has settled, without waiting for anything outside this process: every job
 * already queued runs, and one turn of the event loop (an answer already read from a socket or a
 * cache), no more.
 */
async function alreadyArrived<T>(lookup: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  let turn: ReturnType<typeof setImmediate> | undefined;
  const notYet = new Promise<{ done: false }>((resolve) => {
    turn = setImmediate(() => resolve({ done: false }));
  });
  try {
    return await Promise.race([lookup.then((value) => ({ done: true as const, value })), notYet]);
  } finally {
    clearImmediate(turn);
  }
}

interface HostMetaFetch {
  httpsPort: number | undefined;
  /** Aborts when discovery stops waiting: handed to the fetcher. */
  signal: AbortSignal;
  /** Races a fetch against the deadline and `signal`. */
  bounded: <T>(work: Promise<T>) => Promise<HostMetaOutcome<T>>;
  late: (what: string) => void;
  problems: string[];
}

/** Host-meta 2, else the XRD form. Never rejects: every failure is a line in `problems`. */
async function fetchHostMeta(
  domain: string,
  fetcher: HostMetaFetcher,
  { httpsPort, signal, bounded, late, problems }: HostMetaFetch,
): Promise<{ meta: HostMeta; url: string } | null> {
  const jsonUrl = hostMetaUrl(domain, 'host-meta.json', httpsPort);
  try {
    const outcome = await bounded(fetcher.json(jsonUrl, signal));
    if (outcome.kind === 'abandoned') return null;
    if (outcome.kind === 'late') {
      late(jsonUrl);
      return null;
    }
    return { meta: parseHostMetaJson(outcome.value), url: jsonUrl };
  } catch (error) {
    problems.push(fetchProblem(jsonUrl, error));
  }
  if (!fetcher.text) return null;
  // XEP-0156 §3: "Services implementing this XEP MUST offer the information in the Extensible
  // Resource Descriptor (XRD) format and SHOULD additionally provide the JRD format".
  const xrdUrl = hostMetaUrl(domain, 'host-meta', httpsPort);
  try {
    const outcome = await bounded(fetcher.text(xrdUrl, signal));
    if (outcome.kind === 'abandoned') return null;
    if (outcome.kind === 'late') {
      late(xrdUrl);
      return null;
    }
    return { meta: parseHostMetaXrd(outcome.value), url: xrdUrl };
  } catch (error) {
    problems.push(fetchProblem(xrdUrl, error));
    return null;
  }
}

/** A failed fetch as one line: a 404 is the common "this domain publishes none", said plainly. */
function fetchProblem(url: string, error: unknown): string {
  if ((error as { httpStatus?: unknown }).httpStatus === 404) return `${url}: not published (HTTP 404)`;
  const message = (error as Error).message;
  return message.includes(url) ? message : `${url}: ${message}`;
}

function transportAllowed(transport: Transport, preference: TransportPreference): boolean {
  return preference === 'auto' || preference === transport;
}
