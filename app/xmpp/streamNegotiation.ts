/**
 * Client stream negotiation (RFC 6120 §4.3): the stream features, then STARTTLS (§5), SASL (§6,
 * driven by SaslExchange) and resource binding (§7, with the RFC 3921 §3 session when the server
 * requires it); or, with goal 'features', a stop at the features offered over TLS.
 *
 * It owns the step reached and what negotiation learns (TLS, channel binding, features, the bound
 * JID). The stream around it (header, parser, deadline, stream errors, close) belongs to the
 * stream machine, which lends it a `NegotiationHost`. Obligations of the host: call `start` once
 * the stream opens, hand it every element while `step` is not 'tls-wait', route an element it
 * declines (returns false) to the online session, and hand it the bytes that arrive in 'tls-wait'.
 */
import type { Element } from 'ltx';
import type { FastCredentials } from './fast.ts';
import { parseJid, type ParsedJid } from './jid.ts';
import { NS_BIND, NS_CLIENT, NS_SESSION, NS_STREAM, NS_TLS } from './namespaces.ts';
import { Sasl2Exchange, type Sasl2Step } from './sasl2.ts';
import { planSasl2, sasl2Outcome, type Sasl2Plan } from './sasl2Login.ts';
import { SaslExchange, type SaslStep } from './saslExchange.ts';
import type { ChannelBinding } from './scram.ts';
import { bindRequest, parseStanzaError, sessionRequest } from './stanzas.ts';
import { localError, StreamError } from './streamError.ts';
import { parseStreamFeatures } from './streamFeatures.ts';
import type { StreamOutput } from './streamOutput.ts';

export type NegotiationStep =
  | 'opening'
  | 'starttls'
  | 'tls-wait'
  | 'authenticating'
  | 'binding'
  /** XEP-0198 §5: <resume/> was sent instead of binding; the answer is stream management's. */
  | 'resuming'
  /** Goal 'features': the features over TLS were reported; nothing more is negotiated. */
  | 'features';

/** What negotiation needs from the stream it runs in. */
export interface NegotiationHost extends StreamOutput {
  /** Starts a new XML stream: resets the parser, writes our header (`from` only when `encrypted`), arms the deadline. */
  openStream(encrypted: boolean, now: number): void;
  /** The bytes received after the element being handled; the parser forgets them. */
  takeUnparsed(): Uint8Array;
  /** The server has one step timeout from `now` to answer. */
  armDeadline(now: number): void;
  /** Nothing is awaited from the server any more. */
  clearDeadline(): void;
  /** Fatal: report `error`, send the stream error `condition` (when the server broke the protocol), close. */
  fail(now: number, error: StreamError, condition: string | null): void;
  /**
   * After authentication, before binding: resume a former stream instead (XEP-0198 §5), given
   * whether the server offers <sm/>. True when the request was sent; the host then ends the step
   * (online) or calls `resumeFailed`.
   */
  resume(smOffered: boolean, now: number): boolean;
  /** The server bound `jid`: stanzas that arrive from now on are addressed to it. */
  bound(jid: string): void;
  /**
   * Negotiation is over and the session is online. `inline`: what Bind 2 negotiated (hand
   * `smAnswer` to stream management when `smAsked`).
   */
  online(jid: string, features: string[], inline?: InlineOutcome): void;
  /** XEP-0198: a former stream waits to be resumed. */
  smPendingResume(): boolean;
  /** XEP-0198 in SASL2 <inline/>: the <resume/> for <authenticate/>, or null (nothing to resume). */
  smResumeRequest(): Element | null;
  /** XEP-0198 in Bind 2: the <enable/> to request, or null when the options do not ask for SM. */
  smEnableRequest(): Element | null;
  /** An XEP-0198 answer (<resumed/>, <failed/>) that came inside SASL2 <success/>. */
  smInline(el: Element, now: number): void;
}

/** XEP-0386: what was negotiated inline with Bind 2. */
export interface InlineOutcome {
  /** An XEP-0198 <enable/> was in the bind request; `smAnswer` is the <enabled/> or <failed/> of <bound/>. */
  smAsked: boolean;
  smAnswer: Element | undefined;
  /** Namespaces of other features enabled inline (XEP-0280 carbons). */
  enabled: string[];
}

