/**
 * One account's life on the network: connect, stay online, reconnect with backoff when the
 * network or the server goes away, and flush the outbox each time the stream is up again.
 * Durable state (messages, roster, security records) goes through the callbacks to storage; this
 * class keeps only what is live (status, presence, the former stream's XEP-0198 state).
 *
 * Nothing lost (issue 12): a stream asks for XEP-0198 resumption. When it drops, the next attempt
 * resumes it (while the server's resumption time has not passed), and the server's <resumed h/>
 * says which of our stanzas it handled; the machine sends the rest again. When resuming fails (or
 * the process restarted), a fresh session sends again, under the same ids, every message written
 * earlier that the server never acknowledged (`outbox('pending')`): a recipient that got one
 * already recognises the copy by its XEP-0359 <origin-id/> and our stable resource.
 */
import type {
  AccountStatus,
  PresenceView,
  SecurityRecord,
  Show,
  TransportPreference,
  UserError,
} from '../contract/viewModels.ts';
import { establish, finish, type ConnectDeps, type Established } from './connector.ts';
import { ConnectError, type ConnectErrorCode, type DecisionContext } from './connectError.ts';
import { backoffDelay, codeOf, sessionAction, SLOW_DOWN_ATTEMPT, STABLE_MS } from './retryPolicy.ts';
import type { RosterItem, StreamEvent } from '../xmpp/streamMachine.ts';
import type { ClientState } from '../xmpp/clientState.ts';
import { SessionMessaging, type MessagingCallbacks } from './sessionMessaging.ts';
import { SessionContacts, type ContactsCallbacks } from './sessionContacts.ts';
import { SessionResumption, type ResumptionStore } from './sessionResumption.ts';

export type { IncomingMessage, StoreOutcome } from './sessionMessaging.ts';
export type { PersistedSmState } from './sessionResumption.ts';

/** A message waiting in the outbox. */
export interface OutboxItem {
  localId: string;
  to: string;
  /** The stanza 'id' (and <origin-id/>): the same on every attempt, so copies can be recognised. */
  stanzaId: string;
  body: string;
}

/**
 * What the session reports; the messaging part (`MessagingCallbacks`) is in sessionMessaging.ts,
 * the stream-management state kept for a later process (`ResumptionStore`) in sessionResumption.ts.
 */
export interface SessionCallbacks extends MessagingCallbacks, ResumptionStore, ContactsCallbacks {
  status(status: AccountStatus, boundJid: string | null, error: UserError | null): void;
  /** The next attempt starts in `delayMs` (the back-off); the next `status` call supersedes this. */
  retryScheduled?(delayMs: number): void;
  roster(items: RosterItem[], ver: string | null): void;
  rosterPush(item: RosterItem): void;
  presence(bareJid: string, presence: PresenceView | null): void;
  /**
   * Messages to write now, oldest first. 'queued': never written yet (a resumed stream, or a
   * flush while online: what was written before is the machine's to send again). 'pending': a
   * fresh session also sends again what an earlier stream wrote under stream management and the
   * server never acknowledged (never what was written where no ack could come: see `sent`).
   */
  outbox(scope: 'queued' | 'pending'): OutboxItem[];
  /**
   * A message was written to the stream. `smSeq`: the XEP-0198 counter value that an ack covering
   * it will reach, or null when no ack can come on this stream (the server offers no stream
   * management): such a message stays 'sent' and is never sent again.
   */
  sent(localId: string, smSeq: number | null): void;
  /**
   * Messages written while stream management was being enabled, which the server then refused: no
   * ack will come for them; like `sent(id, null)`, they are never sent again.
   */
  unconfirmable?(localIds: string[]): void;
  /**
   * An error came back for our message `stanzaId` (RFC 6120 §8.3) from `from` (null: our own
   * server): it was not delivered and will not be; `reason` says why in words. Only an error from
   * the message's recipient (or its server, or ours) may fail it: anyone can send an error naming
   * an id. Ids that name no message are to be ignored.
   */
  refused?(stanzaId: string, from: string | null, reason: string): void;
  /**
   * XEP-0198: the server acknowledged having handled the stanzas with these 'id' attributes (oldest
   * first; iq and presence ids too, so ids that name no message are to be ignored). Only on streams
   * where the server enabled stream management; elsewhere messages stay 'sent'.
   */
  acked?(stanzaIds: string[]): void;
  saveRecord(record: SecurityRecord): void;
  /** XEP-0484: the account's FAST token (mechanism and token), or null: the password is used. */
  fastToken?(): { mechanism: string; token: string; expiry: number } | null;
  /** XEP-0484: the server issued `token` (store it with the account), or refused the stored one (null: forget it). */
  fastTokenChanged?(token: { mechanism: string; token: string; expiry: number } | null): void;
  /**
   * After resuming (or failing to resume) a stream that a previous process wrote: the server
   * handled our stanzas up to counter value `h`; our messages written under counters up to it are
   * stored by the server, the others are to be sent again.
   */
  ackedThrough?(h: number): void;
  /** No proof held but the person may accept or pin the server: ask them. The session stops retrying. */
  decisionNeeded(context: DecisionContext): void;
}

