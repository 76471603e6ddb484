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
 *
 * This class owns the stream itself: the header, the parser and its errors, stream errors, the
 * close handshake, the state, the step deadline and the output and event queues. What happens
 * inside the stream belongs to pieces it wires up through `StreamOutput`: negotiation
 * (streamNegotiation.ts: features, STARTTLS, SASL, bind), once bound the online session
 * (onlineSession.ts: inbound routing, outgoing stanzas), and XEP-0198 stream management
 * (streamManagement.ts: enable or resume, acks, the unacknowledged stanzas) when the options ask
 * for it. A resumed stream reports 'resumed' instead of 'online'.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Element } from 'ltx';
import { parseJid, type ParsedJid } from './jid.ts';
import { NS_CLIENT, NS_SM, NS_STREAM, NS_STREAMS } from './namespaces.ts';
import type { ArchiveQuery } from './archive.ts';
import type { ChatState } from './chatStates.ts';
import type { ClientState } from './clientState.ts';
import { OnlineSession, type SendMessage } from './onlineSession.ts';
import type { ChannelBinding } from './scram.ts';
import type { OutgoingPresence, RosterItemUpdate } from './stanzas.ts';
import { framingError, peerStreamError, StreamError } from './streamError.ts';
import { checkServerHeader, clientStreamHeader } from './streamHeader.ts';
import type { StreamEvent } from './streamEvent.ts';
import { StreamManagement, type SmHost, type SmState } from './streamManagement.ts';
import {
  StreamNegotiation,
  type InlineOutcome,
  type NegotiationHost,
  type NegotiationStep,
} from './streamNegotiation.ts';
import type { StreamMachineOptions } from './streamMachineOptions.ts';
import type { StreamOutput } from './streamOutput.ts';
import { XmlFramer, type FrameEvent } from './xmlFramer.ts';
import { isXmlChar } from './xmlScanner.ts';

export type { ChannelBinding } from './scram.ts';
export type { RosterItem, StreamEvent } from './streamEvent.ts';
export type { StreamFeatures } from './streamFeatures.ts';
export { StreamError } from './streamError.ts';
export type { StreamMachineOptions } from './streamMachineOptions.ts';
export type { ArchiveQuery } from './archive.ts';
export type { ChatState } from './chatStates.ts';
export type { ClientState } from './clientState.ts';
export type { SmState, UnackedStanza } from './streamManagement.ts';

/** Where the stream is: before it opens, negotiating (the step reached), online, or closing down. */
export type StreamState = 'idle' | NegotiationStep | 'online' | 'closing' | 'closed';

/** The stream's own lifecycle; while 'negotiating', the state is the negotiation's step. */
type Phase = 'idle' | 'negotiating' | 'online' | 'closing' | 'closed';

const DEFAULT_MAX_STANZA = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_STEP_MS = 30_000;

