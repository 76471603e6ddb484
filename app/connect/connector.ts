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
import type { StreamManagementOptions } from '../xmpp/streamManagement.ts';
import type { StreamMachineOptions } from '../xmpp/streamMachineOptions.ts';
import { TcpTransport, connectDirectTls } from '../transport/tcpTransport.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { summarizeChain } from '../security/certificate.ts';
import type { QuicLease, QuicSessions } from './quicSessions.ts';

/** XEP-0368 §3 / XEP-0467: the ALPN protocol id for client-to-server XMPP. */
export const ALPN_XMPP_CLIENT = 'xmpp-client';
export const QUIC_UNAVAILABLE = 'XMPP over QUIC is not available here: this connection has no QUIC session pool.';

/**
 * How long QUIC may try alone before the TCP candidates start (happy-eyeballs style, RFC 8305
 * §5's "Connection Attempt Delay" of 250 ms, a little more because a QUIC attempt must also
 * verify the server before it counts).
 */
export const QUIC_HEAD_START_MS = 300;

/** How long a joiner waits for stream credit on a shared session before taking a connection of its own. */
export const STREAM_WAIT_MS = 2000;

/**
 * What the connector remembers per network and domain (app/connect/transportMemory.ts, bound to
 * the current network by the core): whether QUIC worked here, so a network that blocks UDP does
 * not pay the head start every time.
 */
export interface TransportMemoryAdvisor {
  /** 'tcp-first': QUIC failed on this network recently; start TCP at once, QUIC only after it. */
  advice(domain: string): 'quic-first' | 'tcp-first';
  record(domain: string, outcome: 'quic-ok' | 'quic-failed'): void;
}

export interface ConnectRequest {
  /** Bare JID. */
  jid: string;
  password: string;
  resource?: string;
  preference: TransportPreference;
  accountId: string | null;
  /**
   * XEP-0198: `resume` asks for a resumable session; `previous` (a former stream's
   * `streamManagementState()` with an SM-ID) is resumed instead of binding when the server offers
   * <sm/>. Default: acknowledgements only, nothing resumable.
   */
  streamManagement?: StreamManagementOptions;
  /** XEP-0388 SASL2, XEP-0386 Bind 2 inline, XEP-0484 FAST: passed to the stream machine as is (see StreamMachineOptions). */
  login?: Pick<StreamMachineOptions, 'sasl2' | 'userAgent' | 'carbons' | 'fast' | 'requestFastToken'>;
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
  /** Told as each candidate's attempt starts (the account's status in words names it). */
  attempting?(candidate: Candidate): void;
  random?: () => number;
  /** Per-candidate connect and TLS timeout. */
  timeoutMs?: number;
  /** The QUIC session pool; without it QUIC candidates fail with `quic-unavailable`. */
  quic?: QuicSessions | null;
  /** Per-network memory of QUIC's fate; without it QUIC always gets its head start. */
  transportMemory?: TransportMemoryAdvisor | null;
  /** Default QUIC_HEAD_START_MS. */
  quicHeadStartMs?: number;
}

