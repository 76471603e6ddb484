/**
 * What one account's session does with messages beyond sending them (issue 12): it turns the
 * stream's 'message' events (live, XEP-0280 carbons, XEP-0313 archive results) into
 * `IncomingMessage`s for storage, answers XEP-0184 receipt requests once a message is stored,
 * applies receipts to our messages, reports XEP-0085 chat states, enables carbons, catches up
 * with the archive after every login that did not resume, and keeps the XEP-0352 client state.
 *
 * One instance per account; `attach` gives it each new stream. Obligations of the owner
 * (`AccountSession`): call `attach` once a stream is online (with whether it was resumed) and hand
 * `handle` every event of that stream; `handle` returns false for events it does not take.
 */
import type { StreamDriver } from './streamDriver.ts';
import type { StreamEvent } from '../xmpp/streamMachine.ts';
import type { ChatState } from '../xmpp/chatStates.ts';
import type { ClientState } from '../xmpp/clientState.ts';
import { ArchiveCatchUp } from '../xmpp/archiveCatchUp.ts';

/** A message with a body, from the network, for storage. */
export interface IncomingMessage {
  /** The sender's full JID (or the account's, for a message without 'from'). */
  from: string;
  /** 'in': to us; 'out': ours, sent from another of our devices or found in the archive. */
  direction: 'in' | 'out';
  /** The other party (full or bare JID): `from` for 'in', the recipient for 'out'. */
  peer: string;
  /** The 'id' attribute: unique at most per sending resource, so never used to deduplicate. */
  id: string | null;
  /** XEP-0359 <origin-id/>: unique per sending full JID. */
  originId: string | null;
  /**
   * XEP-0359 <stanza-id/> stamped by the account's own server; for an archive result, its archive
   * id (XEP-0313 §3.1: the result's id is the message's stanza-id in that archive).
   */
  serverId: string | null;
  body: string;
  /** XEP-0203: when it was sent (ms since the epoch), when it said so; null means now. */
  sentAt: number | null;
  /** How it came: live, as a XEP-0280 carbon, or from the XEP-0313 archive. */
  via: 'live' | 'carbon' | 'archive';
  /**
   * The earliest place (ms) it may take in the history, or null. An archive result comes after
   * everything before it in the archive, whatever its stamp says: the server stamped it with its own
   * clock when it archived it, while a message that came live is placed by this machine's clock
   * when it arrived, which runs behind the server's by the delivery. Without this floor, messages
   * fetched after a restart would sort among the live ones of the same second. Only a stamp within
   * FLOOR_TOLERANCE_MS before it is moved up to it.
   */
  notBefore: number | null;
}

/**
 * How far before the floor an archive stamp is still moved up to it: the delivery lag the floor
 * corrects (milliseconds on a good link, seconds on a slow one with a backlog, tens of seconds at
 * worst). A stamp further back is not a lag: this clock ran ahead when it placed what is at the
 * floor (and was corrected since), and the stamp is trusted; the floor never moves a message by
 * more than this.
 */
export const FLOOR_TOLERANCE_MS = 60_000;

/** Where an archive catch-up starts, from the stored position. */
export interface CatchUpStart {
  /** The archive id of the newest message stored, or null (the first login). */
  after: string | null;
  /** Read from this time (ms) without a position, or should the archive no longer hold it. */
  start: number | null;
  /** The history time at the position: what the archive holds after it goes no earlier. */
  floor: number | null;
}

/** Whether a message was kept: newly stored, already stored (a copy), or refused (e.g. a bad JID). */
export type StoreOutcome = 'stored' | 'duplicate' | 'refused';

/** What became of an incoming message, and where it stands in the history (null when refused). */
export interface StoreResult {
  outcome: StoreOutcome;
  /** The stored message's time in the history (the new row's, or the copy's already stored). */
  at: number | null;
}