export interface SessionConfig {
  accountId: string;
  jid: string;
  preference: TransportPreference;
  /**
   * The resource to ask for: stable per account, so that a message sent again after a crash or a
   * failed resumption comes from the same full JID and its <origin-id/> recognises it (XEP-0359
   * §2.2: unique per sending entity). Undefined lets the server pick.
   */
  resource?: string;
  /**
   * XEP-0388 <user-agent id/>: a UUID stable for this account on this installation; XEP-0484 FAST
   * tokens are bound to it. Undefined: no user agent is sent, so no token is asked for or used.
   */
  userAgentId?: string;
  password(): Promise<string | null>;
  deps(): ConnectDeps;
  /**
   * XEP-0199: a stream the server has sent nothing on for this long is pinged (default
   * IDLE_PING_MS); no answer within PING_TIMEOUT_MS and it is dropped and connected again. A NAT
   * or a network that dropped the connection silently is noticed before the person sends.
   */
  idlePingMs?: number;
}

/**
 * XEP-0484: a new token is asked for on a login without one, or when the one held runs out within
 * this time (the server decides lifetimes; asking early costs nothing but a few bytes).
 */
const FAST_RENEW_MS = 2 * 24 * 3600 * 1000;

/** XEP-0199 liveness: an idle stream is pinged after this long (`SessionConfig.idlePingMs`). */
export const IDLE_PING_MS = 120_000;
/** How long an idle ping may wait for its answer (a pong, or an ack covering it). */
const PING_TIMEOUT_MS = 20_000;

/** How long `stop()` waits for the server's ack of what was sent last. */
const STOP_ACK_WAIT_MS = 1000;

export class AccountSession {
  #config: SessionConfig;
  #callbacks: SessionCallbacks;
  #current: Established | null = null;
  #running = false;
  #attempt = 0;
  #onlineSince = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  /** Bumped by stop(): an attempt from an older generation must not touch anything any more. */
  #generation = 0;
  #inflight: Promise<void> | null = null;
  #abort: AbortController | null = null;
  /**
   * Pings in flight (`checkAlive`): iq id -> what an answer settles, and what `stop` settles. The
   * answer is a pong, or a XEP-0198 ack that covers the ping.
   */
  #pings = new Map<string, { answered(): void; cancel(): void }>();
  /**
   * Messages were written while stream management was still being enabled (the outbox flush right
   * after login): ask for an ack once the server has enabled it.
   */
  #ackOnEnable = false;
  /** Messages written on this stream while stream management was still being enabled. */
  #writtenWhileEnabling: string[] = [];
  /** XEP-0198: the stream the next attempt resumes (this process's dropped one, or a stored one). */
  readonly #resumption: SessionResumption;
  /** When the server last sent anything on the current stream (ms since the epoch). */
  #lastHeard = 0;
  #idleTimer: NodeJS.Timeout | null = null;
  /** Called on the next 'sm-acked' or 'closed' (`#ackBeforeLeaving`). */
  #ackWaiters: (() => void)[] = [];
  /** The attempt in flight resumes a stream a previous process stored. */
  #resumingStored = false;
  /** Per contact: full JID -> presence; the UI gets the best one. */
  #presence = new Map<string, Map<string, { show: Show; status: string | null; priority: number }>>();
  readonly #messaging: SessionMessaging;
  /** Subscriptions, the XEP-0191 block list, own presence and roster requests (sessionContacts.ts). */
  readonly contacts: SessionContacts;