export interface NegotiationOptions {
  goal: 'session' | 'features';
  /** The account's bare JID (its localpart is empty for goal 'features' given only a domain). */
  account: ParsedJid;
  password: string;
  resource: string | undefined;
  /** TLS is already up (direct TLS or QUIC); otherwise STARTTLS is required. */
  tls: boolean;
  channelBinding: ChannelBinding | null;
  random: (n: number) => Uint8Array;
  /** Stanza ids, shared with the online session so no two requests of one stream share an id. */
  nextId: () => string;
  /** XEP-0388 SASL2 with XEP-0386 Bind 2 when offered (see StreamMachineOptions for these). */
  sasl2: boolean;
  userAgent: { id: string; device: string | null } | null;
  carbons: boolean;
  fast: FastCredentials | null;
  requestFastToken: boolean;
}

const WHITESPACE_ONLY = /^[ \t\r\n]*$/;

export class StreamNegotiation {
  private readonly goal: 'session' | 'features';
  private readonly account: ParsedJid;
  private readonly password: string;
  private readonly resource: string | undefined;
  private readonly random: (n: number) => Uint8Array;
  private readonly nextId: () => string;
  private readonly host: NegotiationHost;
  private readonly options: NegotiationOptions;

  private current: NegotiationStep = 'opening';
  private tls: boolean;
  private channelBinding: ChannelBinding | null;
  private authenticated = false;
  private sasl: SaslExchange | null = null;
  private sasl2: { exchange: Sasl2Exchange; plan: Sasl2Plan } | null = null;
  /** SASL2 succeeded: its <success/>, whose inline answers are applied once the features follow. */
  private sasl2Done: { success: Element; authzid: string; plan: Sasl2Plan } | null = null;
  /** A stream resumed inside SASL2 <success/> still expects that success's <features/> (`takeLateFeatures`). */
  private lateFeatures = false;
  private boundJid: string | null = null;
  /** RFC 3921 §3 session establishment is needed (advertised without <optional/>). */
  private sessionRequired = false;
  private features: string[] = [];
  /** The features that offered binding, kept while a resumption is tried first. */
  private bindFeatures: Element | null = null;
  /** Our bind or session request, until its answer arrives. */
  private awaiting: { id: string; kind: 'bind' | 'session' } | null = null;

  constructor(options: NegotiationOptions, host: NegotiationHost) {
    this.goal = options.goal;
    this.account = options.account;
    this.password = options.password;
    this.resource = options.resource;
    this.random = options.random;
    this.nextId = options.nextId;
    this.tls = options.tls;
    this.channelBinding = options.channelBinding;
    this.host = host;
    this.options = options;
  }

  get step(): NegotiationStep {
    return this.current;
  }

  /** Namespaces of the last <stream:features/> received. */
  get offeredFeatures(): string[] {
    return [...this.features];
  }

  /** Opens the first stream. */
  start(now: number): void {
    this.openStream(now);
  }

  /** The driver upgraded the transport after <proceed/> and the verifier accepted the server. */
  tlsUp(channelBinding: ChannelBinding | null, now: number): void {
    this.tls = true;
    this.channelBinding = channelBinding;
    // RFC 6120 §5.4.3.3: once TLS is up, what was learnt in plaintext (the features) is discarded
    // and the client opens a fresh stream over the protected channel.
    this.features = [];
    this.openStream(now);
  }

  /**
   * One top-level element of the server's stream (stream errors are the host's). Returns false
   * for an element that is not negotiation's: a stanza that arrives while binding, which the
   * online session routes.
   */
  handleElement(el: Element, now: number): boolean {
    switch (this.current) {
      case 'opening':
        if (el.getName() === 'features' && el.getNS() === NS_STREAM) this.handleFeatures(el, now);
        else this.unexpected(el, 'stream features', now);
        return true;
      case 'starttls':
        this.handleStartTlsAnswer(el, now);
        return true;
      case 'authenticating':
        if (this.sasl) this.applySaslStep(this.sasl.handle(el), now);
        else if (this.sasl2) this.applySasl2Step(this.sasl2.exchange.handle(el), now);
        return true;
      case 'binding':
        return this.handleBindingAnswer(el, now);
      case 'resuming':
        // Stanzas come only after <resumed/> (stream management's, routed by the host).
        this.unexpected(el, 'the answer to the stream resumption', now);
        return true;
      default:
        // 'features': the goal is reached and nothing more is read; 'tls-wait' parses nothing.
        return true;
    }
  }

