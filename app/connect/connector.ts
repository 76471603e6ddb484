/**
 * Where a candidate becomes an authenticated XMPP stream: discovery order, one transport per
 * candidate, the TLS handshake, the one verifier, then the stream machine up to resource binding
 * (`establish`), or only up to the stream features over TLS (`reachFeatures`, for `quiver probe`).
 * Nothing is sent inside TLS before the verifier has accepted the server; nothing is ever sent in
 * plaintext beyond the STARTTLS negotiation itself.
 */
import { randomUUID } from 'node:crypto';
import type { SecurityRecord, TransportPreference, Verdict } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { abortError, ConnectError, throwIfAborted, type CandidateFailure } from './connectError.ts';
import { bogusRefusal, discover, type HostMetaFetcher, type SrvResolver } from './discovery.ts';
import { beforeDeadline } from './deadline.ts';
import { candidateAction, codeOf, failureWeight } from './retryPolicy.ts';
import { StreamDriver } from './streamDriver.ts';
import type { HostResolver } from './hostResolver.ts';
import { ClientStreamMachine, type StreamEvent, type StreamFeatures } from '../xmpp/streamMachine.ts';
import { TcpTransport, connectDirectTls } from '../transport/tcpTransport.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { summarizeChain } from '../security/certificate.ts';

/** XEP-0368 §3 / XEP-0467: the ALPN protocol id for client-to-server XMPP. */
export const ALPN_XMPP_CLIENT = 'xmpp-client';
export const QUIC_UNAVAILABLE = 'XMPP over QUIC is not available in this version of Quiver yet.';

export interface ConnectRequest {
  /** Bare JID. */
  jid: string;
  password: string;
  resource?: string;
  preference: TransportPreference;
  accountId: string | null;
  /** Aborts the attempt: sockets are destroyed and establish rejects with code `aborted`. */
  signal?: AbortSignal;
}

export interface ConnectDeps {
  dns: SrvResolver;
  hosts: HostResolver;
  /** Fetches Host Meta documents (XEP-0487, XEP-0156); null skips them. */
  hostMeta?: HostMetaFetcher | null;
  /** Diagnostics and the lab: the port for https:// URLs without one. */
  httpsPort?: number;
  /** The one verifier, with its trust anchors and clock already bound. */
  verify(facts: ServerFacts): Promise<Verdict>;
  /** Called whenever the connection's security record is created or changes. */
  saveRecord(record: SecurityRecord): void;
  random?: () => number;
  /** Per-candidate connect and TLS timeout. */
  timeoutMs?: number;
}

export interface Established {
  driver: StreamDriver;
  record: SecurityRecord;
  boundJid: string;
}

/** A candidate taken as far as its stream features over TLS (`reachFeatures`). */
export interface FeaturesReached {
  /** Holds the stream at its features; the caller closes it (`driver.close()`) and destroys it. */
  driver: StreamDriver;
  record: SecurityRecord;
  features: StreamFeatures;
}

/** What one candidate is taken to: a session for an account, or only the features of a domain. */
type Goal =
  | { goal: 'session'; jid: string; password: string; resource?: string; accountId: string | null }
  | { goal: 'features'; domain: string };

type Reached = { driver: StreamDriver; record: SecurityRecord } & (
  { goal: 'session'; boundJid: string } | { goal: 'features'; features: StreamFeatures }
);