  constructor(config: SessionConfig, callbacks: SessionCallbacks) {
    this.#config = config;
    this.#callbacks = callbacks;
    this.#messaging = new SessionMessaging(config.jid, callbacks);
    this.contacts = new SessionContacts(config.jid, callbacks);
    this.#resumption = new SessionResumption(callbacks);
  }

  /** XEP-0085: our chat state to `peer` (a bare JID); see `SessionMessaging.sendChatState`. */
  sendChatState(peer: string, state: 'active' | 'composing' | 'paused' | 'inactive'): void {
    this.#messaging.sendChatState(peer, state);
  }

  /** XEP-0352: whether the person sees the window ('active') or not; applies to later streams too. */
  setClientState(state: ClientState): void {
    this.#messaging.setClientState(state);
  }

  get online(): boolean {
    return this.#current !== null;
  }

  /** The security record of the stream that is up, or null. */
  get record(): SecurityRecord | null {
    return this.#current?.record ?? null;
  }

  /**
   * After a network change (issue 11: "confirms each of its XMPP streams is alive ... and
   * reconnects only where that fails"): a XEP-0199 ping on the stream that is up, followed by a
   * XEP-0198 ack request where stream management is enabled: the server's <a/> then covers the
   * ping, so it answers as well as the pong does (whichever comes first), and it also tells which
   * messages the server stored before the change. 'alive' when any answer came within
   * `timeoutMs`; 'dead' when none did, and then the stream is dropped and the session connects
   * again at once; 'offline' when no stream was up to check.
   */
  checkAlive(timeoutMs: number): Promise<{ outcome: 'alive' | 'dead' | 'offline'; ms: number }> {
    const current = this.#current;
    if (!current || current.driver.state !== 'online') return Promise.resolve({ outcome: 'offline', ms: 0 });
    const started = performance.now();
    return new Promise((resolve) => {
      let id = '';
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        resolve({ outcome: 'dead', ms: Math.round(performance.now() - started) });
        // Only a stream still in use is dropped: one that `stop` is closing is `stop`'s to finish.
        if (this.#current !== current || !this.#running || current.driver.state !== 'online') return;
        // Its path is gone: drop it without waiting for TCP's or QUIC's own timeouts, and connect
        // again now rather than after a backoff.
        current.driver.setEventHandler(() => undefined);
        current.driver.destroy();
        this.#attempt = 0;
        this.#onClosed('no answer to a ping after the network changed', null);
        // #onClosed scheduled the first backoff step (about 1 s): start the new attempt now instead.
        if (this.#retryTimer) {
          clearTimeout(this.#retryTimer);
          this.#retryTimer = null;
          this.#launch();
        }
      }, timeoutMs);
      try {
        id = current.driver.sendPing();
        // XEP-0198 §4: <r/> after the ping, so that the <a/> acknowledges it (an ack of nothing new
        // reports no 'sm-acked'). Nothing is sent where stream management is not enabled.
        current.driver.requestAck();
      } catch {
        clearTimeout(timer);
        resolve({ outcome: 'offline', ms: 0 });
        return;
      }
      this.#pings.set(id, {
        answered: () => {
          clearTimeout(timer);
          resolve({ outcome: 'alive', ms: Math.round(performance.now() - started) });
        },
        cancel: () => {
          clearTimeout(timer);
          resolve({ outcome: 'offline', ms: Math.round(performance.now() - started) });
        },
      });
    });
  }

  /**
   * The person asked to try now: a retry waiting out its back-off starts at once. Returns false
   * when none was waiting (an attempt runs, the account is online, or the session gave up or
   * stopped); the caller then starts a new session if it wants one.
   */
  retryNow(): boolean {
    if (!this.#running || !this.#retryTimer) return false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#attempt = 0;
    this.#launch();
    return true;
  }

  /** Starts connecting, and keeps the account connected until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#launch();
  }

  /**
   * Cancels any attempt in progress, closes the stream cleanly and stops reconnecting. Resolves
   * when nothing of this session runs any more, so the caller may close storage afterwards.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    this.#idleTimer = null;
    // A liveness check in flight ends now: its timer must not take over the stream being closed.
    for (const ping of this.#pings.values()) ping.cancel();
    this.#pings.clear();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#abort?.abort();
    await this.#inflight;
    // Stopping ends the session: nothing is left to resume (a clean close tells the server so).
    this.#resumption.forget();
    const current = this.#current;
    if (!current) {
      this.#forgetPresence();
      this.#callbacks.status('offline', null, null);
      return;
    }
    await this.#ackBeforeLeaving(current);
    await new Promise<void>((resolve) => {
      current.driver.setEventHandler((event) => {
        this.#onEvent(event);
        if (event.type === 'closed') resolve();
      });
      if (current.driver.state === 'closed') {
        resolve();
        return;
      }
      current.driver.close();
    });
  }

  /**
   * Writes the outbox now if online (`scope`: see `SessionCallbacks.outbox`; 'pending' only right
   * after a fresh login); otherwise it waits. After the burst, one XEP-0198 ack request (not one
   * per message) where stream management is enabled; where it is still being enabled (the flush
   * right after login), once the server's <enabled/> arrives. Returns how many messages were written.
   */
  flushOutbox(scope: 'queued' | 'pending' = 'queued'): number {
    const current = this.#current;
    if (!current || current.driver.state !== 'online') return 0;
    let written = 0;
    for (const item of this.#callbacks.outbox(scope)) {
      // Each send is flushed at once; an event handler run by that flush may have closed the stream.
      if (current.driver.state !== 'online') break;
      // XEP-0085 §5.3: "every content message SHOULD contain an <active/> notification"; it also
      // tells the contact (§5.1) that we understand chat states.
      current.driver.sendMessage({
        to: item.to,
        body: item.body,
        id: item.stanzaId,
        type: 'chat',
        chatState: 'active',
      });
      this.#messaging.contentSent(item.to.split('/')[0]!.toLowerCase());
      written++;
      const sm = current.driver.streamManagementStatus();
      if (sm.phase === 'pending') this.#writtenWhileEnabling.push(item.localId);
      this.#callbacks.sent(item.localId, sm.phase === 'off' ? null : sm.sent);
    }
    if (written === 0 || current.driver.state !== 'online' || this.#current !== current) return written;
    if (!current.driver.requestAck()) this.#ackOnEnable = true;
    return written;
  }

  #launch(): void {
    const generation = this.#generation;
    const attempt = this.#connect(generation).catch((error: unknown) => {
      // Anything unexpected (a storage failure in a callback, a bug) must not take the process
      // down: it ends this attempt with a message, and the session retries.
      if (generation !== this.#generation) return;
      this.#callbacks.log('error', `${this.#config.jid}: ${(error as Error)?.message ?? String(error)}`);
      this.#callbacks.status('error', null, {
        code: 'internal',
        message: `Quiver could not connect ${this.#config.jid}: ${(error as Error)?.message ?? String(error)}`,
      });
      this.#scheduleRetry();
    });
    const tracked: Promise<void> = attempt.finally(() => {
      if (this.#inflight === tracked) this.#inflight = null;
    });
    this.#inflight = tracked;
  }

  async #connect(generation: number): Promise<void> {
    const alive = () => generation === this.#generation && this.#running;
    if (!alive()) return;
    this.#callbacks.status('connecting', null, null);
    let password: string | null;
    try {
      password = await this.#config.password();
    } catch (error) {
      if (!alive()) return;
      // The secret store says what is wrong in words (a file others can read, no keyring, ...).
      const code = codeOf(error, 'no-password');
      this.#running = false;
      this.#callbacks.status('error', null, { code, message: (error as Error).message });
      return;
    }
    if (!alive()) return;
    if (password === null) {
      this.#running = false;
      this.#callbacks.status('error', null, {
        code: 'no-password',
        message: `Quiver has no password for ${this.#config.jid}. Enter it in the account settings.`,
      });
      return;
    }
    const abort = new AbortController();
    this.#abort = abort;
    let established: Established;
    try {
      // XEP-0198 §5: resume the stream that dropped, unless the server's time for it has passed.
      const resume = this.#resumption.next(Date.now());
      this.#resumingStored = resume?.stored ?? false;
      const former = resume?.state ?? null;
      const userAgentId = this.#config.userAgentId;
      const token = userAgentId === undefined ? null : (this.#callbacks.fastToken?.() ?? null);
      established = await establish(
        {
          jid: this.#config.jid,
          password,
          preference: this.#config.preference,
          accountId: this.#config.accountId,
          ...(this.#config.resource === undefined ? {} : { resource: this.#config.resource }),
          streamManagement: { resume: true, previous: former },
          login: {
            carbons: true,
            ...(userAgentId === undefined
              ? {}
              : {
                  userAgent: { id: userAgentId },
                  fast: token ? { mechanism: token.mechanism, token: token.token } : null,
                  requestFastToken: token === null || token.expiry - Date.now() < FAST_RENEW_MS,
                }),
          },
          signal: abort.signal,
        },
        this.#config.deps(),
      );
    } catch (error) {
      if (!alive()) return;
      const code = codeOf(error);
      const message = (error as Error).message;
      this.#callbacks.log('warn', `${this.#config.jid}: ${message}`);
      // A server that misused resumption is not asked to resume that session again.
      if (code === 'sm-protocol-violation' || code === 'handled-count-too-high') this.#resumption.reached();
      if (code === 'fast-token-rejected') {
        // XEP-0484: the server no longer takes the token: forget it and sign in with the password now.
        this.#callbacks.fastTokenChanged?.(null);
        this.#launch();
        return;
      }
      if (error instanceof ConnectError && error.decision) {
        this.#running = false;
        this.#callbacks.status('error', null, {
          code: 'needs-decision',
          message: `${message} Quiver needs your decision.`,
        });
        this.#callbacks.decisionNeeded(error.decision);
        return;
      }
      this.#callbacks.status('error', null, { code, message });
      // A failed attempt never backs off harder: only a server that ended a live stream asks for that.
      if (sessionAction(code, { slowDown: false }) === 'ask-person') this.#running = false;
      else this.#scheduleRetry();
      return;
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
    if (!alive()) {
      finish(established.record, 'cancelled', { saveRecord: (r) => this.#callbacks.saveRecord(r) });
      established.driver.setEventHandler(() => undefined);
      established.driver.close();
      return;
    }
    this.#current = established;
    this.#lastHeard = Date.now();
    this.#armIdlePing(established);
    this.#ackOnEnable = false;
    this.#writtenWhileEnabling = [];
    // Resumed, the former stream lives on in this one; otherwise it is gone for good.
    this.#resumption.reached();
    const resumedStored = this.#resumingStored;
    this.#resumingStored = false;
    this.#onlineSince = Date.now();
    // A stream a previous process wrote: the server's count says which of its messages arrived.
    if (resumedStored && established.serverH !== null) this.#callbacks.ackedThrough?.(established.serverH);
    this.#resumption.save(established.driver.streamManagementState(), Date.now());
    if (established.fastToken) this.#callbacks.fastTokenChanged?.(established.fastToken);
    // What the server's <resumed h/> or <failed h/> acknowledged: stored, so not sent again below.
    if (established.ackedAtLogin.length > 0) this.#callbacks.acked?.(established.ackedAtLogin);
    if (established.resumeFailed !== null)
      this.#callbacks.log(
        'info',
        `${this.#config.jid}: the server could not resume the former session (${established.resumeFailed}); unacknowledged messages are sent again`,
      );
    // Before the held events are delivered: the messages the server sends again in the same read as
    // <resumed/> must find the stream (to answer their receipt requests).
    this.#messaging.attach(established.driver, {
      resumed: established.resumed,
      inlineEnabled: established.inlineEnabled ?? [],
    });
    this.contacts.attach(established.driver, { resumed: established.resumed });
    established.driver.setEventHandler(
      (event) => this.#onEvent(event),
      (fault) =>
        this.#callbacks.log(
          'error',
          `${this.#config.jid}: a stream event could not be handled: ${(fault as Error)?.message ?? String(fault)}`,
        ),
    );
    // Events held since `online` were delivered just now; one of them may have closed the stream.
    if (established.driver.state !== 'online') return;
    this.#callbacks.status('online', established.boundJid, null);
    if (established.resumed) {
      // The server kept the session: roster, presence and what it queued for us while we were
      // away (it sends that now). Only messages never written are left to send (after a restart,
      // the machine knows none of the former ones: those the server did not handle go again). One
      // ack request then covers what was sent again, so those are marked stored without waiting.
      const written = this.flushOutbox(resumedStored ? 'pending' : 'queued');
      if (written === 0 && established.driver.state === 'online') established.driver.requestAck();
      return;
    }
    // A new session: the contacts' presence of the former one is gone.
    this.#forgetPresence();
    established.driver.requestRoster();
    established.driver.sendPresence(this.contacts.initialPresence());
    // After the presence, so that nothing falls between the archive and live delivery.
    this.#messaging.readArchive();
    this.flushOutbox('pending');
  }

  #onEvent(event: StreamEvent): void {
    this.#lastHeard = Date.now();
    if (this.#messaging.handle(event)) return;
    if (this.contacts.handle(event)) return;
    switch (event.type) {
      case 'roster':
        this.#callbacks.roster(event.items, event.ver);
        break;
      case 'roster-push':
        this.#callbacks.rosterPush(event.item);
        break;
      case 'presence':
        this.#onPresence(event);
        break;
      case 'pong': {
        const ping = this.#pings.get(event.id);
        this.#pings.delete(event.id);
        ping?.answered();
        break;
      }
      case 'sm-enabled':
        this.#writtenWhileEnabling = [];
        if (this.#current) this.#resumption.save(this.#current.driver.streamManagementState(), Date.now());
        if (this.#ackOnEnable) {
          this.#ackOnEnable = false;
          this.#current?.driver.requestAck();
        }
        break;
      case 'sm-failed':
        // XEP-0198 §3: the server refused <enable/>: no acks on this stream; messages stay 'sent'.
        this.#ackOnEnable = false;
        this.#callbacks.log('info', `${this.#config.jid}: the server refused stream management (${event.condition})`);
        if (this.#writtenWhileEnabling.length > 0) this.#callbacks.unconfirmable?.(this.#writtenWhileEnabling);
        this.#writtenWhileEnabling = [];
        break;
      case 'sm-ack-sent':
        // Our <a h/> goes out after this: a resumption after a crash must not ask for less (XEP-0198 §4).
        if (this.#current) this.#resumption.save(this.#current.driver.streamManagementState(), Date.now());
        break;
      case 'sm-acked':
        // A ping covered by this ack was answered (`checkAlive`).
        for (const id of event.ids) {
          const ping = this.#pings.get(id);
          if (!ping) continue;
          this.#pings.delete(id);
          ping.answered();
        }
        if (event.ids.length > 0) this.#callbacks.acked?.(event.ids);
        if (this.#current) this.#resumption.save(this.#current.driver.streamManagementState(), Date.now());
        for (const waiter of this.#ackWaiters.splice(0)) waiter();
        break;
      case 'stanza-error':
        // RFC 6120 §8.3: an error answering one of our messages: it was not delivered.
        if (event.stanzaKind === 'message' && event.id !== null)
          this.#callbacks.refused?.(
            event.id,
            event.from,
            `${event.from ?? 'The server'} refused it: ${event.condition.replace(/-/g, ' ')}${event.text ? ` (${event.text.slice(0, 200)})` : ''}`,
          );
        this.#callbacks.log(
          'warn',
          `${this.#config.jid}: ${event.stanzaKind} ${event.id ?? ''} failed: ${event.condition}`,
        );
        break;
      case 'error':
        this.#callbacks.log('warn', `${this.#config.jid}: ${event.error.message}`);
        break;
      case 'closed':
        for (const waiter of this.#ackWaiters.splice(0)) waiter();
        this.#onClosed(event.error?.message ?? null, event.error ? codeOf(event.error) : null);
        break;
      default:
        break;
    }
  }

  #onPresence(event: Extract<StreamEvent, { type: 'presence' }>): void {
    if (event.presenceType !== 'available' && event.presenceType !== 'unavailable') return;
    const bare = event.from.split('/')[0]!.toLowerCase();
    const resources = this.#presence.get(bare) ?? new Map();
    if (event.presenceType === 'unavailable') resources.delete(event.from);
    else resources.set(event.from, { show: event.show ?? 'available', status: event.status, priority: event.priority });
    this.#presence.set(bare, resources);
    let best: { show: Show; status: string | null; priority: number } | null = null;
    for (const p of resources.values()) if (!best || p.priority > best.priority) best = p;
    this.#callbacks.presence(bare, best ? { show: best.show, status: best.status } : null);
  }

  /**
   * Checks the stream every quarter of the idle time: once nothing came for `idlePingMs`, a ping
   * (`checkAlive`) either hears back or drops the stream and connects again.
   */
  #armIdlePing(established: Established): void {
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    const idleMs = this.#config.idlePingMs ?? IDLE_PING_MS;
    let checking = false;
    this.#idleTimer = setInterval(
      () => {
        if (this.#current !== established || checking || Date.now() - this.#lastHeard < idleMs) return;
        checking = true;
        void this.checkAlive(Math.min(PING_TIMEOUT_MS, idleMs)).then(({ outcome }) => {
          checking = false;
          if (outcome === 'dead')
            this.#callbacks.log('info', `${this.#config.jid}: no answer to an idle ping; connecting again`);
        });
      },
      Math.max(50, Math.floor(idleMs / 4)),
    );
    this.#idleTimer.unref();
  }

  /**
   * XEP-0198 §4 ("before going idle"): when our stanzas wait unacknowledged, asks for an ack and
   * waits up to `STOP_ACK_WAIT_MS` for it, so that messages sent just before quitting are known
   * stored and not sent again at the next start. A stream that is not up, or has nothing
   * unacknowledged, is left at once.
   */
  async #ackBeforeLeaving(current: Established): Promise<void> {
    const driver = current.driver;
    if (driver.state !== 'online' || driver.streamManagementStatus().phase !== 'on') return;
    if ((driver.streamManagementState()?.unacked.length ?? 0) === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, STOP_ACK_WAIT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#ackWaiters.push(done);
      if (!driver.requestAck()) done();
    });
    this.#ackWaiters = [];
  }

  /** The contacts' presence seen on the former session is no longer known. */
  #forgetPresence(): void {
    for (const bare of this.#presence.keys()) this.#callbacks.presence(bare, null);
    this.#presence.clear();
  }

  #onClosed(reason: string | null, code: ConnectErrorCode | null): void {
    const current = this.#current;
    this.#current = null;
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    this.#idleTimer = null;
    this.#messaging.detach();
    this.contacts.detach();
    if (current) {
      finish(current.record, reason ?? 'closed', { saveRecord: (r) => this.#callbacks.saveRecord(r) });
      // XEP-0198 §5: a stream that dropped (not one closed in order) can be resumed by the next attempt.
      this.#resumption.dropped(current.driver.streamManagementState(), this.#running, Date.now());
    }
    // Kept while the session may be resumed (the server keeps it too); forgotten when it is not.
    if (!this.#resumption.pending) this.#forgetPresence();
    if (!this.#running) {
      this.#callbacks.status('offline', null, null);
      return;
    }
    // A stream that dropped soon after login counts as a failed attempt, so a server that accepts
    // and then closes at once is not hammered every second.
    if (Date.now() - this.#onlineSince >= STABLE_MS) this.#attempt = 0;
    const action = code ? sessionAction(code, { slowDown: true }) : 'retry';
    if (code && action === 'ask-person') {
      this.#running = false;
      this.#callbacks.status('error', null, { code, message: `The server ended the session: ${reason ?? code}` });
      return;
    }
    if (action === 'back-off') this.#attempt = Math.max(this.#attempt, SLOW_DOWN_ATTEMPT);
    this.#callbacks.status(
      'connecting',
      null,
      reason ? { code: code ?? 'closed', message: `Connection lost: ${reason}` } : null,
    );
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (!this.#running) return;
    const delay = backoffDelay(this.#attempt, Math.random);
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#launch();
    }, delay);
    this.#callbacks.retryScheduled?.(delay);
  }
}