  /**
   * After a resumption inline in SASL2: the <features/> that XEP-0388 §2.5 says follow <success/>
   * arrive once the stream is online again. True when `el` is those features (then dropped, once).
   */
  takeLateFeatures(el: Element): boolean {
    if (!this.lateFeatures || el.getName() !== 'features' || el.getNS() !== NS_STREAM) return false;
    this.lateFeatures = false;
    // They describe the authenticated stream (CSI, ...): what the online session goes by from now on.
    this.features = parseStreamFeatures(el).namespaces;
    return true;
  }

  /** Bytes that arrived in 'tls-wait', after <proceed/> and before the TLS handshake. */
  refusePlaintextAfterProceed(data: Uint8Array, now: number): void {
    if (WHITESPACE_ONLY.test(Buffer.from(data).toString('latin1'))) return;
    // Bytes that arrive after <proceed/> and before TLS could be injected by an attacker and
    // would be read as if they came over TLS (the STARTTLS command-injection class of bugs).
    this.host.fail(
      now,
      localError(
        'plaintext-after-proceed',
        `${this.account.domain} (or someone on the network) sent unencrypted data after agreeing to STARTTLS. Quiver closed the connection; try again, and report it if it keeps happening.`,
      ),
      null,
    );
  }

  /** XEP-0198 §5: the resumption failed and the server lets us bind a resource instead. */
  resumeFailed(now: number): void {
    if (this.current !== 'resuming' || this.bindFeatures === null) {
      // A <failed/> to an inline <resume/> that came outside SASL2's <success/>: out of place.
      this.host.fail(
        now,
        localError(
          'sm-protocol-violation',
          `${this.account.domain} answered the stream resumption out of place (XEP-0198). Quiver closed the connection and keeps the unacknowledged messages to send again.`,
        ),
        'undefined-condition',
      );
      return;
    }
    const features = this.bindFeatures;
    this.bindFeatures = null;
    const done = this.sasl2Done;
    this.sasl2Done = null;
    // XEP-0386 §3: a failed inline resumption leaves the <bind/> of the same request to the server.
    if (done?.plan.bind2) this.bound2(done, now);
    else this.bind(features, now);
  }

  /** The step, as a person reads it in "... did not answer during <step>". */
  stepName(): string {
    switch (this.current) {
      case 'opening':
        return 'the stream opening';
      case 'starttls':
        return 'the STARTTLS request';
      case 'tls-wait':
        return 'the TLS handshake';
      case 'authenticating':
        return 'authentication';
      case 'binding':
        return 'resource binding';
      case 'resuming':
        return 'stream resumption';
      case 'features':
        return 'the stream features check';
    }
  }

  private openStream(now: number): void {
    this.host.openStream(this.tls, now);
    this.current = 'opening';
  }

  private unexpected(el: Element, expected: string, now: number): void {
    this.host.fail(
      now,
      localError(
        'unsupported-stanza-type',
        `${this.account.domain} sent <${el.name}/> where ${expected} were expected (unsupported-stanza-type). Quiver closed the connection.`,
      ),
      'unsupported-stanza-type',
    );
  }

