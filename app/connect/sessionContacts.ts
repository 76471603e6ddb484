/**
 * What one account's session does about contacts (issue 13): subscription requests that arrive
 * (RFC 6121 §3), the XEP-0191 block list (whether the server offers it, the list, its pushes), the
 * presence the account announces, and the roster and block requests the person makes, each
 * answered or failed with a typed error.
 *
 * One instance per account; obligations of the owner (`AccountSession`): call `attach` once a
 * stream is online (with whether it was resumed), send `initialPresence()` as the initial presence
 * of a fresh session, hand `handle` every event of that stream (it returns false for events it
 * does not take), and call `detach` when the stream is gone.
 */
import type { Element } from 'ltx';
import { QuiverError } from '../contract/quiverError.ts';
import {
  blockIq,
  blocklistIq,
  discoInfoIq,
  parseBlocklist,
  parseDiscoFeatures,
  MAX_BLOCKLIST,
} from '../xmpp/blocking.ts';
import { NS_BLOCKING } from '../xmpp/namespaces.ts';
import { ownPresence, type OwnPresenceChoice } from '../xmpp/ownPresence.ts';
import { rosterSet, type OutgoingPresence, type RosterItemUpdate } from '../xmpp/stanzas.ts';
import type { StreamEvent } from '../xmpp/streamMachine.ts';
import { classifySubscription, subscriptionPresence } from '../xmpp/subscription.ts';
import type { StreamDriver } from './streamDriver.ts';

/** How long a roster or block request waits for the server's answer. */
export const CONTACT_REQUEST_TIMEOUT_MS = 30_000;

export type ContactRequestErrorCode = 'account-offline' | 'stream-closed' | 'timeout' | 'refused';

/** A contact request that did not go through; `condition` is the server's stanza error condition for 'refused'. */
export class ContactRequestError extends QuiverError<ContactRequestErrorCode> {
  readonly condition: string | null;
  readonly text: string | null;
  constructor(
    code: ContactRequestErrorCode,
    message: string,
    condition: string | null = null,
    text: string | null = null,
  ) {
    super(code, message);
    this.condition = condition;
    this.text = text;
  }
}

export interface ContactsCallbacks {
  /** What the account announces (stored per account): the initial presence of every login. */
  ownPresence?(): OwnPresenceChoice;
  /**
   * `jid` (bare) asks to see the account's presence. 'approve': answer 'subscribed' at once (the
   * person approved them before: subscription from or both); 'ask': the person decides.
   */
  subscriptionRequested?(jid: string, message: string | null): 'approve' | 'ask';
  /** `jid` withdrew its request or cancelled ours: a pending request of theirs is over. */
  subscriptionWithdrawn?(jid: string): void;
  /** XEP-0191: whether the server offers blocking (known after each fresh login's disco#info). */
  blockingSupported?(supported: boolean): void;
  /** XEP-0191 §3.2: the whole block list, as the server returned it. */
  blockList?(jids: string[]): void;
  /** XEP-0191 §3.3-§3.5: the server pushed a change (`all`: everyone unblocked). */
  blockPushed?(block: boolean, jids: string[], all: boolean): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

interface Waiter {
  resolve(result: Element): void;
  reject(error: ContactRequestError): void;
  timer: NodeJS.Timeout;
}

export class SessionContacts {
  readonly #jid: string;
  readonly #callbacks: ContactsCallbacks;
  #driver: StreamDriver | null = null;
  #canBlock = false;
  /** A disco#info answer was had in this process (a stream resumed from an earlier process has none). */
  #discovered = false;
  /** The presence last sent on a stream of this session (null: none yet, as after a restart). */
  #announced: OwnPresenceChoice | null = null;
  /** Our requests (iq id) and what settles them. */
  readonly #waiters = new Map<string, Waiter>();

  constructor(jid: string, callbacks: ContactsCallbacks) {
    this.#jid = jid;
    this.#callbacks = callbacks;
  }

  /** A stream is online: requests can be sent. */
  get online(): boolean {
    return this.#online() !== null;
  }

  /** XEP-0191 is offered by the account's server (false until a login's disco#info says so). */
  get canBlock(): boolean {
    return this.#canBlock;
  }