export async function establish(request: ConnectRequest, deps: ConnectDeps): Promise<Established> {
  const domain = domainOf(request.jid);
  const { candidates, problems, bogus } = await beforeDeadline(
    discover(domain, deps.dns, {
      random: deps.random,
      preference: request.preference,
      hostMeta: deps.hostMeta ?? null,
      httpsPort: deps.httpsPort,
    }),
    request.signal,
    { reason: abortError },
  );
  const failures: CandidateFailure[] = problems.map((p) => ({ candidate: 'dns', code: 'dns', message: p }));
  let needsDecision: ConnectError | null = null;
  for (const candidate of candidates) {
    throwIfAborted(request.signal);
    try {
      // Never connect where a bogus answer pointed: its address is no more trustworthy than the answer.
      if (candidate.dnssec === 'bogus') throw new ConnectError('dnssec-bogus', bogusRefusal(domain, bogus));
      const reached = await tryCandidate(
        {
          goal: 'session',
          jid: request.jid,
          password: request.password,
          resource: request.resource,
          accountId: request.accountId,
        },
        request.signal,
        domain,
        candidate,
        deps,
      );
      if (reached.goal !== 'session') throw new Error('unreachable: a session goal reached features');
      return { driver: reached.driver, record: reached.record, boundJid: reached.boundJid };
    } catch (error) {
      const code = codeOf(error);
      const action = candidateAction(code);
      if (action === 'cancelled') throw error;
      failures.push({ candidate: describe(candidate), code, message: (error as Error).message });
      if (action === 'stop') throw new ConnectError(code, (error as Error).message, failures);
      // Keep trying: another candidate may prove itself. If none does, the person decides on this one.
      if (error instanceof ConnectError && error.decision && !needsDecision) needsDecision = error;
    }
  }
  if (needsDecision)
    throw new ConnectError(needsDecision.code, needsDecision.message, failures, needsDecision.decision);
  const real = failures.filter((f) => f.candidate !== 'dns');
  // The most telling failure (retryPolicy.ts `failureWeight`): the first of the highest weight.
  const best = real.reduce<CandidateFailure | undefined>(
    (most, f) => (most === undefined || failureWeight(f.code) > failureWeight(most.code) ? f : most),
    undefined,
  );
  if (!best) throw new ConnectError('no-candidates', `Quiver found no way to reach ${domain}.`, failures);
  const others = real.length - 1;
  throw new ConnectError(
    best.code,
    others > 0
      ? `${best.message} (${others} other way${others > 1 ? 's' : ''} to reach ${domain} failed too.)`
      : best.message,
    failures,
  );
}

/**
 * Takes one candidate of `domain` as far as its stream features over TLS, through the same steps
 * as a login (transport, TLS, the one verifier, STARTTLS rules) but without authenticating: no
 * credentials exist here to send. The record is built and handed to `deps.saveRecord` as for a login.
 * @throws ConnectError (code `aborted` when `signal` aborts), or the transport's error
 */
export async function reachFeatures(
  domain: string,
  candidate: Candidate,
  deps: Pick<ConnectDeps, 'hosts' | 'verify' | 'saveRecord' | 'timeoutMs'>,
  signal?: AbortSignal,
): Promise<FeaturesReached> {
  const reached = await tryCandidate({ goal: 'features', domain }, signal, domain, candidate, deps);
  if (reached.goal !== 'features') throw new Error('unreachable: a features goal reached a session');
  return { driver: reached.driver, record: reached.record, features: reached.features };
}

/**
 * One candidate, to `request.goal`: transport, TLS, the one verifier, then the stream machine with
 * that goal. On failure everything is destroyed before it rejects; on success the driver holds the
 * stream for the caller (events after 'online' / 'features' wait for its next handler).
 */