  private handleFeatures(features: Element, now: number): void {
    const offered = parseStreamFeatures(features);
    this.features = offered.namespaces;

    if (!this.tls) {
      // RFC 6120 §5.3.1 / §13.8: we require TLS; without <starttls/> there is no safe way on.
      if (!offered.starttls) {
        this.host.fail(
          now,
          localError(
            'tls-unavailable',
            `${this.account.domain} does not offer STARTTLS, so the connection could not be encrypted. Quiver refuses to sign in without TLS; try direct TLS, or ask the provider to enable STARTTLS.`,
          ),
          null,
        );
        return;
      }
      this.host.write(`<starttls xmlns='${NS_TLS}'/>`);
      this.current = 'starttls';
      this.host.armDeadline(now);
      return;
    }

    if (this.goal === 'features') {
      // The goal is reached: these are the features of the TLS-protected stream (RFC 6120
      // §5.4.3.3 discarded the plaintext ones). Nothing is authenticated or sent.
      this.current = 'features';
      this.host.clearDeadline();
      this.host.emit({ type: 'features', features: offered });
      return;
    }

    if (!this.authenticated) {
      if (this.options.sasl2 && offered.sasl2Mechanisms.length > 0)
        this.startSasl2(features, offered.sasl2Mechanisms, now);
      else this.startSasl(features, now);
      return;
    }

    const done = this.sasl2Done;
    if (done !== null && (done.plan.resume || done.plan.bind2)) {
      if (done.plan.resume) {
        // XEP-0386 §3: "If the client included a <resume/> element in its SASL2 negotiation, that
        // MUST be processed first by the server"; its answer is stream management's.
        this.bindFeatures = features;
        this.current = 'resuming';
        this.host.armDeadline(now);
        this.host.smInline(sasl2Outcome(done.success).smResumeAnswer, now);
        return;
      }
      this.sasl2Done = null;
      this.bound2(done, now);
      return;
    }
    this.sasl2Done = null;

    // XEP-0198 §3: stream management may be negotiated before binding only "if it is resuming a
    // previous session" (§5), which then replaces binding.
    if (this.host.resume(offered.sm, now)) {
      this.bindFeatures = features;
      this.current = 'resuming';
      this.host.armDeadline(now);
      return;
    }
    this.bind(features, now);
  }

  /** RFC 6120 §7: resource binding, with the features that followed authentication. */
  private bind(features: Element, now: number): void {
    const children = features.getChildElements();
    const find = (name: string, ns: string) => children.find((c) => c.getName() === name && c.getNS() === ns);
    // RFC 6120 §7.6.1: after SASL the server offers <bind/>; binding is mandatory for clients.
    if (!find('bind', NS_BIND)) {
      this.host.fail(
        now,
        localError(
          'bind-failed',
          `${this.account.domain} did not offer resource binding after authentication, so the session cannot start.`,
        ),
        null,
      );
      return;
    }
    const session = find('session', NS_SESSION);
    if (session && !session.getChildElements().some((c) => c.getName() === 'optional')) this.sessionRequired = true;
    const id = this.nextId();
    this.awaiting = { id, kind: 'bind' };
    this.host.send(bindRequest(id, this.resource));
    this.current = 'binding';
    this.host.armDeadline(now);
  }

  private handleStartTlsAnswer(el: Element, now: number): void {
    if (el.getNS() === NS_TLS && el.getName() === 'proceed') {
      // RFC 6120 §5.4.2.3: after <proceed/> both sides go straight to the TLS handshake; nothing
      // more is exchanged in plaintext. Anything already buffered is refused.
      const rest = Buffer.from(this.host.takeUnparsed()).toString('latin1');
      if (!WHITESPACE_ONLY.test(rest)) {
        this.current = 'tls-wait';
        this.refusePlaintextAfterProceed(Buffer.from(rest, 'latin1'), now);
        return;
      }
      this.current = 'tls-wait';
      this.host.armDeadline(now);
      this.host.emit({ type: 'tls-required' });
      return;
    }
    if (el.getNS() === NS_TLS && el.getName() === 'failure') {
      // RFC 6120 §5.4.2.2: the server sends <failure/> and closes the stream.
      this.host.fail(
        now,
        localError(
          'tls-failed',
          `${this.account.domain} refused to start TLS (STARTTLS failure). Quiver will not continue without encryption.`,
        ),
        null,
      );
      return;
    }
    this.unexpected(el, 'the answer to STARTTLS', now);
  }

  // ---- SASL (RFC 6120 §6), driven by SaslExchange ----

