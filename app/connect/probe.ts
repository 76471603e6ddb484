/**
 * `quiver probe`: discovery, then each candidate taken just far enough to verify it and see the
 * XMPP stream features, then closed. No credentials are ever sent.
 *
 * Per candidate, the connector's own steps (connector.ts `reachFeatures`) up to the point where it
 * would log in: STARTTLS (RFC 6120 §5.4.2) or direct TLS (XEP-0368 §3), the one verifier, then the
 * stream machine with the goal 'features', so the STARTTLS rules (never continue in plaintext, no
 * plaintext after `<proceed/>`) are the stream machine's and exist once. This file only words the
 * outcome for the report.
 */
import type { Prooftype, TransportPreference, Verdict } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { ConnectError } from './connectError.ts';
import { reachFeatures, QUIC_UNAVAILABLE } from './connector.ts';
import { bogusRefusal, discover, type HostMetaFetcher, type SrvResolver } from './discovery.ts';
import type { HostResolver } from './hostResolver.ts';
import type { StreamDriver } from './streamDriver.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { StreamError } from '../xmpp/streamError.ts';

/** The `result` of one candidate. Field names are a public interface (the `quiver probe` JSON). */
export interface ProbeResult {
  ok: boolean;
  prooftype: Prooftype | null;
  identity: string | null;
  /** A message for a person, null when ok. */
  error: string | null;
}

/** One candidate as `quiver probe` prints it, in the order Quiver would try them. */
export type ProbedCandidate = Pick<
  Candidate,
  'transport' | 'host' | 'port' | 'priority' | 'weight' | 'source' | 'dnssec'
> & {
  result: ProbeResult;
};

export interface ProbeReport {
  domain: string;
  candidates: ProbedCandidate[];
  /** Discovery's problems (failed or late lookups, skipped host-meta links) and unused links seen. */
  problems: string[];
}

