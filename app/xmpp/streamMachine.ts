/**
 * The sans-IO XMPP client stream (RFC 6120 core, RFC 6121 IM): STARTTLS, SASL, resource binding,
 * then message, presence and roster. It owns no socket and no timer. Obligations of the driver:
 *
 * - call `start(now)` once, then feed `handleBytes`, `handleTlsUp`, `handleTransportClosed` and
 *   `handleTimeout` as things happen;
 * - after every `handle*` call and every command, drain `pollTransmit()` (write the bytes, in
 *   order) and `pollEvent()` until both return undefined, then re-arm one timer at
 *   `pollTimeout()`;
 * - on 'tls-required', upgrade the transport (verify the server with `security/`), then call
 *   `handleTlsUp`; never write plaintext after it;
 * - on 'closed', write what `pollTransmit()` still has, then end the transport;
 * - with `goal: 'features'`, on 'features' the negotiation is over: close the stream (`close`).
 *
 * A misbehaving server never makes a method throw: it produces an 'error' event and a close.
 * Methods throw only for programmer errors (a command in the wrong state, bad arguments).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Element } from 'ltx';
import { escapeXML } from 'ltx';
import { inboundIqRequest, inboundMessage, inboundPresence, stanzaFrom, type Inbound } from './inboundStanza.ts';
import { parseJid, type ParsedJid } from './jid.ts';
import { NS_BIND, NS_CLIENT, NS_ROSTER_VER, NS_SESSION, NS_STREAM, NS_STREAMS, NS_TLS } from './namespaces.ts';
import { SaslExchange, type SaslStep } from './saslExchange.ts';
import type { ChannelBinding } from './scram.ts';
import {
  bindRequest,
  messageStanza,
  parseRosterQuery,
  parseStanzaError,
  presenceStanza,
  rosterGet,
  rosterQuery,
  rosterSet,
  sessionRequest,
  type OutgoingPresence,
  type RosterItemUpdate,
} from './stanzas.ts';
import { describePeerStreamError, StreamError } from './streamError.ts';
import type { StreamEvent } from './streamEvent.ts';
import { parseStreamFeatures } from './streamFeatures.ts';
import { XmlFramer, type FrameEvent } from './xmlFramer.ts';
import { isXmlChar } from './xmlScanner.ts';

export type { ChannelBinding } from './scram.ts';
export type { RosterItem, StreamEvent } from './streamEvent.ts';
export type { StreamFeatures } from './streamFeatures.ts';
export { StreamError } from './streamError.ts';

export interface StreamMachineOptions {
  /**
   * How far to go. 'session' (the default): authenticate and bind, then 'online'. 'features':
   * stop at the stream features the server sends once TLS is up (after STARTTLS, or at once with
   * direct TLS) and report them in a 'features' event, without authenticating (`quiver probe`).
   * The TLS rules are the same for both: a server without STARTTLS is refused, never used in plaintext.
   */
  goal?: 'session' | 'features';
  /** Bare JID of the account; for goal 'features' the server's domain alone is enough. */
  jid: string;
  /** Required for goal 'session'; never used (nor needed) for goal 'features'. */
  password?: string;
  /** Resource to request; the server may assign another. */
  resource?: string;
  /**
   * 'starttls': the stream starts in plaintext and MUST negotiate STARTTLS before anything else
   * (a server not offering <starttls/> is refused with error code 'tls-unavailable', never used
   * in plaintext); 'tls': TLS is already up (direct TLS or QUIC).
   */
  security: 'starttls' | 'tls';
  /** For security 'tls': channel-binding data of the established TLS session. */
  channelBinding?: ChannelBinding | null;
  /** Injectable randomness (SCRAM nonce, ids) so tests are deterministic. Default node:crypto randomBytes. */
  randomBytes?: (n: number) => Uint8Array;
  limits?: { maxStanzaBytes?: number; maxDepth?: number };
  /** Deadline for each negotiation step and for the close handshake, ms (default 30000). */
  stepTimeoutMs?: number;
}

export type StreamState =
  | 'idle'
  | 'opening'
  | 'starttls'
  | 'tls-wait'
  | 'authenticating'
  | 'binding'
  | 'online'
  /** Goal 'features': the features over TLS were reported; nothing more is negotiated. */
  | 'features'
  | 'closing'
  | 'closed';