  private startSasl(features: Element, now: number): void {
    const creds = {
      account: this.account.bare,
      username: this.account.local,
      password: this.password,
      domain: this.account.domain,
    };
    const { exchange, step } = SaslExchange.start(features, creds, this.channelBinding, this.random);
    this.sasl = exchange;
    this.current = 'authenticating';
    this.applySaslStep(step, now);
  }

  /**
   * The steps SASL and SASL2 share: write the next message and wait for the answer, or end the
   * stream on a failure. False for a success, which each handles its own way.
   */
  private sendOrFail(step: SaslStep | Sasl2Step, now: number): boolean {
    if (step.kind === 'send') {
      this.host.write(step.xml);
      this.host.armDeadline(now);
      return true;
    }
    if (step.kind === 'fail') {
      this.host.fail(now, step.error, step.unexpected ? 'unsupported-stanza-type' : null);
      return true;
    }
    return false;
  }

  private applySaslStep(step: SaslStep, now: number): void {
    if (this.sendOrFail(step, now)) return;
    switch (step.kind) {
      case 'success':
        this.authenticated = true;
        this.sasl = null;
        this.host.emit({ type: 'authenticated', mechanism: step.mechanism, channelBinding: step.channelBinding });
        // RFC 6120 §6.4.6: on <success/> the client opens a new stream over the same connection,
        // without closing the old one.
        this.openStream(now);
        return;
    }
  }

  // ---- SASL2 (XEP-0388) with Bind 2 (XEP-0386) and FAST (XEP-0484) inline ----

  private startSasl2(features: Element, mechanisms: string[], now: number): void {
    const o = this.options;
    const { plan, offer, inline } = planSasl2(features, mechanisms, {
      smPendingResume: this.host.smPendingResume(),
      smResumeRequest: () => this.host.smResumeRequest(),
      smEnableRequest: () => this.host.smEnableRequest(),
      carbons: o.carbons,
      requestFastToken: o.requestFastToken && o.userAgent !== null,
      binding: this.channelBinding,
    });
    const { exchange, step } = Sasl2Exchange.start(offer, {
      creds: {
        account: this.account.bare,
        username: this.account.local,
        password: this.password,
        domain: this.account.domain,
      },
      binding: this.channelBinding,
      random: this.random,
      // XEP-0484 §5: "Clients wishing to use FAST authentication ... MUST also provide the a SASL2
      // <user-agent> element with an 'id' attribute".
      fast: o.userAgent !== null ? o.fast : null,
      userAgent: { id: o.userAgent?.id ?? null, software: 'Quiver', device: o.userAgent?.device ?? null },
      inline,
    });
    this.sasl2 = exchange === null ? null : { exchange, plan };
    this.current = 'authenticating';
    this.applySasl2Step(step, now);
  }

  private applySasl2Step(step: Sasl2Step, now: number): void {
    if (this.sendOrFail(step, now)) return;
    switch (step.kind) {
      case 'success': {
        const plan = this.sasl2!.plan;
        this.authenticated = true;
        this.sasl2 = null;
        this.host.emit({
          type: 'authenticated',
          mechanism: step.mechanism,
          channelBinding: step.channelBinding,
          sasl2: true,
          bind2: plan.bind2,
          fast: step.fast,
        });
        const outcome = sasl2Outcome(step.success);
        const mechanism = plan.tokenMechanism ?? (step.fast ? step.mechanism : null);
        // XEP-0484 §3.3: a token comes when asked for, or as a rotation when one was used. One
        // that cannot be read is not reported: the next sign-in then uses the password.
        if (outcome.token?.ok && mechanism !== null)
          this.host.emit({ type: 'fast-token', mechanism, token: outcome.token.token, expiry: outcome.token.expiry });
        if (plan.resume && outcome.smResumeAnswer.getName() === 'resumed') {
          // The former stream lives again at once: Prosody 13 sends its <r/> and the stanzas it
          // queued right after <success/>, before the <features/> XEP-0388 §2.5 announces. The
          // resumption is done now; those features, when they come, are read and dropped.
          this.current = 'resuming';
          this.lateFeatures = true;
          this.host.armDeadline(now);
          this.host.smInline(outcome.smResumeAnswer, now);
          return;
        }
        this.sasl2Done = { success: step.success, authzid: step.authzid, plan };
        // XEP-0388 §2.5: "The <success> element is immediately followed by a <features> element
        // ... containing the applicable stream features of the newly authenticated stream. Note
        // that no stream restart occurs."
        this.current = 'opening';
        this.host.armDeadline(now);
        return;
      }
    }
  }