export interface Established {
  driver: StreamDriver;
  record: SecurityRecord;
  boundJid: string;
  /**
   * XEP-0198 §5: the former stream (`request.streamManagement.previous`) was resumed: the server
   * kept the session (roster, presence, subscriptions), nothing was bound anew, and the machine
   * has already sent again what the server had not handled.
   */
  resumed: boolean;
  /** The server's condition when resuming was asked for and refused (then a fresh session was bound); else null. */
  resumeFailed: string | null;
  /**
   * XEP-0198 §5: the server's count of our former stream's stanzas it handled, from <resumed h/>
   * or <failed h/>; null when resumption was not asked for or the server did not say.
   */
  serverH: number | null;
  /**
   * XEP-0198 §5: ids of our former stream's stanzas that the server's <resumed h/> (or <failed h/>)
   * acknowledged, reported during login and so before the caller's handler: the caller marks them
   * as stored by the server before anything else.
   */
  ackedAtLogin: string[];
  /** XEP-0484: the token the server issued during this login (store it with the account), or null. */
  fastToken?: { mechanism: string; token: string; expiry: number } | null;
  /** XEP-0386: features enabled inline with Bind 2 (XEP-0280 carbons), empty when none. */
  inlineEnabled?: string[];
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
  | {
      goal: 'session';
      jid: string;
      password: string;
      resource?: string;
      accountId: string | null;
      streamManagement?: StreamManagementOptions;
      login?: ConnectRequest['login'];
    }
  | { goal: 'features'; domain: string };

type Reached = { driver: StreamDriver; record: SecurityRecord } & (
  | {
      goal: 'session';
      boundJid: string;
      resumed: boolean;
      resumeFailed: string | null;
      serverH: number | null;
      ackedAtLogin: string[];
      fastToken: Established['fastToken'] | null;
      inlineEnabled: string[];
    }
  | { goal: 'features'; features: StreamFeatures }
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
  const run: Run = {
    domain,
    goal: {
      goal: 'session',
      jid: request.jid,
      password: request.password,
      resource: request.resource,
      accountId: request.accountId,
      streamManagement: request.streamManagement,
      login: request.login,
    },
    deps,
    bogus,
    failures: problems.map((p) => ({ candidate: 'dns', code: 'dns', message: p })),
    needsDecision: null,
    quicVerified: false,
    quicTried: false,
  };
  const reached = await raceTransports(run, candidates, request.signal);
  // An attempt the caller aborted says nothing about whether QUIC works on this network.
  if (run.quicTried && deps.transportMemory && !request.signal?.aborted)
    deps.transportMemory.record(domain, run.quicVerified ? 'quic-ok' : 'quic-failed');
  if (reached) {
    if (reached.goal !== 'session') throw new Error('unreachable: a session goal reached features');
    const { driver, record, boundJid, resumed, resumeFailed, serverH, ackedAtLogin, fastToken, inlineEnabled } =
      reached;
    return { driver, record, boundJid, resumed, resumeFailed, serverH, ackedAtLogin, fastToken, inlineEnabled };
  }
  throwIfAborted(request.signal);
  const { failures, needsDecision } = run;
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

/** One `establish` call's shared state across its candidate sequences. */
interface Run {
  domain: string;
  goal: Goal;
  deps: ConnectDeps;
  bogus: string[];
  failures: CandidateFailure[];
  /** The first failure that a person could decide on (an unknown certificate). */
  needsDecision: ConnectError | null;
  /** A QUIC candidate passed the verifier (for the per-network memory). */
  quicVerified: boolean;
  quicTried: boolean;
}

/** Decides which attempt may go on past verification: the first to ask wins, the others stop. */
type Claim = () => boolean;

/**
 * The candidates in XEP-0368's merged order, QUIC first with a head start (issue 11): QUIC alone
 * for `quicHeadStartMs`; if no QUIC attempt has passed the verifier by then, the TCP candidates
 * start too, in their own order, and the first attempt to pass the verifier goes on to log in
 * while the other is aborted (never two logins). When the per-network memory says QUIC failed
 * here, both start at once (no head start). If the winner then fails, the other transport gets
 * its turn from the start. Resolves null when every candidate failed (`run`
 * holds why); rejects on a failure no other candidate can fix, or on the caller's abort.
 */
async function raceTransports(run: Run, candidates: Candidate[], signal?: AbortSignal): Promise<Reached | null> {
  const quic = candidates.filter((c) => c.transport === 'quic');
  const tcp = candidates.filter((c) => c.transport !== 'quic');
  const always: Claim = () => true;
  if (quic.length === 0 || tcp.length === 0 || !run.deps.quic) return attemptAll(run, candidates, signal, always);
  // QUIC failed on this network recently: TCP starts at once, QUIC alongside without a head start.
  const tcpFirst = run.deps.transportMemory?.advice(run.domain) === 'tcp-first';
  const headStartMs = tcpFirst ? 0 : (run.deps.quicHeadStartMs ?? QUIC_HEAD_START_MS);

  const quicAbort = linkedController(signal);
  const tcpAbort = linkedController(signal);
  // Whatever the outcome, the attempt that did not win stops here: a sibling left running could
  // still log in with nobody holding its stream.
  try {
    let winner: 'quic' | 'tcp' | null = null;
    const claim =
      (who: 'quic' | 'tcp'): Claim =>
      () => {
        if (winner === null) {
          winner = who;
          (who === 'quic' ? tcpAbort : quicAbort).abort();
        }
        return winner === who;
      };
    const quicRun = attemptAll(run, quic, quicAbort.signal, claim('quic'));
    const headStart = new Promise<'head-start'>((resolve) => {
      const timer = setTimeout(() => resolve('head-start'), headStartMs);
      void quicRun.finally(() => clearTimeout(timer)).catch(() => undefined);
    });
    const early = await Promise.race([quicRun, headStart]);
    if (early !== 'head-start' && early !== null) return early;
    let tcpRun: Promise<Reached | null> | null = null;
    if (winner === null && early === 'head-start') tcpRun = attemptAll(run, tcp, tcpAbort.signal, claim('tcp'));
    const reached = await firstReached(tcpRun ? [quicRun, tcpRun] : [quicRun]);
    const quicNote = (): string => {
      const last = [...run.failures].reverse().find((f) => f.candidate.startsWith('quic '));
      return last ? last.message : `no verified QUIC connection within ${headStartMs} ms`;
    };
    if (reached) {
      if (reached.record.transport !== 'quic' && reached.record.fallback === null) {
        reached.record.fallback = tcpFirst
          ? 'XMPP over QUIC failed on this network recently, so Quiver went straight to TCP (QUIC was tried alongside, without its head start).'
          : `XMPP over QUIC was tried first and TCP won: ${quicNote()}`;
        run.deps.saveRecord(reached.record);
      }
      return reached;
    }
    throwIfAborted(signal);
    // The winner failed after the other was stopped: the other transport gets its full turn now.
    if (winner === 'quic' || tcpRun === null) {
      const viaTcp = await attemptAll(run, tcp, signal, always);
      if (viaTcp && viaTcp.record.fallback === null) {
        viaTcp.record.fallback = `XMPP over QUIC failed: ${quicNote()}`;
        run.deps.saveRecord(viaTcp.record);
      }
      return viaTcp;
    }
    if (winner === 'tcp') return attemptAll(run, quic, signal, always);
    return null;
  } finally {
    quicAbort.abort();
    tcpAbort.abort();
  }
}

/** Resolves with the first non-null result, null when all are null; rejects with the first rejection. */
function firstReached(runs: Promise<Reached | null>[]): Promise<Reached | null> {
  return new Promise((resolve, reject) => {
    let left = runs.length;
    for (const r of runs)
      r.then((value) => {
        if (value) resolve(value);
        else if (--left === 0) resolve(null);
      }, reject);
  });
}

/** An AbortController that also aborts when `parent` does. */
function linkedController(parent?: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}

/** Codes by which a shared QUIC session refused this account a stream (issue 11: then a connection of its own). */
const STREAM_REFUSALS = new Set<string>([
  'quic-streams-exhausted',
  'quic-stream-reset',
  'quic-stream-stopped',
  'quic-closed',
  'closed',
]);

/**
 * Tries `candidates` in order until one reaches the goal. Resolves null when all failed (each
 * failure is in `run.failures`) or when `signal` was aborted by the race while the caller's own
 * signal was not. Rejects on a failure that no other candidate can fix ('stop').
 */
async function attemptAll(
  run: Run,
  candidates: Candidate[],
  signal: AbortSignal | undefined,
  claim: Claim,
): Promise<Reached | null> {
  for (const candidate of candidates) {
    if (signal?.aborted) return null;
    try {
      // Never connect where a bogus answer pointed: its address is no more trustworthy than the answer.
      if (candidate.dnssec === 'bogus') throw new ConnectError('dnssec-bogus', bogusRefusal(run.domain, run.bogus));
      if (candidate.transport === 'quic') run.quicTried = true;
      run.deps.attempting?.(candidate);
      try {
        return await tryCandidate(run.goal, signal, run.domain, candidate, run.deps, { claim, sharing: 'shared', run });
      } catch (error) {
        if (!(candidate.transport === 'quic' && sharedLeaseFailures.has(error as object))) throw error;
        if (!STREAM_REFUSALS.has(codeOf(error))) throw error;
        // The shared session refused this account a stream: a connection of its own (issue 11).
        const reason = (error as Error).message;
        run.failures.push({ candidate: describe(candidate), code: codeOf(error), message: reason });
        const own = await tryCandidate(run.goal, signal, run.domain, candidate, run.deps, {
          claim,
          sharing: 'own',
          run,
        });
        own.record.fallback = `The shared QUIC session refused this account a stream (${reason}); it got a QUIC connection of its own.`;
        run.deps.saveRecord(own.record);
        return own;
      }
    } catch (error) {
      const code = codeOf(error);
      const action = candidateAction(code);
      // Aborted by the race (the other transport won) or by the caller: the caller's own abort
      // is rethrown by `establish`. An abort nobody here asked for (a shared QUIC connection whose
      // opener was stopped) is this candidate's failure, and the next one is tried.
      if (action === 'cancelled' && signal?.aborted) return null;
      run.failures.push({ candidate: describe(candidate), code, message: (error as Error).message });
      if (action === 'stop') throw new ConnectError(code, (error as Error).message, run.failures);
      // Keep trying: another candidate may prove itself. If none does, the person decides on this one.
      if (error instanceof ConnectError && error.decision && !run.needsDecision) run.needsDecision = error;
    }
  }
  return null;
}

/** Errors of attempts that rode a joined (shared) QUIC connection: their account may try one of its own. */
const sharedLeaseFailures = new WeakSet<object>();

/**
 * Takes one candidate of `domain` as far as its stream features over TLS, through the same steps
 * as a login (transport, TLS, the one verifier, STARTTLS rules) but without authenticating: no
 * credentials exist here to send. The record is built and handed to `deps.saveRecord` as for a login.
 * @throws ConnectError (code `aborted` when `signal` aborts), or the transport's error
 */
export async function reachFeatures(
  domain: string,
  candidate: Candidate,
  deps: Pick<ConnectDeps, 'hosts' | 'verify' | 'saveRecord' | 'timeoutMs' | 'quic'>,
  signal?: AbortSignal,
): Promise<FeaturesReached> {
  const reached = await tryCandidate({ goal: 'features', domain }, signal, domain, candidate, deps, {
    claim: () => true,
    sharing: 'shared',
    run: null,
  });
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
  deps: Pick<ConnectDeps, 'hosts' | 'verify' | 'saveRecord' | 'timeoutMs' | 'quic'>,
  route: Route,
): Promise<Reached> {
  if (candidate.transport === 'quic' && !deps.quic) throw new ConnectError('quic-unavailable', QUIC_UNAVAILABLE);
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
      ? {
          goal: 'session' as const,
          jid: request.jid,
          password: request.password,
          resource: request.resource,
          // XEP-0198 where the server offers <sm/>: acknowledgements, and resumption when asked.
          streamManagement: request.streamManagement ?? { resume: false },
          ...request.login,
        }
      : { goal: 'features' as const, jid: request.domain };
  let record: SecurityRecord | null = null;

  /**
   * The one verifier on this attempt's handshake; then the race's claim, so that nothing is sent
   * inside TLS by an attempt that lost. A joiner of a shared QUIC session (`joining`) that is not
   * trusted returns false without a record: it then gets a connection of its own, verified anew.
   */
  const verifyOrThrow = async (facts: TlsFacts, joining = false): Promise<boolean> => {
    const verdict = await deps.verify({
      transport: candidate.transport,
      domain,
      sni: facts.sni,
      alpn: facts.alpn,
      chain: facts.chain,
      candidate,
    });
    if (joining && !verdict.trusted) return false;
    if (verdict.trusted && !route.claim()) throw abortError();
    if (verdict.trusted && candidate.transport === 'quic' && route.run) route.run.quicVerified = true;
    // A joiner whose connection closed right after its verification verifies again on a
    // connection of its own: the first record ends here instead of staying open for ever.
    const earlier = record as SecurityRecord | null;
    if (earlier)
      finish(
        earlier,
        'Verified again on another handshake (the shared connection closed first, or the server did not resume the session); the next record replaces this one.',
        deps,
      );
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
    return true;
  };

  let driver: StreamDriver;
  let lease: QuicLease | null = null;
  if (candidate.transport === 'quic') {
    // Whether the pool's last verification was of a live connection this account joined: a stream
    // refused after that (its stream limit, its close) is the shared session's refusal.
    let joined = false;
    // XEP-0467: TLS is the QUIC handshake's; never STARTTLS over QUIC. Its exporter is not offered
    // (QUIC exports no tls-exporter here), so SCRAM runs without channel binding.
    const machine = new ClientStreamMachine({ ...machineGoal, security: 'tls', channelBinding: null });
    // Issue 11: "0-RTT only for bytes that are safe to replay (the stream header), never for
    // authentication": on a resumed connection the header goes early, after the verifier accepted
    // the ticket's chain; SASL waits for the server's features, after the handshake.
    const header = machine.openingHeader();
    try {
      lease = await acquireQuic(deps.quic!, addresses, candidate.port, servername, {
        timeoutMs,
        streamWaitMs: STREAM_WAIT_MS,
        signal,
        sharing: route.sharing,
        ...(header
          ? {
              earlyData: header,
              // The ticket's chain, judged by the one verifier before the header goes out, without
              // a record or a claim on the race: the server has not answered yet.
              precheck: async (chain: Uint8Array[], facts: TlsFacts) =>
                (
                  await deps.verify({
                    transport: 'quic',
                    domain,
                    sni: facts.sni,
                    alpn: facts.alpn,
                    chain,
                    candidate,
                  })
                ).trusted,
            }
          : {}),
        verify: async (chain, facts, joining) => {
          const ok = await verifyOrThrow(
            facts ?? {
              version: 'TLSv1.3',
              cipher: null,
              alpn: ALPN_XMPP_CLIENT,
              sni: servername,
              chain,
              channelBinding: null,
            },
            joining,
          );
          joined = joining && ok;
          return ok;
        },
      });
    } catch (error) {
      if (joined && error instanceof Error) sharedLeaseFailures.add(error);
      // The joiner's verification saved a record: it ends here, with the reason.
      const early = record as SecurityRecord | null;
      if (early) finish(early, (error as Error).message, deps);
      throw error;
    }
    const quicRecord = record as SecurityRecord | null;
    if (!quicRecord) {
      lease.transport.destroy();
      throw new ConnectError('internal', 'The QUIC stream opened without a verified server; Quiver refused it.');
    }
    // A joiner's record was written by its own verification above; this is the session's side.
    quicRecord.tlsVersion = lease.tlsFacts.version;
    quicRecord.cipher = lease.tlsFacts.cipher;
    quicRecord.alpn = lease.tlsFacts.alpn;
    quicRecord.quicConnectionId = lease.connectionId;
    quicRecord.quicStreamId = lease.streamId;
    quicRecord.quic = {
      version: 'QUIC v1',
      pathMtu: lease.connection.connection.stats.maxDatagramSize,
      ech: 'not available',
      sharedWith: lease.sharedWith,
      resumed: lease.tlsFacts.resumed === true,
      earlyData: earlyDataOf(lease),
      localAddress: lease.localAddress,
      remoteAddress: lease.remoteAddress,
    };
    deps.saveRecord(quicRecord);
    driver = new StreamDriver(machine, lease.transport, () => undefined);
  } else if (candidate.transport === 'tls') {
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
    let resumeFailed: string | null = null;
    let serverH: number | null = null;
    const ackedAtLogin: string[] = [];
    let fastToken: Established['fastToken'] | null = null;
    const onAbort = () => fail(abortError());
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      if (lease?.shared) sharedLeaseFailures.add(error);
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
            record.sasl2 = event.sasl2 ?? false;
            record.bind2 = event.bind2 ?? false;
            record.fast = event.fast ?? false;
            deps.saveRecord(record);
          }
          break;
        case 'resume-failed':
          resumeFailed = event.condition;
          serverH = event.h;
          break;
        case 'sm-acked':
          ackedAtLogin.push(...event.ids);
          break;
        case 'fast-token':
          fastToken = { mechanism: event.mechanism, token: event.token, expiry: event.expiry };
          break;
        case 'online':
        case 'resumed':
          if (!record) {
            // Cannot happen: the machine never binds before TLS. Refuse rather than trust it.
            fail(new ConnectError('internal', 'The stream came online without TLS; Quiver refused it.'));
            return;
          }
          record.boundJid = event.jid;
          deps.saveRecord(record);
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({
            goal: 'session',
            driver,
            record,
            boundJid: event.jid,
            resumed: event.type === 'resumed',
            resumeFailed,
            serverH: event.type === 'resumed' ? event.h : serverH,
            ackedAtLogin,
            fastToken,
            inlineEnabled: event.type === 'online' ? (event.inlineEnabled ?? []) : [],
          });
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

/** Whether this account's stream header rode the session's 0-RTT flight, and how the server took it. */
function earlyDataOf(lease: QuicLease): 'not offered' | 'accepted' | 'rejected' {
  // The opener's and each joiner's own stream: a header that went in 1-RTT was not offered early.
  if (!lease.early) return 'not offered';
  const state = lease.connection.connection.earlyDataState;
  return state === 'accepted' || state === 'rejected' ? state : 'not offered';
}

/** How one attempt fits its `establish` call: the race's claim, and QUIC sharing. */
interface Route {
  claim: Claim;
  sharing: 'shared' | 'own';
  /** The `establish` run, for its QUIC memory flags; null for `reachFeatures`. */
  run: Run | null;
}

/**
 * A stream on the pool for the first address that answers. An untrusted server, a person's
 * decision or an abort ends the attempt at once; an address that does not answer passes to the next.
 */
async function acquireQuic(
  pool: QuicSessions,
  addresses: string[],
  port: number,
  sni: string,
  options: Omit<Parameters<QuicSessions['acquire']>[1], 'verify'> & {
    verify(chain: Uint8Array[], facts: TlsFacts | null, joining: boolean): Promise<boolean>;
  },
): Promise<QuicLease> {
  let last: unknown = new ConnectError('no-address', `${sni} has no address for QUIC.`);
  for (const address of addresses) {
    try {
      return await pool.acquire({ address, port, sni, alpn: ALPN_XMPP_CLIENT }, options);
    } catch (error) {
      const code = codeOf(error);
      if (code !== 'quic-timeout' && code !== 'quic-handshake-failed') throw error;
      last = error;
    }
  }
  throw last;
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