type PendingIq =
  { kind: 'roster-get'; withVer: boolean } | { kind: 'roster-set' } | { kind: 'bind' } | { kind: 'session' };

const DEFAULT_MAX_STANZA = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_STEP_MS = 30_000;
const WHITESPACE_ONLY = /^[ \t\r\n]*$/;

/**
 * XML 1.0 §2.2: characters outside Char (C0 controls, lone surrogates, U+FFFE/FFFF) cannot be
 * escaped at all; one in a user's text would make the server close the stream with
 * <not-well-formed/>. They become U+FFFD. All markup ltx produces is ASCII, so this only touches text.
 */
function xmlSafe(s: string): string {
  if (!/[^\u0020-\uD7FF]/.test(s)) return s;
  let out = '';
  for (const ch of s) out += isXmlChar(ch.codePointAt(0)!) ? ch : '\uFFFD';
  return out;
}

export class ClientStreamMachine {
  private readonly goal: 'session' | 'features';
  private readonly account: ParsedJid;
  private readonly password: string;
  private readonly resource: string | undefined;
  private readonly random: (n: number) => Uint8Array;
  private readonly stepMs: number;
  private readonly limits: { maxStanzaBytes: number; maxDepth: number };
  private readonly framer: XmlFramer;
  private readonly encoder = new TextEncoder();
  private readonly idPrefix: string;

  private current: StreamState = 'idle';
  private tls: boolean;
  private channelBinding: ChannelBinding | null;
  private authenticated = false;
  private sasl: SaslExchange | null = null;
  private boundJid: string | null = null;
  /** RFC 3921 §3 session establishment is needed (advertised without <optional/>). */
  private sessionRequired = false;
  private features: string[] = [];
  private readonly pending = new Map<string, PendingIq>();
  private idCounter = 0;
  private deadline: number | undefined = undefined;
  private closeError: StreamError | null = null;
  private readonly transmit: Uint8Array[] = [];
  private readonly events: StreamEvent[] = [];

  constructor(options: StreamMachineOptions) {
    this.goal = options.goal ?? 'session';
    const account = parseJid(options.jid);
    if (!account || (this.goal === 'session' && account.local === ''))
      throw new Error(`ClientStreamMachine needs an account JID like user@example.org, got "${options.jid}"`);
    if (this.goal === 'session' && options.password === undefined)
      throw new Error('ClientStreamMachine needs a password to start a session');
    this.account = { ...account, resource: '', full: account.bare };
    this.password = options.password ?? '';
    this.resource = options.resource;
    this.random = options.randomBytes ?? ((n) => nodeRandomBytes(n));
    this.stepMs = options.stepTimeoutMs ?? DEFAULT_STEP_MS;
    this.limits = {
      maxStanzaBytes: options.limits?.maxStanzaBytes ?? DEFAULT_MAX_STANZA,
      maxDepth: options.limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
    };
    this.framer = new XmlFramer(this.limits);
    this.tls = options.security === 'tls';
    this.channelBinding = this.tls ? (options.channelBinding ?? null) : null;
    this.idPrefix = Buffer.from(this.random(6)).toString('base64url') + '-';
  }

  get state(): StreamState {
    return this.current;
  }

  /** Queues the opening stream header. Call once, then pollTransmit. */
  start(now: number): void {
    if (this.current !== 'idle') throw new Error(`start() called twice (state is ${this.current})`);
    this.openStream(now);
  }

  /** Bytes received from the transport (any chunking). */
  handleBytes(data: Uint8Array, now: number): void {
    if (this.current === 'idle') throw new Error('handleBytes() before start()');
    if (this.current === 'closed') return;
    if (this.current === 'tls-wait') {
      this.refusePlaintextAfterProceed(data, now);
      return;
    }
    this.framer.push(data);
    for (let ev = this.framer.next(); ev; ev = this.framer.next()) {
      this.handleFrame(ev, now);
      // A restart (TLS) or the end of the stream: the rest is not for this parser.
      if (this.stopsParsing()) break;
    }
  }