  /** XEP-0386 §3: the session Bind 2 bound (the full JID is SASL2's authorization identifier). */
  private bound2(done: { success: Element; authzid: string; plan: Sasl2Plan }, now: number): void {
    const outcome = sasl2Outcome(done.success);
    const jid = parseJid(done.authzid);
    if (outcome.bound === undefined || jid === null || jid.resource === '') {
      this.host.fail(
        now,
        localError(
          'bind-failed',
          `${this.account.domain} signed ${this.account.bare} in but did not bind a resource as asked (XEP-0386 Bind 2), so the session cannot start.`,
        ),
        null,
      );
      return;
    }
    this.boundJid = jid.full;
    this.host.bound(jid.full);
    this.host.online(jid.full, this.features, {
      smAsked: done.plan.smEnable,
      smAnswer: outcome.smEnableAnswer,
      enabled: [...done.plan.enabledInline],
    });
  }

  // ---- resource binding (RFC 6120 §7) and the legacy session (RFC 3921 §3) ----

  /** The answer to our bind or session request; false for any other element. */
  private handleBindingAnswer(el: Element, now: number): boolean {
    if (el.getNS() !== NS_CLIENT || el.getName() !== 'iq') return false;
    const type = el.attrs.type;
    const id = typeof el.attrs.id === 'string' ? el.attrs.id : null;
    if ((type !== 'result' && type !== 'error') || this.awaiting === null || id !== this.awaiting.id) return false;
    const kind = this.awaiting.kind;
    this.awaiting = null;
    if (kind === 'bind') {
      this.handleBindResponse(el, type, now);
      return true;
    }
    if (type === 'error') {
      const e = parseStanzaError(el);
      this.host.fail(
        now,
        localError('bind-failed', `${this.account.domain} refused to start the session (${e.condition}).`),
        null,
      );
      return true;
    }
    this.goOnline();
    return true;
  }

  private handleBindResponse(iq: Element, type: 'result' | 'error', now: number): void {
    if (type === 'error') {
      const e = parseStanzaError(iq);
      const why =
        e.condition === 'conflict'
          ? `the resource "${this.resource ?? ''}" is already in use and the server would not assign another`
          : e.condition === 'not-allowed'
            ? 'the server does not allow this client to bind a resource'
            : `the server answered ${e.condition}`;
      this.host.fail(
        now,
        new StreamError({
          code: 'bind-failed',
          source: 'peer',
          text: e.text,
          message: `Could not start a session for ${this.account.bare}: ${why}.`,
        }),
        null,
      );
      return;
    }
    const bind = iq.getChildElements().find((c) => c.getName() === 'bind' && c.getNS() === NS_BIND);
    const jidText =
      bind
        ?.getChildElements()
        .find((c) => c.getName() === 'jid')
        ?.getText()
        .trim() ?? '';
    const jid = parseJid(jidText);
    // RFC 6120 §7.6.1: the result carries the full JID <localpart@domainpart/resource>.
    // A server that binds another account's address (a bug, or worse) is not used either.
    if (!jid || jid.resource === '' || jid.bare.toLowerCase() !== this.account.bare.toLowerCase()) {
      this.host.fail(
        now,
        localError(
          'bind-failed',
          `${this.account.domain} bound an invalid address ("${jidText}") for ${this.account.bare}.`,
        ),
        null,
      );
      return;
    }
    this.boundJid = jid.full;
    this.host.bound(jid.full);
    if (this.sessionRequired) {
      const id = this.nextId();
      this.awaiting = { id, kind: 'session' };
      this.host.send(sessionRequest(id));
      this.host.armDeadline(now);
      return;
    }
    this.goOnline();
  }

  private goOnline(): void {
    this.host.online(this.boundJid!, this.features);
  }
}