async function tryCandidate(
  request: Goal,
  signal: AbortSignal | undefined,
  domain: string,
  candidate: Candidate,
  deps: Pick<ConnectDeps, 'hosts' | 'verify' | 'saveRecord' | 'timeoutMs'>,
): Promise<Reached> {
  if (candidate.transport === 'quic') throw new ConnectError('quic-unavailable', QUIC_UNAVAILABLE);
  // XEP-0487: a Host Meta 2 link may give the addresses, and the SNI to send.
  const addresses =
    candidate.ips && candidate.ips.length > 0
      ? candidate.ips
      : await beforeDeadline(deps.hosts.resolve(candidate.host), signal, { reason: abortError });
  const servername = candidate.hostMetaSni ?? domain;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const account =
    request.goal === 'session'
      ? { jid: request.jid, accountId: request.accountId }
      : { jid: request.domain, accountId: null };
  const machineGoal =
    request.goal === 'session'
      ? { goal: 'session' as const, jid: request.jid, password: request.password, resource: request.resource }
      : { goal: 'features' as const, jid: request.domain };
  let record: SecurityRecord | null = null;

  const verifyOrThrow = async (facts: TlsFacts): Promise<void> => {
    const verdict = await deps.verify({
      transport: candidate.transport,
      domain,
      sni: facts.sni,
      alpn: facts.alpn,
      chain: facts.chain,
      candidate,
    });
    record = newRecord(account, candidate, facts, verdict);
    deps.saveRecord(record);
    if (!verdict.trusted) {
      const error = verdict.error ?? {
        code: 'untrusted',
        message: `Quiver could not prove that this server is ${domain}.`,
      };
      finish(record, error.message, deps);
      const decision = verdict.decision ? { domain, candidate, verdict, certificates: record.certificates } : null;
      throw new ConnectError(codeOf(error, 'untrusted'), error.message, [], decision);
    }
  };

  let driver: StreamDriver;
  if (candidate.transport === 'tls') {
    const { transport, facts } = await beforeDeadline(
      connectDirectTls(addresses, candidate.port, { servername, alpn: [ALPN_XMPP_CLIENT], timeoutMs }),
      signal,
      { reason: abortError, discard: (late) => late.transport.destroy() },
    );
    try {
      await beforeDeadline(verifyOrThrow(facts), signal, { reason: abortError });
      throwIfAborted(signal);
    } catch (error) {
      transport.destroy();
      throw error;
    }
    const machine = new ClientStreamMachine({ ...machineGoal, security: 'tls', channelBinding: facts.channelBinding });
    driver = new StreamDriver(machine, transport, () => undefined);
  } else {
    const transport = await beforeDeadline(TcpTransport.connect(addresses, candidate.port, timeoutMs), signal, {
      reason: abortError,
      discard: (late) => late.destroy(),
    });
    const machine = new ClientStreamMachine({ ...machineGoal, security: 'starttls' });
    driver = new StreamDriver(machine, transport, () => undefined);
  }

  return new Promise<Reached>((resolve, reject) => {
    let settled = false;
    const onAbort = () => fail(abortError());
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (record) finish(record, error.message, deps);
      driver.destroy();
      reject(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    driver.setEventHandler((event: StreamEvent) => {
      switch (event.type) {
        case 'tls-required': {
          const transport = driver.transport as TcpTransport;
          transport
            .startTls({ servername, timeoutMs, hold: true })
            .then(async (facts) => {
              await verifyOrThrow(facts);
              driver.tlsUp(facts.channelBinding);
              // Only now may bytes from inside TLS reach the stream.
              transport.resume();
            })
            .catch(fail);
          break;
        }
        case 'authenticated':
          if (record) {
            record.saslMechanism = event.mechanism;
            record.channelBinding = event.channelBinding;
            deps.saveRecord(record);
          }
          break;
        case 'online':
          if (!record) {
            // Cannot happen: the machine never binds before TLS. Refuse rather than trust it.
            fail(new ConnectError('internal', 'The stream came online without TLS; Quiver refused it.'));
            return;
          }
          record.boundJid = event.jid;
          deps.saveRecord(record);
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({ goal: 'session', driver, record, boundJid: event.jid });
          break;
        case 'features':
          // Goal 'features': the machine reports features only over TLS, after the verifier.
          if (!record) {
            fail(new ConnectError('internal', 'The stream reported its features without TLS; Quiver refused it.'));
            return;
          }
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({ goal: 'features', driver, record, features: event.features });
          break;
        case 'error':
          // The StreamError stays the cause: its condition and the server's text (`quiver probe` words them).
          fail(new ConnectError(codeOf(event.error), event.error.message, [], null, event.error));
          break;
        case 'closed':
          fail(
            new ConnectError(
              codeOf(event.error, 'closed'),
              event.error?.message ?? `${domain} closed the connection during login.`,
            ),
          );
          break;
        default:
          // Stanzas before 'online' do not happen (binding comes first); nothing to do.
          break;
      }
    });
    driver.start();
  });
}

function newRecord(
  account: { jid: string; accountId: string | null },
  candidate: Candidate,
  facts: TlsFacts,
  verdict: Verdict,
): SecurityRecord {
  return {
    id: randomUUID(),
    accountId: account.accountId,
    jid: account.jid,
    transport: candidate.transport,
    host: candidate.host,
    port: candidate.port,
    srv: candidate.record,
    source: candidate.source,
    dnssec: candidate.dnssec,
    tlsVersion: facts.version,
    cipher: facts.cipher,
    alpn: facts.alpn,
    sni: facts.sni,
    certificates: summarizeChain(facts.chain),
    verification: verdict,
    saslMechanism: null,
    channelBinding: null,
    boundJid: null,
    startedAt: Date.now(),
    endedAt: null,
    endReason: null,
    quicConnectionId: null,
    quicStreamId: null,
    quic: null,
    fallback: null,
    pathEvents: [],
  };
}

/** Marks a record ended. Called by the connector on failure and by the session when a stream ends. */
export function finish(record: SecurityRecord, reason: string, deps: Pick<ConnectDeps, 'saveRecord'>): void {
  if (record.endedAt !== null) return;
  record.endedAt = Date.now();
  record.endReason = reason;
  deps.saveRecord(record);
}

function describe(candidate: Candidate): string {
  return `${candidate.transport} ${candidate.host}:${candidate.port} (${candidate.source})`;
}

export function domainOf(jid: string): string {
  const at = jid.indexOf('@');
  const rest = at >= 0 ? jid.slice(at + 1) : jid;
  const slash = rest.indexOf('/');
  return (slash >= 0 ? rest.slice(0, slash) : rest).toLowerCase();
}