  /** After a 'tls-required' event: the driver upgraded the transport and the verifier accepted the server. Restarts the stream over TLS. */
  handleTlsUp(channelBinding: ChannelBinding | null, now: number): void {
    if (this.current === 'closed') return;
    if (this.current !== 'tls-wait')
      throw new Error(`handleTlsUp() is only valid after 'tls-required' (state is ${this.current})`);
    this.tls = true;
    this.channelBinding = channelBinding;
    // RFC 6120 §5.4.3.3: once TLS is up, what was learnt in plaintext (the features) is discarded
    // and the client opens a fresh stream over the protected channel.
    this.features = [];
    this.openStream(now);
  }

  /** The transport closed under us (EOF/reset). */
  handleTransportClosed(now: number, reason?: string): void {
    void now;
    if (this.current === 'closed') return;
    if (this.current === 'idle' || this.current === 'closing') {
      this.finish(this.closeError);
      return;
    }
    const err = new StreamError({
      code: 'transport-closed',
      source: 'peer',
      message: `The connection to ${this.account.domain} closed ${this.current === 'online' ? 'unexpectedly' : `during ${this.stepName()}`}${reason ? ` (${reason})` : ''}. Quiver will need to reconnect.`,
      text: reason ?? null,
    });
    this.events.push({ type: 'error', error: err });
    this.finish(err);
  }

  handleTimeout(now: number): void {
    if (this.deadline === undefined || now < this.deadline) return;
    this.deadline = undefined;
    if (this.current === 'closing') {
      // RFC 6120 §4.4: after sending the closing tag we wait a bounded time for the peer's,
      // then consider the stream closed anyway.
      this.finish(this.closeError);
      return;
    }
    if (this.current === 'online' || this.current === 'idle' || this.current === 'closed') return;
    const err = new StreamError({
      code: 'timeout',
      source: 'local',
      message: `${this.account.domain} did not answer during ${this.stepName()} within ${Math.round(this.stepMs / 1000)} s. Check the network and try again.`,
    });
    this.events.push({ type: 'error', error: err });
    if (this.current !== 'tls-wait') this.sendStreamError('connection-timeout');
    this.finish(err);
  }