  /**
   * A stream came online. A fresh one asks the account's server what it offers (XEP-0030), then
   * for the block list when it offers XEP-0191; a resumed one keeps what the former stream learnt
   * (unless that stream was an earlier process's: then it asks too).
   */
  attach(driver: StreamDriver, options: { resumed: boolean }): void {
    this.#driver = driver;
    if (options.resumed) {
      // XEP-0198: a resumed stream sends no initial presence, so a choice made while the stream was
      // down (announce() returned false) is announced now. (After a restart nothing was announced
      // by this process: a clean quit leaves nothing to resume, so the stored choice stands.)
      const choice = this.#choice();
      if (this.#announced !== null && !sameChoice(this.#announced, choice)) this.announce(choice);
    }
    if (options.resumed && this.#discovered) return;
    const domain = this.#jid.slice(this.#jid.indexOf('@') + 1);
    this.request((id) => discoInfoIq(id, domain)).then(
      (result) => this.#onDiscoInfo(parseDiscoFeatures(result)),
      (error: ContactRequestError) => {
        if (error.code === 'stream-closed' || error.code === 'account-offline') return;
        this.#callbacks.log(
          'info',
          `${this.#jid}: the server did not say what it offers (${error.message}); blocking is not offered`,
        );
        this.#setCanBlock(false);
      },
    );
  }

  /** The stream is gone: requests waiting for an answer fail. */
  detach(): void {
    this.#driver = null;
    for (const [id, waiter] of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(
        new ContactRequestError(
          'stream-closed',
          'The connection closed before the server answered; try again once the account is online.',
        ),
      );
      this.#waiters.delete(id);
    }
  }

  /** The initial presence of a fresh session: what the person chose (RFC 6121 §4.2). */
  initialPresence(): OutgoingPresence {
    const choice = this.#choice();
    this.#announced = choice;
    return ownPresence(choice);
  }

  /** Announces `choice` now when online (RFC 6121 §4.4: a later available presence updates it). False when offline. */
  announce(choice: OwnPresenceChoice): boolean {
    const driver = this.#online();
    if (!driver) return false;
    driver.sendPresence(ownPresence(choice));
    this.#announced = choice;
    return true;
  }

  /** Sends a subscription presence to `jid` (bare): subscribe, subscribed, unsubscribe, unsubscribed. */
  sendSubscription(type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed', jid: string): void {
    const driver = this.#online();
    if (!driver) throw offline(this.#jid);
    driver.sendPresence(subscriptionPresence(type, jid));
  }

  /** RFC 6121 §2.1.5 / §2.5: a roster set, resolved when the server answers with a result. */
  async setRosterItem(item: RosterItemUpdate): Promise<void> {
    await this.request((id) => rosterSet(id, item));
  }

  /** XEP-0191 §3.3 / §3.4: blocks or unblocks `jids`; resolved when the server answers with a result. */
  async block(jids: readonly string[], block: boolean): Promise<void> {
    await this.request((id) => blockIq(id, jids, block));
  }

  /** An IQ to the account's server; resolves with its result, or fails with a ContactRequestError. */
  request(build: (id: string) => Element): Promise<Element> {
    const driver = this.#online();
    if (!driver) return Promise.reject(offline(this.#jid));
    return new Promise((resolve, reject) => {
      const id = driver.sendRequest(build);
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new ContactRequestError('timeout', 'The server did not answer in time; try again.'));
      }, CONTACT_REQUEST_TIMEOUT_MS);
      timer.unref();
      this.#waiters.set(id, { resolve, reject, timer });
    });
  }

  /** Takes the events about contacts; false for any other. */
  handle(event: StreamEvent): boolean {
    switch (event.type) {
      case 'presence':
        return this.#onPresence(event);
      case 'iq-answer': {
        const waiter = this.#waiters.get(event.id);
        if (!waiter) return true;
        this.#waiters.delete(event.id);
        clearTimeout(waiter.timer);
        if (event.ok) waiter.resolve(event.result);
        else
          waiter.reject(
            new ContactRequestError(
              'refused',
              `The server refused it: ${(event.condition ?? 'undefined-condition').replace(/-/g, ' ')}${event.text ? ` (${event.text.slice(0, 200)})` : ''}.`,
              event.condition,
              event.text,
            ),
          );
        return true;
      }
      case 'block-push':
        if (event.dropped > 0)
          this.#callbacks.log(
            'warn',
            `${this.#jid}: ${event.dropped} items of a block list push were invalid or beyond ${MAX_BLOCKLIST}; ignored`,
          );
        this.#callbacks.blockPushed?.(event.block, event.jids, event.all);
        return true;
      default:
        return false;
    }
  }

  #choice(): OwnPresenceChoice {
    return this.#callbacks.ownPresence?.() ?? { show: 'available', status: null };
  }

  #online(): StreamDriver | null {
    return this.#driver?.state === 'online' ? this.#driver : null;
  }

  #setCanBlock(value: boolean): void {
    this.#canBlock = value;
    this.#callbacks.blockingSupported?.(value);
  }

  #onDiscoInfo(features: string[]): void {
    this.#discovered = true;
    // XEP-0191 §2: "the server MUST advertise that it supports the protocol" in disco#info.
    const supported = features.includes(NS_BLOCKING);
    this.#setCanBlock(supported);
    if (!supported) return;
    this.request((id) => blocklistIq(id)).then(
      (result) => {
        const list = parseBlocklist(result);
        if (!list) {
          this.#callbacks.log('warn', `${this.#jid}: the server's block list answer had no <blocklist/>`);
          return;
        }
        if (list.dropped > 0)
          this.#callbacks.log(
            'warn',
            `${this.#jid}: ${list.dropped} block list items were invalid or beyond ${MAX_BLOCKLIST}; ignored`,
          );
        this.#callbacks.blockList?.(list.jids);
      },
      (error: ContactRequestError) => {
        if (error.code !== 'stream-closed')
          this.#callbacks.log('warn', `${this.#jid}: could not read the block list: ${error.message}`);
      },
    );
  }

  #onPresence(event: Extract<StreamEvent, { type: 'presence' }>): boolean {
    const inbound = classifySubscription(event, this.#jid);
    if (inbound === null) return false;
    switch (inbound.kind) {
      case 'ignored':
        this.#callbacks.log('warn', `${this.#jid}: ignored ${inbound.reason}`);
        break;
      case 'request': {
        // RFC 6121 §3.1.3: a contact the person approved before (subscription 'from' or 'both') is
        // not asked about again: the approval is repeated at once.
        const decision = this.#callbacks.subscriptionRequested?.(inbound.jid, inbound.message) ?? 'ask';
        if (decision === 'approve') this.#online()?.sendPresence(subscriptionPresence('subscribed', inbound.jid));
        break;
      }
      case 'withdrawn':
        this.#callbacks.subscriptionWithdrawn?.(inbound.jid);
        break;
      case 'approved':
      case 'refused':
        // The server's roster push (RFC 6121 §3.1.5, §3.2.2) carries the new subscription state.
        break;
    }
    return true;
  }
}

function sameChoice(a: OwnPresenceChoice, b: OwnPresenceChoice): boolean {
  return a.show === b.show && a.status === b.status;
}

function offline(jid: string): ContactRequestError {
  return new ContactRequestError('account-offline', `${jid} is offline; connect it first.`);
}