export interface MessagingCallbacks {
  /** Stores an incoming message (or a copy of ours) unless it is stored already. */
  message(incoming: IncomingMessage): StoreResult;
  /** XEP-0184: `from` confirms it received our message `ourId`. */
  receipt?(from: string, ourId: string): void;
  /** XEP-0085: `from` is composing, paused, ... */
  chatState?(from: string, state: ChatState): void;
  /**
   * Where the archive catch-up starts (see CatchUpStart). Absent: no catch-up.
   */
  archiveStart?(): CatchUpStart;
  /**
   * The archive was read up to `lastId` (every message up to it stored); `complete`: to its end;
   * `floor`: the history time reached there, the next catch-up's floor.
   */
  archiveProgress?(lastId: string, complete: boolean, floor: number | null): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class SessionMessaging {
  readonly #jid: string;
  readonly #callbacks: MessagingCallbacks;
  #driver: StreamDriver | null = null;
  #catchUp: ArchiveCatchUp | null = null;
  /**
   * The floor: the history time of the archive position this stream has reached (the stored
   * position's when the catch-up starts, then the latest of the results and, once caught up, of the
   * live messages). The next archive result goes no earlier (within FLOOR_TOLERANCE_MS), so the
   * history keeps the archive's order. Stored with the position (`archiveProgress`); none (null)
   * when the catch-up reads again from a time.
   */
  #archiveFloor: number | null = null;
  /** The catch-up of this stream reached the end: live messages may move the archive position on. */
  #caughtUp = false;
  /**
   * XEP-0280 carbons are on for this session: only then does a live message mean that nothing
   * before it is missing (without carbons, what other devices sent is only in the archive).
   */
  #carbons = false;
  #clientState: ClientState = 'active';
  /** Contacts (bare JIDs) that sent us a chat state: XEP-0085 §5.1 lets us send them ours. */
  readonly #chatStatePeers = new Set<string>();
  /** The last chat state sent to each contact: a repeat is not sent again (§5.5 "SHOULD NOT"). */
  readonly #sentChatStates = new Map<string, ChatState>();

  constructor(jid: string, callbacks: MessagingCallbacks) {
    this.#jid = jid;
    this.#callbacks = callbacks;
  }

  /**
   * A stream came online. A resumed one keeps the former session's carbons, client state and
   * delivery (the server queued what came meanwhile); a fresh one enables carbons (unless Bind 2
   * did inline) and says the client state when it is not the default; its archive is read once
   * the owner has sent the initial presence (`readArchive`).
   */
  attach(driver: StreamDriver, options: { resumed: boolean; inlineEnabled: readonly string[] }): void {
    this.#driver = driver;
    if (options.resumed) {
      // The server kept the session (carbons too), but the client state it holds may be the one
      // of before the drop, while this stream's machine starts from 'active': say it again.
      driver.setClientState(this.#clientState, true);
      // Caught up before the drop, nothing was missed: the server kept the session. A catch-up
      // the drop cut short (or never started) is done now.
      if (!this.#caughtUp) this.#startCatchUp();
      return;
    }
    this.#caughtUp = false;
    this.#catchUp = null;
    this.#carbons = options.inlineEnabled.includes('urn:xmpp:carbons:2');
    if (!this.#carbons) driver.enableCarbons();
    if (this.#clientState !== 'active') driver.setClientState(this.#clientState);
  }

  /**
   * A fresh stream's archive catch-up: call right after the initial presence. Before it, messages
   * to the account go to the archive only (it is not available); after it they come live. A query
   * sent before the presence would leave a gap: what the server archived between the query and the
   * presence would come neither way. After it, a message may come both ways, and is stored once.
   */
  readArchive(): void {
    if (this.#catchUp === null && !this.#caughtUp) this.#startCatchUp();
  }

  /** The stream is gone. */
  detach(): void {
    this.#driver = null;
  }

  /**
   * XEP-0085: tells `peer` (a bare JID) the person's chat state, now or never (chat states are not
   * queued). §5.1: "the sender MUST NOT send chat state notifications unless ... the recipient has
   * sent chat state notifications" (or disco says so): only to contacts that sent us one.
   */
  sendChatState(peer: string, state: ChatState): void {
    const driver = this.#driver;
    if (driver?.state !== 'online' || !this.#chatStatePeers.has(peer)) return;
    if (this.#sentChatStates.get(peer) === state) return;
    this.#sentChatStates.set(peer, state);
    driver.sendChatState(peer, state);
  }

  /** A content message to `peer` (bare JID) went out: it carried <active/> (XEP-0085 §5.3). */
  contentSent(peer: string): void {
    if (this.#sentChatStates.has(peer)) this.#sentChatStates.set(peer, 'active');
  }

  /** XEP-0352: the window is seen ('active') or hidden ('inactive'); kept for later streams too. */
  setClientState(state: ClientState): void {
    this.#clientState = state;
    if (this.#driver?.state === 'online') this.#driver.setClientState(state);
  }

  /** Takes the events about messages; false for any other. */
  handle(event: StreamEvent): boolean {
    switch (event.type) {
      case 'message':
        this.#onMessage(event);
        return true;
      case 'archive-page':
        this.#onArchivePage(event.queryId, event.complete, event.last);
        return true;
      case 'archive-failed':
        if (this.#catchUp) {
          const outcome = this.#catchUp.failed(event.queryId, event.condition);
          // The archive no longer holds the position: it is read again from a time, and what it
          // brings may come before the position. Copies already stored raise the floor again.
          if (outcome === 'restarted') this.#archiveFloor = null;
          if (this.#catchUp.state === 'failed')
            this.#callbacks.log(
              'warn',
              `${this.#jid}: could not read the server's archive (${this.#catchUp.failure}); messages that arrived while offline may be missing until the next login`,
            );
          else this.#nextArchivePage();
        }
        return true;
      case 'carbons-enabled':
        this.#carbons = true;
        return true;
      case 'features-changed':
        // A resumed stream learnt its features late: the client state it could not say, now.
        this.#driver?.setClientState(this.#clientState, true);
        return true;
      case 'carbons-failed':
        this.#carbons = false;
        this.#callbacks.log(
          'info',
          `${this.#jid}: the server refused message carbons (${event.condition}); messages of other devices appear from the archive at the next login`,
        );
        return true;
      case 'stanza-ignored':
        this.#callbacks.log(
          'warn',
          `${this.#jid}: ignored a stanza from ${event.from ?? 'the server'}: ${event.reason}`,
        );
        return true;
      default:
        return false;
    }
  }

  #startCatchUp(): void {
    const start = this.#callbacks.archiveStart?.();
    if (!start || !this.#driver) {
      this.#catchUp = null;
      this.#caughtUp = true;
      return;
    }
    this.#catchUp = new ArchiveCatchUp(start);
    this.#archiveFloor = start.floor;
    this.#nextArchivePage();
  }

  #nextArchivePage(): void {
    const catchUp = this.#catchUp;
    const driver = this.#driver;
    if (!catchUp || !driver || driver.state !== 'online') return;
    const query = catchUp.next();
    if (query === null) return;
    catchUp.sent(driver.queryArchive(query));
  }

  #onArchivePage(queryId: string, complete: boolean, last: string | null): void {
    const catchUp = this.#catchUp;
    if (!catchUp) return;
    catchUp.page(queryId, { complete, last });
    // Every result of the page was stored as it arrived (before the <fin/>): the position may move.
    if (catchUp.position !== null && catchUp.state !== 'failed')
      this.#callbacks.archiveProgress?.(catchUp.position, catchUp.state === 'done', this.#archiveFloor);
    if (catchUp.state === 'done') this.#caughtUp = true;
    else if (catchUp.state === 'failed')
      this.#callbacks.log('warn', `${this.#jid}: stopped reading the server's archive: ${catchUp.failure}`);
    else this.#nextArchivePage();
  }

  #onMessage(event: Extract<StreamEvent, { type: 'message' }>): void {
    if (event.messageType === 'error' || event.messageType === 'groupchat') return;
    if (event.receiptFor !== null && event.carbon === null && event.archive === null)
      this.#callbacks.receipt?.(event.from, event.receiptFor);
    if (event.chatState !== null && event.carbon === null && event.archive === null) {
      this.#chatStatePeers.add(bareOf(event.from));
      if (event.body === null) this.#callbacks.chatState?.(event.from, event.chatState);
    }
    // A message of ours from another device ends what this one said about typing to that contact.
    if (event.carbon === 'sent') this.#sentChatStates.delete(bareOf(event.to));
    if (event.body === null) return;
    const ours = event.carbon === 'sent';
    const incoming: IncomingMessage = {
      from: event.from,
      direction: ours ? 'out' : 'in',
      peer: ours ? event.to : event.from,
      id: event.id,
      originId: event.originId,
      serverId: event.archive?.id ?? event.serverId,
      body: event.body,
      sentAt: event.delay,
      via: event.archive ? 'archive' : event.carbon ? 'carbon' : 'live',
      notBefore: event.archive ? this.#archiveFloor : null,
    };
    const { outcome, at } = this.#callbacks.message(incoming);
    if (outcome === 'refused') return;
    // Results come in the archive's order: a copy already stored (it came live) moves the floor too.
    if (event.archive && at !== null) this.#archiveFloor = Math.max(this.#archiveFloor ?? at, at);
    // XEP-0184 §5.4: "If the recipient supports Message Delivery Receipts and the sender requested
    // a receipt, the recipient SHOULD ... return a receipt". Only once stored (a copy is answered
    // again: the sender may not have had the first receipt), never for carbons or archive results.
    const driver = this.#driver;
    if (event.receiptRequested && event.id !== null && incoming.via === 'live' && driver?.state === 'online')
      driver.sendReceipt(event.from, event.id, event.messageType === 'normal' ? 'normal' : 'chat');
    // After this stream's catch-up, and with carbons on (else other devices' messages would be
    // skipped), a live message stamped by our server is the newest position.
    if (this.#caughtUp && this.#carbons && incoming.via === 'live' && event.serverId !== null) {
      // A live message carrying an old stamp (held offline) does not move the floor back.
      if (at !== null) this.#archiveFloor = Math.max(this.#archiveFloor ?? at, at);
      this.#callbacks.archiveProgress?.(event.serverId, true, this.#archiveFloor);
    }
  }
}

/** The bare JID of a full one, lower-cased as contacts are keyed (storage's normalisation). */
function bareOf(jid: string): string {
  return jid.split('/')[0]!.toLowerCase();
}