  /** Call after every handle* / command until it returns undefined. */
  pollTransmit(): Uint8Array | undefined {
    if (this.transmit.length === 0) return undefined;
    if (this.transmit.length === 1) return this.transmit.shift();
    const total = this.transmit.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.transmit) {
      out.set(c, at);
      at += c.length;
    }
    this.transmit.length = 0;
    return out;
  }

  pollEvent(): StreamEvent | undefined {
    return this.events.shift();
  }

  /** Next deadline (ms) or undefined. */
  pollTimeout(): number | undefined {
    return this.deadline;
  }

  /** Sends a message (RFC 6121 §5); returns the id used (generated when not given). */
  sendMessage(msg: { to: string; body: string; id?: string; type?: 'chat' | 'normal' }): string {
    this.requireOnline('sendMessage');
    if (typeof msg.to !== 'string' || parseJid(msg.to) === null)
      throw new Error(`sendMessage(): "${msg.to}" is not a JID`);
    const id = msg.id ?? this.nextId();
    this.send(messageStanza({ to: msg.to, body: msg.body, id, type: msg.type ?? 'chat' }));
    return id;
  }

  /** Sends presence (RFC 6121 §4): no argument is the initial available presence. */
  sendPresence(p?: OutgoingPresence): void {
    this.requireOnline('sendPresence');
    this.send(presenceStanza(p));
  }

  /**
   * RFC 6121 §2.1.3 roster get; returns the iq id. The result arrives as a 'roster' event.
   * With `ver` (RFC 6121 §2.6), sent only if the server advertised roster versioning.
   */
  requestRoster(ver?: string): string {
    this.requireOnline('requestRoster');
    const id = this.nextId();
    const withVer = ver !== undefined && this.features.includes(NS_ROSTER_VER);
    this.pending.set(id, { kind: 'roster-get', withVer });
    this.send(rosterGet(id, withVer ? ver : undefined));
    return id;
  }

  /** RFC 6121 §2.1.5 / §2.5: add, update or remove one item; returns the iq id. Errors arrive as 'stanza-error'. */
  setRosterItem(item: RosterItemUpdate): string {
    this.requireOnline('setRosterItem');
    if (parseJid(item.jid) === null) throw new Error(`setRosterItem(): "${item.jid}" is not a JID`);
    const id = this.nextId();
    this.pending.set(id, { kind: 'roster-set' });
    this.send(rosterSet(id, item));
    return id;
  }

  /** Sends any stanza built by a later XEP module (only once online). */
  sendStanza(stanza: Element): void {
    this.requireOnline('sendStanza');
    this.send(stanza);
  }

  /** Orderly close: sends unavailable presence if online, then </stream:stream>; emits 'closed' when the peer closed too or after the step timeout. */
  close(now: number): void {
    switch (this.current) {
      case 'closed':
      case 'closing':
        return;
      case 'idle':
      case 'tls-wait':
        // Nothing may be written: either nothing was opened, or the plaintext stream is over.
        this.finish(null);
        return;
      case 'online':
        this.send(presenceStanza({ type: 'unavailable' }));
        break;
      default:
        break;
    }
    this.write('</stream:stream>');
    this.closeError = null;
    this.current = 'closing';
    this.deadline = now + this.stepMs;
  }

  // ---- stream plumbing ----

  private openStream(now: number): void {
    this.framer.reset();
    // RFC 6120 §4.7.1: the client SHOULD include 'from' (its bare JID) once the stream is
    // protected by TLS, and not before, so the JID is not exposed in plaintext. Without an
    // account (goal 'features' given only a domain) there is no JID to give.
    const from = this.tls && this.account.local !== '' ? ` from='${escapeXML(this.account.bare)}'` : '';
    this.write(
      `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}' to='${escapeXML(this.account.domain)}'${from} version='1.0' xml:lang='en'>`,
    );
    this.current = 'opening';
    this.deadline = now + this.stepMs;
  }

  /** A method, not an inline check, because TypeScript narrows `this.current` across calls. */
  private stopsParsing(): boolean {
    return this.current === 'closed' || this.current === 'tls-wait';
  }

  private write(s: string): void {
    this.transmit.push(this.encoder.encode(s));
  }

  private send(el: Element): void {
    this.write(xmlSafe(el.toString()));
  }

  private nextId(): string {
    this.idCounter++;
    return this.idPrefix + this.idCounter.toString(36);
  }

  private requireOnline(command: string): void {
    if (this.current !== 'online') throw new Error(`${command}() is only valid once online (state is ${this.current})`);
  }

  private stepName(): string {
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
      case 'features':
        return 'the stream features check';
      default:
        return this.current;
    }
  }

  /** Emits 'closed' once and stops everything. */
  private finish(error: StreamError | null): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.deadline = undefined;
    this.pending.clear();
    this.events.push({ type: 'closed', error });
  }

  /** RFC 6120 §4.9.1.1: send the stream error, then the closing tag. */
  private sendStreamError(condition: string | null): void {
    if (condition) this.write(`<stream:error><${condition} xmlns='${NS_STREAMS}'/></stream:error>`);
    this.write('</stream:stream>');
  }

  /**
   * A fatal problem found on our side. We tell the server (with `condition` when it broke the
   * protocol), then wait for its closing tag unless we can no longer parse what it sends.
   */
  private fatal(now: number, err: StreamError, condition: string | null, canParse = true): void {
    if (this.current === 'closed') return;
    if (this.current === 'closing') {
      this.finish(this.closeError ?? err);
      return;
    }
    this.events.push({ type: 'error', error: err });
    if (this.current !== 'tls-wait' && this.current !== 'idle') this.sendStreamError(condition);
    this.closeError = err;
    if (!canParse || this.current === 'tls-wait') {
      this.finish(err);
      return;
    }
    this.current = 'closing';
    this.deadline = now + this.stepMs;
  }

  private localError(code: string, message: string): StreamError {
    return new StreamError({ code, source: 'local', message });
  }

  private refusePlaintextAfterProceed(data: Uint8Array, now: number): void {
    if (WHITESPACE_ONLY.test(Buffer.from(data).toString('latin1'))) return;
    // Bytes that arrive after <proceed/> and before TLS could be injected by an attacker and
    // would be read as if they came over TLS (the STARTTLS command-injection class of bugs).
    this.fatal(
      now,
      this.localError(
        'plaintext-after-proceed',
        `${this.account.domain} (or someone on the network) sent unencrypted data after agreeing to STARTTLS. Quiver closed the connection; try again, and report it if it keeps happening.`,
      ),
      null,
    );
  }

  private handleFrame(ev: FrameEvent, now: number): void {
    switch (ev.type) {
      case 'error':
        this.fatal(
          now,
          this.framingError(ev.code, ev.detail),
          ev.code === 'stanza-too-big' ? 'policy-violation' : ev.code,
          false,
        );
        return;
      case 'stream-start':
        this.handleHeader(ev.header, now);
        return;
      case 'stream-end':
        this.handlePeerClose(now);
        return;
      case 'element':
        this.handleElement(ev.element, now);
        return;
    }
  }

  private framingError(code: string, detail: string): StreamError {
    const d = this.account.domain;
    switch (code) {
      case 'restricted-xml':
        return this.localError(
          code,
          `${d} sent XML that XMPP forbids (${detail}; RFC 6120 §11.1). Quiver closed the connection; report it to the server operator if it keeps happening.`,
        );
      case 'stanza-too-big':
        return this.localError(
          code,
          `${d} sent a stanza larger than ${this.limits.maxStanzaBytes} bytes, so Quiver closed the connection.`,
        );
      case 'policy-violation':
        return this.localError(code, `${d} sent ${detail}, so Quiver closed the connection.`);
      case 'unsupported-encoding':
        return this.localError(
          code,
          `${d} sent XML in ${detail}, but XMPP requires UTF-8 (RFC 6120 §11.6). Quiver closed the connection.`,
        );
      default:
        return this.localError(
          'not-well-formed',
          `${d} sent data that is not well-formed XML (${detail}). Quiver closed the connection; try again, and report it to the server operator if it keeps happening.`,
        );
    }
  }

  private handleHeader(header: Element, now: number): void {
    // RFC 6120 §4.8.1: the stream element is qualified by 'http://etherx.jabber.org/streams';
    // §4.8.2: the content namespace of a client stream is 'jabber:client'.
    if (header.getName() !== 'stream' || header.getNS() !== NS_STREAM || header.attrs.xmlns !== NS_CLIENT) {
      this.fatal(
        now,
        this.localError(
          'invalid-namespace',
          `${this.account.domain} did not answer with an XMPP client stream (invalid-namespace). Check the server address and port.`,
        ),
        'invalid-namespace',
      );
      return;
    }
    // RFC 6120 §4.7.5: a missing version means 0.9, without stream features; we need 1.0.
    const version = typeof header.attrs.version === 'string' ? header.attrs.version : '';
    const major = /^(\d+)\.\d+$/.exec(version);
    if (!major || Number(major[1]) < 1) {
      this.fatal(
        now,
        this.localError(
          'unsupported-version',
          `${this.account.domain} speaks an XMPP version older than 1.0 ("${version}"), which Quiver does not support.`,
        ),
        'unsupported-version',
      );
    }
  }

  private handlePeerClose(now: number): void {
    void now;
    if (this.current === 'closing') {
      this.finish(this.closeError);
      return;
    }
    // RFC 6120 §4.4: the other side closed; we answer with our closing tag.
    this.write('</stream:stream>');
    const err = new StreamError({
      code: 'peer-closed',
      source: 'peer',
      message: `${this.account.domain} closed the stream ${this.current === 'online' ? '' : `during ${this.stepName()} `}without giving a reason. Quiver will need to reconnect.`,
    });
    this.events.push({ type: 'error', error: err });
    this.finish(err);
  }

  private handleElement(el: Element, now: number): void {
    if (el.getName() === 'error' && el.getNS() === NS_STREAM) {
      this.handleStreamError(el, now);
      return;
    }
    switch (this.current) {
      case 'opening':
        if (el.getName() === 'features' && el.getNS() === NS_STREAM) this.handleFeatures(el, now);
        else this.unexpected(el, 'stream features', now);
        return;
      case 'starttls':
        this.handleStartTlsAnswer(el, now);
        return;
      case 'authenticating':
        if (this.sasl) this.applySaslStep(this.sasl.handle(el), now);
        return;
      case 'binding':
      case 'online':
        this.handleStanza(el, now);
        return;
      default:
        // 'closing': RFC 6120 §4.4 lets us ignore what arrives after our closing tag.
        return;
    }
  }

  private unexpected(el: Element, expected: string, now: number): void {
    this.fatal(
      now,
      this.localError(
        'unsupported-stanza-type',
        `${this.account.domain} sent <${el.name}/> where ${expected} were expected (unsupported-stanza-type). Quiver closed the connection.`,
      ),
      'unsupported-stanza-type',
    );
  }

  /** RFC 6120 §4.9: <stream:error> from the server. */
  private handleStreamError(el: Element, now: number): void {
    let condition = 'undefined-condition';
    let text: string | null = null;
    let otherHost: string | null = null;
    for (const c of el.getChildElements()) {
      if (c.getNS() !== NS_STREAMS) continue;
      if (c.getName() === 'text') {
        text = c.getText();
      } else if (condition === 'undefined-condition') {
        condition = c.getName();
        // RFC 6120 §4.9.3.19: the character data of <see-other-host/> names the host (FQDN or IP
        // address, optionally with a port) to connect to instead.
        if (condition === 'see-other-host') otherHost = c.getText().trim() || null;
      }
    }
    const err = new StreamError({
      code: condition,
      source: 'peer',
      text,
      otherHost,
      message: describePeerStreamError(condition, this.account.domain, text, otherHost),
    });
    this.events.push({ type: 'error', error: err });
    if (this.current === 'closing') {
      this.finish(this.closeError ?? err);
      return;
    }
    // RFC 6120 §4.9.1.1: the peer follows the error with its closing tag; we close ours too.
    this.write('</stream:stream>');
    this.closeError = err;
    this.current = 'closing';
    this.deadline = now + this.stepMs;
  }

  private handleFeatures(features: Element, now: number): void {
    const children = features.getChildElements();
    const offered = parseStreamFeatures(features);
    this.features = offered.namespaces;
    const find = (name: string, ns: string) => children.find((c) => c.getName() === name && c.getNS() === ns);

    if (!this.tls) {
      // RFC 6120 §5.3.1 / §13.8: we require TLS; without <starttls/> there is no safe way on.
      if (!offered.starttls) {
        this.fatal(
          now,
          this.localError(
            'tls-unavailable',
            `${this.account.domain} does not offer STARTTLS, so the connection could not be encrypted. Quiver refuses to sign in without TLS; try direct TLS, or ask the provider to enable STARTTLS.`,
          ),
          null,
        );
        return;
      }
      this.write(`<starttls xmlns='${NS_TLS}'/>`);
      this.current = 'starttls';
      this.deadline = now + this.stepMs;
      return;
    }

    if (this.goal === 'features') {
      // The goal is reached: these are the features of the TLS-protected stream (RFC 6120
      // §5.4.3.3 discarded the plaintext ones). Nothing is authenticated or sent.
      this.current = 'features';
      this.deadline = undefined;
      this.events.push({ type: 'features', features: offered });
      return;
    }

    if (!this.authenticated) {
      this.startSasl(features, now);
      return;
    }

    // RFC 6120 §7.6.1: after SASL the server offers <bind/>; binding is mandatory for clients.
    if (!find('bind', NS_BIND)) {
      this.fatal(
        now,
        this.localError(
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
    this.pending.set(id, { kind: 'bind' });
    this.send(bindRequest(id, this.resource));
    this.current = 'binding';
    this.deadline = now + this.stepMs;
  }

  private handleStartTlsAnswer(el: Element, now: number): void {
    if (el.getNS() === NS_TLS && el.getName() === 'proceed') {
      // RFC 6120 §5.4.2.3: after <proceed/> both sides go straight to the TLS handshake; nothing
      // more is exchanged in plaintext. Anything already buffered is refused.
      const rest = Buffer.from(this.framer.unparsed()).toString('latin1');
      this.framer.discardUnparsed();
      if (!WHITESPACE_ONLY.test(rest)) {
        this.current = 'tls-wait';
        this.refusePlaintextAfterProceed(Buffer.from(rest, 'latin1'), now);
        return;
      }
      this.current = 'tls-wait';
      this.deadline = now + this.stepMs;
      this.events.push({ type: 'tls-required' });
      return;
    }
    if (el.getNS() === NS_TLS && el.getName() === 'failure') {
      // RFC 6120 §5.4.2.2: the server sends <failure/> and closes the stream.
      this.fatal(
        now,
        this.localError(
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

  private applySaslStep(step: SaslStep, now: number): void {
    switch (step.kind) {
      case 'send':
        this.write(step.xml);
        this.deadline = now + this.stepMs;
        return;
      case 'fail':
        this.fatal(now, step.error, step.unexpected ? 'unsupported-stanza-type' : null);
        return;
      case 'success':
        this.authenticated = true;
        this.sasl = null;
        this.events.push({ type: 'authenticated', mechanism: step.mechanism, channelBinding: step.channelBinding });
        // RFC 6120 §6.4.6: on <success/> the client opens a new stream over the same connection,
        // without closing the old one.
        this.openStream(now);
        return;
    }
  }

  // ---- stanzas (RFC 6120 §8, RFC 6121) ----

  private handleStanza(el: Element, now: number): void {
    if (el.getNS() !== NS_CLIENT) return; // unknown top-level elements (e.g. an unnegotiated XEP) are ignored
    const ctx = { account: this.account.bare, boundJid: this.boundJid };
    let inbound: Inbound;
    switch (el.getName()) {
      case 'message':
        inbound = inboundMessage(el, ctx);
        break;
      case 'presence':
        inbound = inboundPresence(el, ctx);
        break;
      case 'iq': {
        const type = el.attrs.type;
        const id = typeof el.attrs.id === 'string' ? el.attrs.id : null;
        if (type === 'result' || type === 'error') {
          const pending = id === null ? undefined : this.pending.get(id);
          if (id !== null) this.pending.delete(id);
          this.handleIqResponse(el, id, type, pending, now);
          return;
        }
        // RFC 6120 §8.2.3: 'type' is one of get, set, result, error; anything else is not an IQ we can answer.
        if (type !== 'get' && type !== 'set') return;
        inbound = inboundIqRequest(el, ctx);
        break;
      }
      default:
        return;
    }
    this.events.push(...inbound.events);
    if (inbound.reply) this.send(inbound.reply);
  }

  private handleIqResponse(
    iq: Element,
    id: string | null,
    type: 'result' | 'error',
    pending: PendingIq | undefined,
    now: number,
  ): void {
    if (pending?.kind === 'bind') {
      this.handleBindResponse(iq, type, now);
      return;
    }
    if (pending?.kind === 'session') {
      if (type === 'error') {
        const e = parseStanzaError(iq);
        this.fatal(
          now,
          this.localError('bind-failed', `${this.account.domain} refused to start the session (${e.condition}).`),
          null,
        );
        return;
      }
      this.goOnline();
      return;
    }
    if (type === 'error') {
      const e = parseStanzaError(iq);
      this.events.push({
        type: 'stanza-error',
        id,
        condition: e.condition,
        text: e.text,
        stanzaKind: 'iq',
        from: stanzaFrom(iq),
      });
      return;
    }
    if (pending?.kind === 'roster-get') {
      const query = rosterQuery(iq);
      if (!query) {
        // RFC 6121 §2.6.3: with a version, an empty result means "no change; pushes follow".
        this.events.push({ type: 'roster', items: [], ver: null, unchanged: pending.withVer });
        return;
      }
      const { items, ver } = parseRosterQuery(query);
      this.events.push({ type: 'roster', items, ver, unchanged: false });
    }
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
      this.fatal(
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
    if (!jid || jid.resource === '' || jid.domain !== this.account.domain) {
      this.fatal(
        now,
        this.localError(
          'bind-failed',
          `${this.account.domain} bound an invalid address ("${jidText}") for ${this.account.bare}.`,
        ),
        null,
      );
      return;
    }
    this.boundJid = jid.full;
    if (this.sessionRequired) {
      const id = this.nextId();
      this.pending.set(id, { kind: 'session' });
      this.send(sessionRequest(id));
      this.deadline = now + this.stepMs;
      return;
    }
    this.goOnline();
  }

  private goOnline(): void {
    this.current = 'online';
    this.deadline = undefined;
    this.events.push({ type: 'online', jid: this.boundJid!, features: [...this.features] });
  }
}
