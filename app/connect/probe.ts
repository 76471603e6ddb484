/**
 * `quiver probe`: discovery, then each candidate taken just far enough to verify it and see the
 * XMPP stream features, then closed. No credentials are ever sent.
 *
 * Per candidate, the same steps as the connector (connector.ts) up to the point where it would log
 * in: STARTTLS (RFC 6120 §5.4.2): stream header, `<starttls/>`, `<proceed/>`, TLS, the one verifier,
 * stream restart, features. Direct TLS (XEP-0368 §3): TLS with ALPN `xmpp-client`, the verifier,
 * stream header, features. Nothing is sent inside TLS before the verifier accepted the server.
 * The stream is driven by hand with the stream framer; the stream machine is not needed because
 * nothing past the features is negotiated.
 */
import type { Element } from 'ltx';
import type { Prooftype, TransportPreference, Verdict } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { bogusRefusal, discover, type HostMetaFetcher, type SrvResolver } from './discovery.ts';
import type { HostResolver } from './hostResolver.ts';
import { ALPN_XMPP_CLIENT } from './connector.ts';
import { TcpTransport, connectDirectTls } from '../transport/tcpTransport.ts';
import type { TlsFacts } from '../transport/tlsFacts.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { XmlFramer, type FrameEvent } from '../xmpp/xmlFramer.ts';
import { NS_STREAM, NS_STREAMS, NS_TLS } from '../xmpp/namespaces.ts';

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

export const QUIC_UNAVAILABLE = 'XMPP over QUIC is not available in this version of Quiver yet.';
const DEFAULT_TIMEOUT_MS = 10_000;
/** A probe reads nothing big: a stream header and a features element. */
const LIMITS = { maxStanzaBytes: 64 * 1024, maxDepth: 16 };
/** How long to wait for the server's `</stream:stream>` after ours before just closing. */
const CLOSE_GRACE_MS = 1000;
/** XML whitespace (RFC 6120 §11.7 allows it between top-level elements). */
const WHITESPACE_ONLY = /^[ \t\r\n]*$/;

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
  const session = new ProbeSession(timeoutMs);
  try {
    return await session.run(domain, candidate, deps);
  } catch (error) {
    return { ok: false, prooftype: null, identity: null, error: (error as Error).message };
  } finally {
    session.dispose();
  }
}

class ProbeFailure extends Error {}

const TIMED_OUT = Symbol('timed out');

type ReaderEvent = FrameEvent | { type: 'closed'; error: Error | null } | { type: 'timeout' };