/** RFC 6120 §8: the three stanza kinds (what XEP-0198 counts); anything else is a nonza. */
function isStanza(el: Element, inbound: boolean): boolean {
  const ns = el.getNS();
  if (inbound ? ns !== NS_CLIENT : ns !== undefined && ns !== '' && ns !== NS_CLIENT) return false;
  const name = el.getName();
  return name === 'message' || name === 'presence' || name === 'iq';
}

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
  private readonly account: ParsedJid;
  private readonly stepMs: number;
  private readonly limits: { maxStanzaBytes: number; maxDepth: number };
  private readonly framer: XmlFramer;
  private readonly encoder = new TextEncoder();
  /** The time of the latest input (commands between inputs, like a send, happen at that time). */
  private lastNow = 0;
  /** `security: 'tls'`: the first stream header already goes over TLS. */
  private readonly startsEncrypted: boolean;
  private readonly idPrefix: string;
  private readonly negotiation: StreamNegotiation;
  private readonly session: OnlineSession;
  /** XEP-0198, when the options ask for it (null: never enabled). */
  private readonly smWanted: boolean;
  private readonly sm: StreamManagement;

  private phase: Phase = 'idle';
  private idCounter = 0;
  private deadline: number | undefined = undefined;
  private closeError: StreamError | null = null;
  private readonly transmit: Uint8Array[] = [];
  /** Events, and what runs once the events before it were handed out (`SmHost.afterEvents`). */
  private readonly events: (StreamEvent | (() => void))[] = [];

  constructor(options: StreamMachineOptions) {
    const goal = options.goal ?? 'session';
    const account = parseJid(options.jid);
    if (!account || (goal === 'session' && account.local === ''))
      throw new Error(`ClientStreamMachine needs an account JID like user@example.org, got "${options.jid}"`);
    if (goal === 'session' && options.password === undefined)
      throw new Error('ClientStreamMachine needs a password to start a session');
    this.account = { ...account, resource: '', full: account.bare };
    const random = options.randomBytes ?? ((n) => nodeRandomBytes(n));
    this.stepMs = options.stepTimeoutMs ?? DEFAULT_STEP_MS;
    this.limits = {
      maxStanzaBytes: options.limits?.maxStanzaBytes ?? DEFAULT_MAX_STANZA,
      maxDepth: options.limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
    };
    this.framer = new XmlFramer(this.limits);
    const tls = options.security === 'tls';
    this.startsEncrypted = tls;
    const nextId = () => this.nextId();
    this.negotiation = new StreamNegotiation(
      {
        goal,
        account: this.account,
        password: options.password ?? '',
        resource: options.resource,
        tls,
        channelBinding: tls ? (options.channelBinding ?? null) : null,
        random,
        nextId,
        sasl2: options.sasl2 ?? true,
        userAgent: options.userAgent ? { id: options.userAgent.id, device: options.userAgent.device ?? null } : null,
        carbons: options.carbons ?? false,
        fast: options.fast ?? null,
        requestFastToken: options.requestFastToken ?? false,
      },
      this.negotiationHost(),
    );
    this.smWanted = options.streamManagement != null;
    this.sm = new StreamManagement(options.streamManagement ?? { resume: false }, this.account.domain, this.smHost());
    this.session = new OnlineSession(this.account.bare, this.sessionOutput(), nextId);
    this.idPrefix = Buffer.from(random(6)).toString('base64url') + '-';
  }

  get state(): StreamState {
    return this.phase === 'negotiating' ? this.negotiation.step : this.phase;
  }

  /**
   * The bytes `start` queues first when the transport is already TLS (`security: 'tls'`): the
   * opening stream header, for a transport that can send them ahead of its handshake's end (0-RTT
   * on a resumed QUIC connection). They are safe to replay: they authenticate nothing, and SASL
   * only follows the server's features. Null for STARTTLS, whose first header is plaintext.
   */
  openingHeader(): Uint8Array | null {
    if (this.phase !== 'idle' || !this.startsEncrypted) return null;
    const a = this.account;
    return this.encoder.encode(clientStreamHeader(a.domain, a.local !== '' ? a.bare : null));
  }

  /** Queues the opening stream header. Call once, then pollTransmit. */
  start(now: number): void {
    this.lastNow = now;
    if (this.phase !== 'idle') throw new Error(`start() called twice (state is ${this.state})`);
    this.phase = 'negotiating';
    this.negotiation.start(now);
  }

  /** Bytes received from the transport (any chunking). */
  handleBytes(data: Uint8Array, now: number): void {
    this.lastNow = now;
    if (this.phase === 'idle') throw new Error('handleBytes() before start()');
    if (this.phase === 'closed') return;
    if (this.state === 'tls-wait') {
      this.negotiation.refusePlaintextAfterProceed(data, now);
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
    this.lastNow = now;
    if (this.phase === 'closed') return;
    if (this.state !== 'tls-wait')
      throw new Error(`handleTlsUp() is only valid after 'tls-required' (state is ${this.state})`);
    this.negotiation.tlsUp(channelBinding, now);
  }

  /** The transport closed under us (EOF/reset). */
  handleTransportClosed(now: number, reason?: string): void {
    this.lastNow = now;
    void now;
    if (this.phase === 'closed') return;
    if (this.phase === 'idle' || this.phase === 'closing') {
      this.finish(this.closeError);
      return;
    }
    const err = new StreamError({
      code: 'transport-closed',
      source: 'peer',
      message: `The connection to ${this.account.domain} closed ${this.phase === 'online' ? 'unexpectedly' : `during ${this.stepName()}`}${reason ? ` (${reason})` : ''}. Quiver will need to reconnect.`,
      text: reason ?? null,
    });
    this.events.push({ type: 'error', error: err });
    this.finish(err);
  }

  handleTimeout(now: number): void {
    this.lastNow = now;
    if (this.deadline === undefined || now < this.deadline) return;
    this.deadline = undefined;
    if (this.phase === 'closing') {
      // RFC 6120 §4.4: after sending the closing tag we wait a bounded time for the peer's,
      // then consider the stream closed anyway.
      this.finish(this.closeError);
      return;
    }
    if (this.phase !== 'negotiating') return;
    const err = new StreamError({
      code: 'timeout',
      source: 'local',
      message: `${this.account.domain} did not answer during ${this.stepName()} within ${Math.round(this.stepMs / 1000)} s. Check the network and try again.`,
    });
    this.events.push({ type: 'error', error: err });
    if (this.state !== 'tls-wait') this.sendStreamError('connection-timeout');
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

  /**
   * The next event. A stanza counts as handled for XEP-0198 (its <a h/>, `streamManagementState`)
   * once its events were handed out and this is called again: handle each event (store a message)
   * before asking for the next.
   */
  pollEvent(): StreamEvent | undefined {
    for (let next = this.events.shift(); next !== undefined; next = this.events.shift()) {
      if (typeof next !== 'function') return next;
      const before = this.events.length;
      next();
      // What it emitted comes next, before the events queued after it: 'sm-ack-sent' must reach the
      // owner before the driver writes the <a h/> it queued (the driver writes before each poll).
      if (this.events.length > before) this.events.unshift(...this.events.splice(before));
    }
    return undefined;
  }

  /** Next deadline (ms) or undefined. */
  pollTimeout(): number | undefined {
    return this.deadline;
  }

  /**
   * Sends a message (RFC 6121 §5); returns the id used (generated when not given). Chat messages
   * ask for a XEP-0184 receipt unless `requestReceipt` is false.
   */
  sendMessage(msg: SendMessage): string {
    this.requireOnline('sendMessage');
    return this.session.sendMessage(msg);
  }

  /** XEP-0184: acknowledges `theirId` from `to` (see OnlineSession.sendReceipt); returns the ack's id. */
  sendReceipt(to: string, theirId: string, type?: 'chat' | 'normal'): string {
    this.requireOnline('sendReceipt');
    return this.session.sendReceipt(to, theirId, type);
  }

  /** XEP-0085: a standalone chat state notification; returns its id. */
  sendChatState(to: string, state: ChatState): string {
    this.requireOnline('sendChatState');
    return this.session.sendChatState(to, state);
  }

  /** XEP-0280: enables carbons; returns the iq id ('carbons-enabled' or 'carbons-failed' follows). */
  enableCarbons(): string {
    this.requireOnline('enableCarbons');
    return this.session.enableCarbons();
  }

  /** XEP-0352: false, and nothing sent, when the server offers no <csi/> or already has `state`. */
  setClientState(state: ClientState, force = false): boolean {
    if (this.phase !== 'online') return false;
    return this.session.setClientState(state, force);
  }

  /** XEP-0313: queries the account's archive; returns the queryid (results, then 'archive-page' or 'archive-failed'). */
  queryArchive(q: ArchiveQuery): string {
    this.requireOnline('queryArchive');
    return this.session.queryArchive(q);
  }

  /** Sends presence (RFC 6121 §4): no argument is the initial available presence. */
  sendPresence(p?: OutgoingPresence): void {
    this.requireOnline('sendPresence');
    this.session.sendPresence(p);
  }

  /**
   * RFC 6121 §2.1.3 roster get; returns the iq id. The result arrives as a 'roster' event.
   * With `ver` (RFC 6121 §2.6), sent only if the server advertised roster versioning.
   */
  requestRoster(ver?: string): string {
    this.requireOnline('requestRoster');
    return this.session.requestRoster(ver);
  }

  /** RFC 6121 §2.1.5 / §2.5: add, update or remove one item; returns the iq id. Errors arrive as 'stanza-error'. */
  setRosterItem(item: RosterItemUpdate): string {
    this.requireOnline('setRosterItem');
    return this.session.setRosterItem(item);
  }

  /** XEP-0199: pings the server; returns the iq id; the answer arrives as a 'pong' event. */
  sendPing(): string {
    this.requireOnline('sendPing');
    return this.session.sendPing();
  }

  /** An IQ to the account's server, answered by one 'iq-answer' event (`OnlineSession.sendRequest`). */
  sendRequest(build: (id: string) => Element): string {
    this.requireOnline('sendRequest');
    return this.session.sendRequest(build);
  }

  /** Sends any stanza built by a later XEP module (only once online). */
  sendStanza(stanza: Element): void {
    this.requireOnline('sendStanza');
    this.session.sendStanza(stanza);
  }

  /**
   * XEP-0198 §4: asks the server to acknowledge what it has handled (<r/>); the answer arrives as
   * an 'sm-acked' event. Callers decide when: after a burst, before going idle, on a network
   * change. False, and nothing sent, when stream management is not enabled on this stream.
   */
  requestAck(): boolean {
    if (this.phase !== 'online') return false;
    return this.sm.requestAck();
  }

  /**
   * XEP-0198: what a later stream needs to resume this one (pass it as
   * `streamManagement.previous`), or, when its `id` is null, the stanzas the server never
   * acknowledged (send them again under the same ids). Null when stream management was never
   * enabled. Read it once the stream is over.
   */
  streamManagementState(): SmState | null {
    return this.sm.state();
  }

  /** XEP-0198: whether acknowledgements can come on this stream, and our stanza counter (`StreamManagement.status`). */
  streamManagementStatus(): { phase: 'off' | 'pending' | 'on'; sent: number } {
    return this.sm.status();
  }

  /** Orderly close: sends unavailable presence if online, then </stream:stream>; emits 'closed' when the peer closed too or after the step timeout. */
  close(now: number): void {
    this.lastNow = now;
    switch (this.state) {
      case 'closed':
      case 'closing':
        return;
      case 'idle':
      case 'tls-wait':
        // Nothing may be written: either nothing was opened, or the plaintext stream is over.
        this.finish(null);
        return;
      case 'online':
        this.session.sendPresence({ type: 'unavailable' });
        break;
      default:
        break;
    }
    this.sm.closing();
    this.write('</stream:stream>');
    this.closeError = null;
    this.phase = 'closing';
    this.deadline = now + this.stepMs;
  }

  // ---- stream plumbing ----

  /** What the pieces may do to this stream: queue output and events. */
  private output(): StreamOutput {
    return {
      send: (el) => this.send(el),
      write: (xml) => this.write(xml),
      emit: (event) => this.events.push(event),
    };
  }

  /** What the online session may do: its stanzas are the ones XEP-0198 counts. */
  private sessionOutput(): StreamOutput {
    return { ...this.output(), send: (el) => this.sendCounted(el) };
  }

  /** What stream management may do to this stream (see SmHost). */
  private smHost(): SmHost {
    return {
      ...this.output(),
      fail: (now, error, condition, detail) => this.fatal(now, error, condition, true, detail),
      resumed: (jid, previd, h) => {
        const features = this.negotiation.offeredFeatures;
        this.session.bound(jid);
        this.phase = 'online';
        this.deadline = undefined;
        this.session.online(features);
        this.events.push({ type: 'resumed', jid, previd, features, h });
      },
      resumeFailed: (now) => this.negotiation.resumeFailed(now),
      afterEvents: (run) => this.events.push(run),
      writable: () => this.phase === 'online',
    };
  }

  /** What negotiation may do to this stream (see NegotiationHost). */
  private negotiationHost(): NegotiationHost {
    return {
      ...this.output(),
      openStream: (encrypted, now) => this.openStream(encrypted, now),
      takeUnparsed: () => {
        const rest = this.framer.unparsed();
        this.framer.discardUnparsed();
        return rest;
      },
      armDeadline: (now) => {
        this.deadline = now + this.stepMs;
      },
      clearDeadline: () => {
        this.deadline = undefined;
      },
      fail: (now, error, condition) => this.fatal(now, error, condition),
      resume: (smOffered, now) => this.sm.resume(smOffered, now),
      bound: (jid) => this.session.bound(jid),
      online: (jid, features, inline) => this.goOnline(jid, features, inline),
      smPendingResume: () => this.sm.hasPrevious,
      smResumeRequest: () => (this.smWanted ? this.sm.resumeRequest() : null),
      smEnableRequest: () => (this.smWanted ? this.sm.enableRequest() : null),
      smInline: (el, now) => this.sm.handleElement(el, now, false),
    };
  }

  private openStream(encrypted: boolean, now: number): void {
    this.framer.reset();
    // RFC 6120 §4.7.1: the client SHOULD include 'from' (its bare JID) once the stream is
    // protected by TLS, and not before, so the JID is not exposed in plaintext. Without an
    // account (goal 'features' given only a domain) there is no JID to give.
    this.write(
      clientStreamHeader(this.account.domain, encrypted && this.account.local !== '' ? this.account.bare : null),
    );
    this.deadline = now + this.stepMs;
  }

  private goOnline(jid: string, features: string[], inline?: InlineOutcome): void {
    this.phase = 'online';
    this.deadline = undefined;
    // XEP-0198 §3: enabled only after resource binding, before the first stanza is counted
    // (asked inline with XEP-0386 Bind 2, the answer came in <bound/>: handed over below).
    if (this.smWanted && features.includes(NS_SM) && !inline?.smAsked) this.sm.enable(jid);
    this.session.online([...features]);
    const enabled = inline?.enabled ?? [];
    this.events.push({
      type: 'online',
      jid,
      features: [...features],
      ...(enabled.length ? { inlineEnabled: enabled } : {}),
    });
    if (inline?.smAsked) this.sm.enabledInline(jid, inline.smAnswer, this.lastNow);
  }

  /** A method, not an inline check, because TypeScript narrows `this.phase` across calls. */
  private stopsParsing(): boolean {
    return this.phase === 'closed' || this.state === 'tls-wait';
  }

  private write(s: string): void {
    this.transmit.push(this.encoder.encode(s));
  }

  private send(el: Element): void {
    this.write(xmlSafe(el.toString()));
  }

  /** A stanza of the online session: XEP-0198 keeps these exact bytes until the server acknowledges them. */
  private sendCounted(el: Element): void {
    const xml = xmlSafe(el.toString());
    this.write(xml);
    if (isStanza(el, false))
      this.sm.outbound(xml, typeof el.attrs.id === 'string' && el.attrs.id !== '' ? el.attrs.id : null, this.lastNow);
  }

  private nextId(): string {
    this.idCounter++;
    return this.idPrefix + this.idCounter.toString(36);
  }

  private requireOnline(command: string): void {
    if (this.phase !== 'online') throw new Error(`${command}() is only valid once online (state is ${this.state})`);
  }

  private stepName(): string {
    return this.phase === 'negotiating' ? this.negotiation.stepName() : this.phase;
  }

  /** Emits 'closed' once and stops everything. */
  private finish(error: StreamError | null): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.deadline = undefined;
    this.session.end();
    this.events.push({ type: 'closed', error });
  }

  /** RFC 6120 §4.9.1.1: send the stream error (`detail`: more children), then the closing tag. */
  private sendStreamError(condition: string | null, detail = ''): void {
    if (condition) this.write(`<stream:error><${condition} xmlns='${NS_STREAMS}'/>${detail}</stream:error>`);
    this.write('</stream:stream>');
  }

  /**
   * A fatal problem found on our side. We tell the server (with `condition` when it broke the
   * protocol), then wait for its closing tag unless we can no longer parse what it sends.
   */
  private fatal(now: number, err: StreamError, condition: string | null, canParse = true, detail = ''): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'closing') {
      this.finish(this.closeError ?? err);
      return;
    }
    this.events.push({ type: 'error', error: err });
    if (this.state !== 'tls-wait' && this.phase !== 'idle') this.sendStreamError(condition, detail);
    this.closeError = err;
    if (!canParse || this.state === 'tls-wait') {
      this.finish(err);
      return;
    }
    this.phase = 'closing';
    this.deadline = now + this.stepMs;
  }

  private handleFrame(ev: FrameEvent, now: number): void {
    switch (ev.type) {
      case 'error':
        this.fatal(
          now,
          framingError(ev.code, ev.detail, this.account.domain, this.limits.maxStanzaBytes),
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

  private handleHeader(header: Element, now: number): void {
    const problem = checkServerHeader(header, this.account.domain);
    if (problem) this.fatal(now, problem.error, problem.condition);
  }

  private handlePeerClose(now: number): void {
    void now;
    if (this.phase === 'closing') {
      this.finish(this.closeError);
      return;
    }
    // RFC 6120 §4.4: the other side closed; we answer with our closing tag.
    this.write('</stream:stream>');
    const err = new StreamError({
      code: 'peer-closed',
      source: 'peer',
      message: `${this.account.domain} closed the stream ${this.phase === 'online' ? '' : `during ${this.stepName()} `}without giving a reason. Quiver will need to reconnect.`,
    });
    this.events.push({ type: 'error', error: err });
    this.finish(err);
  }

  private handleElement(el: Element, now: number): void {
    if (el.getName() === 'error' && el.getNS() === NS_STREAM) {
      this.handleStreamError(el, now);
      return;
    }
    if (el.getNS() === NS_SM) {
      // XEP-0198 elements are nonzas of their own, in every step (misplaced ones are its errors).
      if (this.phase !== 'idle' && this.phase !== 'closed' && this.state !== 'features')
        this.sm.handleElement(el, now, this.phase === 'closing');
      return;
    }
    switch (this.phase) {
      case 'negotiating':
        if (!this.negotiation.handleElement(el, now)) this.handleStanza(el);
        return;
      case 'online':
        if (this.negotiation.takeLateFeatures(el)) {
          const features = this.negotiation.offeredFeatures;
          this.session.online(features);
          this.events.push({ type: 'features-changed', features });
          return;
        }
        this.handleStanza(el);
        return;
      default:
        // 'closing': RFC 6120 §4.4 lets us ignore what arrives after our closing tag.
        return;
    }
  }

  /** A stanza for the online session; XEP-0198 counts it as handled once it was. */
  private handleStanza(el: Element): void {
    this.session.handleStanza(el);
    if (isStanza(el, true)) this.sm.inbound();
  }

  /** RFC 6120 §4.9: <stream:error> from the server. */
  private handleStreamError(el: Element, now: number): void {
    const err = peerStreamError(el, this.account.domain);
    this.events.push({ type: 'error', error: err });
    if (this.phase === 'closing') {
      this.finish(this.closeError ?? err);
      return;
    }
    // RFC 6120 §4.9.1.1: the peer follows the error with its closing tag; we close ours too.
    this.write('</stream:stream>');
    this.closeError = err;
    this.phase = 'closing';
    this.deadline = now + this.stepMs;
  }
}