export interface ProbeDeps {
  dns: SrvResolver;
  hosts: HostResolver;
  /** The one verifier, trust anchors and clock bound (connectDeps.ts `buildConnectDeps(...).verify`). */
  verify(facts: ServerFacts): Promise<Verdict>;
  hostMeta?: HostMetaFetcher | null;
  httpsPort?: number;
  preference?: TransportPreference;
  random?: () => number;
  /** Per candidate, everything from connect to the features. Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long to wait for the server's `</stream:stream>` after ours before just closing. */
const CLOSE_GRACE_MS = 1000;

/**
 * Discovers `domain` and probes every candidate (concurrently; the report keeps discovery's order).
 * @throws ConnectError from discovery (`no-service`, `dnssec-bogus`, `no-candidates`)
 */
export async function probeDomain(domain: string, deps: ProbeDeps): Promise<ProbeReport> {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const found = await discover(name, deps.dns, {
    random: deps.random,
    preference: deps.preference,
    hostMeta: deps.hostMeta ?? null,
    // A diagnostic shows every source: it waits for host-meta even when SRV answered.
    hostMetaWait: 'always',
    httpsPort: deps.httpsPort,
  });
  const results = await Promise.all(
    found.candidates.map((candidate) =>
      // Never connect where a bogus answer pointed: its address is no more trustworthy than the answer.
      candidate.dnssec === 'bogus'
        ? { ok: false, prooftype: null, identity: null, error: bogusRefusal(name, found.bogus) }
        : probeCandidate(name, candidate, deps),
    ),
  );
  return {
    domain: name,
    candidates: found.candidates.map((c, i) => ({
      transport: c.transport,
      host: c.host,
      port: c.port,
      priority: c.priority,
      weight: c.weight,
      source: c.source,
      dnssec: c.dnssec,
      result: results[i]!,
    })),
    problems: [...found.problems, ...found.unused.map((link) => `seen but not used by Quiver: ${link}`)],
  };
}

/** Probes one candidate. Never throws: every failure becomes `{ ok: false, error }`. */
export async function probeCandidate(
  domain: string,
  candidate: Candidate,
  deps: Pick<ProbeDeps, 'hosts' | 'verify' | 'timeoutMs'>,
): Promise<ProbeResult> {
  if (candidate.transport === 'quic') return { ok: false, prooftype: null, identity: null, error: QUIC_UNAVAILABLE };
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One deadline for everything from connecting to the features: when it passes, the connector
  // destroys what it holds and fails with `aborted`.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  let driver: StreamDriver | null = null;
  try {
    const reached = await reachFeatures(
      domain,
      candidate,
      // No storage: the probe keeps no security record.
      { hosts: deps.hosts, verify: deps.verify, saveRecord: () => undefined, timeoutMs },
      deadline.signal,
    );
    driver = reached.driver;
    const verdict = reached.record.verification;
    await closeStream(driver);
    return { ok: true, prooftype: verdict.prooftype, identity: verdict.identity, error: null };
  } catch (error) {
    return { ok: false, prooftype: null, identity: null, error: describeFailure(error, candidate, timeoutMs) };
  } finally {
    clearTimeout(timer);
    driver?.destroy();
  }
}

/** RFC 6120 §4.4: send `</stream:stream>`, wait (briefly) for the server's, then let go. */
function closeStream(driver: StreamDriver): Promise<void> {
  return new Promise((resolve) => {
    const grace = setTimeout(resolve, CLOSE_GRACE_MS);
    driver.setEventHandler((event) => {
      if (event.type !== 'closed') return;
      clearTimeout(grace);
      resolve();
    });
    if (driver.state === 'closed') {
      clearTimeout(grace);
      resolve();
      return;
    }
    driver.close();
  });
}

/** A failure as the report words it: where, what the server did, and what Quiver makes of it. */
function describeFailure(error: unknown, candidate: Candidate, timeoutMs: number): string {
  const where = `${candidate.host}:${candidate.port}`;
  const message = (error as Error)?.message ?? String(error);
  if (!(error instanceof ConnectError)) return message;
  if (error.code === 'aborted') return timeoutMessage(timeoutMs);
  // An unproven server: the verifier's reason, and what Quiver would do about it.
  if (error.decision) return refusal(message);
  const cause = error.cause;
  if (!(cause instanceof StreamError)) return message;
  switch (cause.code) {
    case 'tls-unavailable':
      // RFC 6120 §5.3.1: a server that offers no STARTTLS cannot be used: Quiver never logs in in plaintext.
      return `${where} does not offer STARTTLS, and Quiver never connects without TLS.`;
    case 'tls-failed':
      return `${where} refused to start TLS (<failure/>).`;
    case 'plaintext-after-proceed':
      // RFC 6120 §5.4.2.3: nothing more is exchanged in plaintext after <proceed/>; bytes that follow
      // could be injected by anyone on the path (the STARTTLS command-injection class of bugs).
      return `${where} (or someone on the network) sent unencrypted data after agreeing to STARTTLS, which would be read as if it came over TLS; Quiver does not use this server. Report it to the server's operator if it keeps happening.`;
    case 'timeout':
      return timeoutMessage(timeoutMs);
    case 'transport-closed':
      return `${where} closed the connection before sending its stream features${cause.text ? ` (${cause.text})` : ''}.`;
    case 'peer-closed':
      return `${where} ended the stream before sending its stream features.`;
    default:
      // RFC 6120 §4.9: a stream error the server sent, with its condition and text.
      if (cause.source === 'peer')
        return `${where} ended the stream with the error ${cause.code}${cause.text ? `: ${cause.text}` : ''}.`;
      return message;
  }
}

function timeoutMessage(timeoutMs: number): string {
  return `No answer within ${timeoutMs / 1000} s.`;
}

/** The verifier's reason for a server the person could still accept, and what Quiver would do about it. */
function refusal(message: string): string {
  if (/decide/i.test(message)) return message;
  return `${message} Quiver would ask the person to decide: refuse, accept once, or pin its key.`;
}