/** One candidate's connection: a transport, a framer, and a queue of what the server sent. */
class ProbeSession {
  #transport: TcpTransport | null = null;
  #framer = new XmlFramer(LIMITS);
  #queue: ReaderEvent[] = [];
  /** `<starttls/>` was sent: a `<proceed/>` ends the plaintext stream. */
  #awaitingProceed = false;
  /** `<proceed/>` was read and TLS has not started: nothing more may arrive in plaintext. */
  #afterProceed = false;
  /** Something other than whitespace arrived in plaintext after `<proceed/>`. */
  #plaintextAfterProceed = false;
  #waiter: ((event: ReaderEvent) => void) | null = null;
  #timer: ReturnType<typeof setTimeout>;
  #timedOut = false;
  readonly #expired: Promise<typeof TIMED_OUT>;
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    let expire: () => void = () => undefined;
    this.#expired = new Promise((resolve) => {
      expire = () => resolve(TIMED_OUT);
    });
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      expire();
      this.#deliver({ type: 'timeout' });
      this.#transport?.destroy();
    }, timeoutMs);
  }

  async run(domain: string, candidate: Candidate, deps: Pick<ProbeDeps, 'hosts' | 'verify'>): Promise<ProbeResult> {
    const where = `${candidate.host}:${candidate.port}`;
    const addresses =
      candidate.ips && candidate.ips.length > 0
        ? candidate.ips
        : await this.#bounded(deps.hosts.resolve(candidate.host));
    // XEP-0487 §3: "you MUST send the provided SNI"; otherwise the JID's domain (XEP-0368 §3).
    const servername = candidate.hostMetaSni ?? domain;
    let facts: TlsFacts;
    if (candidate.transport === 'tls') {
      // connectDirectTls tries each address until a TLS handshake completes.
      const connected = await this.#bounded(
        connectDirectTls(addresses, candidate.port, {
          servername,
          alpn: [ALPN_XMPP_CLIENT],
          timeoutMs: this.#timeoutMs,
        }),
        (late) => late.transport.destroy(),
      );
      this.#attach(connected.transport);
      facts = connected.facts;
    } else {
      this.#attach(
        await this.#bounded(TcpTransport.connect(addresses, candidate.port, this.#timeoutMs), (late) => late.destroy()),
      );
      const features = await this.#openStream(domain, where);
      // RFC 6120 §5.3.1: a server that offers no STARTTLS cannot be used: Quiver never logs in in plaintext.
      if (!features.getChild('starttls', NS_TLS))
        throw new ProbeFailure(`${where} does not offer STARTTLS, and Quiver never connects without TLS.`);
      this.#awaitingProceed = true;
      this.#transport!.write(encode(`<starttls xmlns='${NS_TLS}'/>`));
      const answer = await this.#element(where);
      if (!answer.is('proceed', NS_TLS))
        throw new ProbeFailure(`${where} refused to start TLS (<${answer.getName()}/>).`);
      this.#refusePlaintextAfterProceed(where);
      facts = await this.#bounded(this.#transport!.startTls({ servername, timeoutMs: this.#timeoutMs }));
      this.#refusePlaintextAfterProceed(where);
      // RFC 6120 §5.4.3.3: after TLS the stream is new; nothing read in plaintext counts. A fresh
      // framer and an empty queue: not one byte of the plaintext phase reaches the TLS phase.
      this.#framer = new XmlFramer(LIMITS);
      this.#queue.length = 0;
      this.#afterProceed = false;
    }
    const verdict = await this.#bounded(
      deps.verify({
        transport: candidate.transport,
        domain,
        sni: facts.sni,
        alpn: facts.alpn,
        chain: facts.chain,
        candidate,
      }),
    );
    if (!verdict.trusted) return { ok: false, prooftype: null, identity: null, error: refusal(domain, verdict) };
    await this.#openStream(domain, where);
    await this.#close();
    return { ok: true, prooftype: verdict.prooftype, identity: verdict.identity, error: null };
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#transport?.destroy();
  }

  /**
   * RFC 6120 §5.4.2.3: after `<proceed/>` "the receiving entity MUST consider the TLS negotiation
   * to have begun" and the client starts the handshake; nothing more is exchanged in plaintext.
   * Bytes that follow `<proceed/>` before TLS could be injected by anyone on the path and would be
   * read as if they had come over TLS (the STARTTLS command-injection class of bugs), so the
   * candidate fails, as the stream machine's `refusePlaintextAfterProceed` makes a login fail.
   */
  #refusePlaintextAfterProceed(where: string): void {
    if (!this.#plaintextAfterProceed && this.#queue.length === 0) return;
    throw new ProbeFailure(
      `${where} (or someone on the network) sent unencrypted data after agreeing to STARTTLS, which would be read as if it came over TLS; Quiver does not use this server. Report it to the server's operator if it keeps happening.`,
    );
  }

  #attach(transport: TcpTransport): void {
    this.#transport = transport;
    if (this.#timedOut) transport.destroy();
    transport.setHandlers({
      onData: (chunk) => {
        if (this.#afterProceed) {
          if (!WHITESPACE_ONLY.test(Buffer.from(chunk).toString('latin1'))) this.#plaintextAfterProceed = true;
          return;
        }
        this.#framer.push(chunk);
        for (let event = this.#framer.next(); event !== undefined; event = this.#framer.next()) {
          this.#deliver(event);
          if (this.#awaitingProceed && event.type === 'element' && event.element.is('proceed', NS_TLS)) {
            // The plaintext stream ends here: whatever follows in this read is not parsed but checked.
            this.#awaitingProceed = false;
            this.#afterProceed = true;
            if (!WHITESPACE_ONLY.test(Buffer.from(this.#framer.unparsed()).toString('latin1')))
              this.#plaintextAfterProceed = true;
            return;
          }
        }
      },
      onClose: (error) => this.#deliver({ type: 'closed', error }),
    });
  }

  #deliver(event: ReaderEvent): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter(event);
    } else this.#queue.push(event);
  }

  #next(): Promise<ReaderEvent> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#timedOut) return Promise.resolve({ type: 'timeout' });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /**
   * Resolves with `work`, or fails when the candidate's time is up; `discard` then releases what
   * `work` produces too late (a socket that connected after the deadline).
   */
  async #bounded<T>(work: Promise<T>, discard?: (late: T) => void): Promise<T> {
    const outcome = await Promise.race([work, this.#expired]);
    if (outcome === TIMED_OUT) {
      if (discard) void work.then(discard, () => undefined);
      throw this.#timeoutError();
    }
    return outcome as T;
  }

  #timeoutError(): ProbeFailure {
    return new ProbeFailure(`No answer within ${this.#timeoutMs / 1000} s.`);
  }

  /** Sends our stream header (RFC 6120 §4.7) and returns the server's features. */
  async #openStream(domain: string, where: string): Promise<Element> {
    this.#transport!.write(
      encode(
        `<?xml version='1.0'?><stream:stream to='${escapeAttr(domain)}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`,
      ),
    );
    const header = await this.#next();
    if (header.type !== 'stream-start') throw this.#unexpected(header, where, 'a stream header');
    const features = await this.#element(where);
    if (!features.is('features', NS_STREAM))
      throw new ProbeFailure(`${where} sent <${features.getName()}> where the stream features belong.`);
    return features;
  }

  async #element(where: string): Promise<Element> {
    const event = await this.#next();
    if (event.type !== 'element') throw this.#unexpected(event, where, 'an element');
    if (event.element.is('error', NS_STREAM)) {
      const condition = event.element.children.find(
        (c): c is Element => typeof c !== 'string' && c.getNS() === NS_STREAMS && c.getName() !== 'text',
      );
      const text = event.element.getChildText('text', NS_STREAMS);
      throw new ProbeFailure(
        `${where} ended the stream with the error ${condition?.getName() ?? 'undefined-condition'}${text ? `: ${text}` : ''}.`,
      );
    }
    return event.element;
  }

  #unexpected(event: ReaderEvent, where: string, wanted: string): ProbeFailure {
    switch (event.type) {
      case 'timeout':
        return this.#timeoutError();
      case 'closed':
        return new ProbeFailure(
          `${where} closed the connection before sending ${wanted}${event.error ? ` (${event.error.message})` : ''}.`,
        );
      case 'error':
        return new ProbeFailure(`${where} sent XML Quiver cannot accept (${event.code}: ${event.detail}).`);
      case 'stream-end':
        return new ProbeFailure(`${where} ended the stream before sending ${wanted}.`);
      default:
        return new ProbeFailure(`${where} sent something else where Quiver expected ${wanted}.`);
    }
  }

  /** RFC 6120 §4.4: send `</stream:stream>`, wait (briefly) for the server's, then close. */
  async #close(): Promise<void> {
    const transport = this.#transport!;
    transport.write(encode('</stream:stream>'));
    const grace = setTimeout(() => this.#deliver({ type: 'closed', error: null }), CLOSE_GRACE_MS);
    try {
      for (let event = await this.#next(); ; event = await this.#next()) {
        if (
          event.type === 'stream-end' ||
          event.type === 'closed' ||
          event.type === 'timeout' ||
          event.type === 'error'
        )
          break;
      }
    } finally {
      clearTimeout(grace);
      transport.end();
    }
  }
}

/** The verifier's reason, and for an unproven server what Quiver would do about it. */
function refusal(domain: string, verdict: Verdict): string {
  const message = verdict.error?.message ?? `Quiver could not prove that this server is ${domain}.`;
  if (verdict.decision === null || /decide/i.test(message)) return message;
  return `${message} Quiver would ask the person to decide: refuse, accept once, or pin its key.`;
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
}
