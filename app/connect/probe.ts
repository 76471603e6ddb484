/**
 * `quiver probe`: discovery, then each candidate taken just far enough to verify it and see the
 * XMPP stream features, then closed. No credentials are ever sent.
 *
 * Per candidate, the connector's own steps (connector.ts `reachFeatures`) up to the point where it
 * would log in: STARTTLS (RFC 6120 §5.4.2), direct TLS (XEP-0368 §3) or XMPP over QUIC (XEP-0467:
 * ALPN `xmpp-client`, SNI, one bidirectional stream), the one verifier, then the stream machine
 * with the goal 'features', so the STARTTLS rules (never continue in plaintext, no plaintext after
 * `<proceed/>`) are the stream machine's and exist once. This file only words the outcome for the
 * report.
 *
 * QUIC: every QUIC candidate is verified on a connection of its own, from a session pool of its own
 * (`ProbeDeps.quicPool`, closed when that candidate is done) that keeps no session tickets. The
 * account pool would join a live connection to the same endpoint (`reachFeatures` asks for sharing)
 * and would resume with a ticket from an earlier candidate; either would show the server's
 * certificate from another handshake, not the one this candidate's server presents now.
 */
import type { Prooftype, TransportPreference, Verdict } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { ConnectError } from './connectError.ts';
import { reachFeatures } from './connector.ts';
import { bogusRefusal, discover, type HostMetaFetcher, type SrvResolver } from './discovery.ts';
import type { HostResolver } from './hostResolver.ts';
import { QuicSessions } from './quicSessions.ts';
import type { StreamDriver } from './streamDriver.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { StreamError } from '../xmpp/streamError.ts';
import type { StreamFeatures } from '../xmpp/streamFeatures.ts';

/** The `result` of one candidate. Field names are a public interface (the `quiver probe` JSON). */
export interface ProbeResult {
  ok: boolean;
  prooftype: Prooftype | null;
  identity: string | null;
  /** A message for a person, null when ok. */
  error: string | null;
  /** What the server offered over TLS (RFC 6120 §4.3.2), null when not reached. */
  features: StreamFeatures | null;
  /** The QUIC handshake's facts for a verified QUIC candidate (XEP-0467), else null. */
  quic: ProbeQuicFacts | null;
}

/** The facts of a verified QUIC candidate's handshake, as the security view shows them. */
export interface ProbeQuicFacts {
  /** `QUIC v1` (RFC 9000). */
  version: string;
  /** `TLSv1.3` (RFC 9001 §4.2: QUIC uses TLS 1.3 or later). */
  tlsVersion: string | null;
  cipher: string | null;
  /** XEP-0467: `xmpp-client`. */
  alpn: string | null;
  /** The name sent in the ClientHello: the domain, or the Host Meta `sni`. */
  sni: string;
  /** The path MTU in use when the features arrived (bytes of UDP payload). */
  pathMtu: number;
  /** Encrypted Client Hello: Quiver does not offer it yet. */
  ech: 'not available';
  remoteAddress: string;
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
  /**
   * Per QUIC candidate and address, how long the QUIC handshake may take before that address counts
   * as not answering (a network that blocks UDP sends nothing back). Default 5 s, never above `timeoutMs`.
   */
  quicHandshakeTimeoutMs?: number;
  /**
   * A session pool for one QUIC candidate; the probe closes it when the candidate is done.
   * Default: a new `QuicSessions` that keeps no session tickets (see the file comment).
   */
  quicPool?: () => QuicSessions;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * RFC 9002 §6.2.2: the first PTO is about 1 s (kInitialRtt 333 ms), so 5 s leaves room for the
 * Initial and two retransmissions, yet a domain whose UDP 443 nobody serves costs the probe no more.
 */
const DEFAULT_QUIC_HANDSHAKE_TIMEOUT_MS = 5000;
/** RFC 8446 §2.2: no ticket offered, so every QUIC candidate's handshake shows its certificate. */
const NO_TICKETS = { take: () => null, put: () => undefined };
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
      candidate.dnssec === 'bogus' ? failed(bogusRefusal(name, found.bogus)) : probeCandidate(name, candidate, deps),
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

/**
 * Probes one candidate. Never throws: every failure becomes `{ ok: false, error }`. A QUIC
 * candidate's pool is closed before this resolves.
 */
export async function probeCandidate(
  domain: string,
  candidate: Candidate,
  deps: Pick<ProbeDeps, 'hosts' | 'verify' | 'timeoutMs' | 'quicHandshakeTimeoutMs' | 'quicPool'>,
): Promise<ProbeResult> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const quic = candidate.transport === 'quic' ? (deps.quicPool ?? ownQuicPool)() : null;
  // The connector gives a QUIC handshake its `timeoutMs`; everything after it has the deadline.
  const stepTimeoutMs = quic
    ? Math.min(timeoutMs, deps.quicHandshakeTimeoutMs ?? DEFAULT_QUIC_HANDSHAKE_TIMEOUT_MS)
    : timeoutMs;
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
      { hosts: deps.hosts, verify: deps.verify, saveRecord: () => undefined, timeoutMs: stepTimeoutMs, quic },
      deadline.signal,
    );
    driver = reached.driver;
    const record = reached.record;
    const verdict = record.verification;
    await closeStream(driver);
    return {
      ok: true,
      prooftype: verdict.prooftype,
      identity: verdict.identity,
      error: null,
      features: reached.features,
      quic: record.quic
        ? {
            version: record.quic.version,
            tlsVersion: record.tlsVersion,
            cipher: record.cipher,
            alpn: record.alpn,
            sni: record.sni,
            pathMtu: record.quic.pathMtu,
            ech: record.quic.ech,
            remoteAddress: record.quic.remoteAddress,
          }
        : null,
    };
  } catch (error) {
    return failed(describeFailure(error, candidate, timeoutMs));
  } finally {
    clearTimeout(timer);
    driver?.destroy();
    await quic?.close();
  }
}

function ownQuicPool(): QuicSessions {
  return new QuicSessions({ tickets: NO_TICKETS });
}

function failed(error: string): ProbeResult {
  return { ok: false, prooftype: null, identity: null, error, features: null, quic: null };
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
  // The pool's sentence names the domain, the UDP port, the address and the time waited.
  if (error.code === 'quic-timeout')
    return `${message} The network may block UDP, or nothing serves XMPP over QUIC there; Quiver would use the other candidates.`;
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
