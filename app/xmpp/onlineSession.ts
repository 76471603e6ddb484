/**
 * The client session once a resource is bound (RFC 6120 §8, RFC 6121): routes what the server
 * delivers (messages, presence, roster pushes, IQ requests and the answers to our own IQs) into
 * events and replies, and builds what the account sends (messages, presence, roster get and set,
 * stanzas of later XEP modules). It owns the ids of our IQs still awaiting an answer.
 *
 * Obligations of the stream machine: hand it the bound JID (`bound`), then the features once
 * online (`online`); call the commands only once online; route to `handleStanza` every stanza
 * that negotiation declines; call `end` when the stream is over.
 */
import type { Element } from 'ltx';
import { archiveQueryIq, parseArchiveFin, type ArchiveQuery } from './archive.ts';
import { parseBlockPush } from './blocking.ts';
import { enableCarbonsIq } from './carbons.ts';
import { chatStateStanza, isChatState, type ChatState } from './chatStates.ts';
import { ClientStateIndication, type ClientState } from './clientState.ts';
import { inboundIqRequest, inboundMessage, inboundPresence, stanzaFrom, type Inbound } from './inboundStanza.ts';
import { parseJid } from './jid.ts';
import { NS_CLIENT, NS_CSI, NS_ROSTER_VER } from './namespaces.ts';
import { receiptStanza } from './receipts.ts';
import {
  iqResult,
  messageStanza,
  parseRosterQuery,
  parseStanzaError,
  presenceStanza,
  pingIq,
  rosterGet,
  rosterQuery,
  rosterSet,
  type OutgoingPresence,
  type RosterItemUpdate,
} from './stanzas.ts';
import type { StreamOutput } from './streamOutput.ts';

type PendingIq =
  | { kind: 'roster-get'; withVer: boolean }
  | { kind: 'roster-set' }
  | { kind: 'ping' }
  | { kind: 'carbons' }
  | { kind: 'archive'; queryId: string }
  | { kind: 'request' };

/** The message options of `sendMessage`. */
export interface SendMessage {
  to: string;
  body: string;
  /** Unique (the outbox uses a random UUID); generated when absent or empty. */
  id?: string;
  type?: 'chat' | 'normal';
  /** XEP-0184: ask for a receipt; by default on chat messages. */
  requestReceipt?: boolean;
  /** XEP-0085 §5.3: carry an <active/> chat state. */
  chatState?: 'active';
}

export class OnlineSession {
  private readonly account: string;
  private readonly out: StreamOutput;
  private readonly nextId: () => string;

  private boundJid: string | null = null;
  /** Namespaces of the last <stream:features/> before the session went online. */
  private features: readonly string[] = [];
  private readonly pending = new Map<string, PendingIq>();
  /** XEP-0313 §8.2: queryids of our archive queries still open (results may arrive for these only). */
  private readonly openQueries = new Set<string>();
  private readonly clientState = new ClientStateIndication();

  /** `account` is the bare JID; `nextId` is shared with negotiation (one id space per stream). */
  constructor(account: string, out: StreamOutput, nextId: () => string) {
    this.account = account;
    this.out = out;
    this.nextId = nextId;
  }

  /** The server bound this full JID (stanzas may arrive before the session is online). */
  bound(jid: string): void {
    this.boundJid = jid;
  }

  /** The session is online with these stream features. */
  online(features: readonly string[]): void {
    this.features = features;
  }

  /** The stream is over: no answer will come. */
  end(): void {
    this.pending.clear();
    this.openQueries.clear();
  }

  /**
   * Sends a message (RFC 6121 §5) with a XEP-0359 <origin-id/> equal to its id; returns the id
   * used. A given `id` must be unique (the outbox uses a random UUID); when absent or empty, one is
   * generated.
   */
  sendMessage(msg: SendMessage): string {
    if (typeof msg.to !== 'string' || parseJid(msg.to) === null)
      throw new Error(`sendMessage(): "${msg.to}" is not a JID`);
    const id = msg.id !== undefined && msg.id !== '' ? msg.id : this.nextId();
    const type = msg.type ?? 'chat';
    this.out.send(
      messageStanza({
        to: msg.to,
        body: msg.body,
        id,
        type,
        // XEP-0184 §5.1 (see receiptRequestElement): requested on chat messages unless the caller says no.
        requestReceipt: msg.requestReceipt ?? type === 'chat',
        chatState: msg.chatState,
      }),
    );
    return id;
  }

  /**
   * XEP-0184: acknowledges the message `theirId` that `to` (its sender, as it arrived) sent with a
   * receipt request; returns the id of the ack message. Call it only after the message is stored,
   * and never for carbons or archive results (§5.5).
   */
  sendReceipt(to: string, theirId: string, type: 'chat' | 'normal' = 'chat'): string {
    if (parseJid(to) === null) throw new Error(`sendReceipt(): "${to}" is not a JID`);
    if (theirId === '') throw new Error('sendReceipt(): the message to acknowledge has no id');
    const id = this.nextId();
    this.out.send(receiptStanza(to, id, theirId, type));
    return id;
  }

  /**
   * XEP-0085: a standalone chat state notification to `to`; returns its id. The caller keeps §5.3
   * (no second instance of the same standalone notification in a row) and §5.1 (send them only to
   * a contact who sent chat states too).
   */
  sendChatState(to: string, state: ChatState): string {
    if (parseJid(to) === null) throw new Error(`sendChatState(): "${to}" is not a JID`);
    if (!isChatState(state)) throw new Error(`sendChatState(): unknown chat state "${String(state)}"`);
    const id = this.nextId();
    this.out.send(chatStateStanza(to, id, state));
    return id;
  }

  /**
   * XEP-0280 §4: asks the server to send carbon copies to this resource; returns the iq id. The
   * answer arrives as 'carbons-enabled' or 'carbons-failed'.
   */
  enableCarbons(): string {
    const id = this.nextId();
    this.pending.set(id, { kind: 'carbons' });
    this.out.send(enableCarbonsIq(id));
    return id;
  }

  /**
   * XEP-0352: tells the server the client is 'active' or 'inactive'. False, and nothing sent, when
   * the server did not advertise <csi/> or already has that state.
   */
  setClientState(state: ClientState, force = false): boolean {
    const nonza = this.clientState.next(state, this.features.includes(NS_CSI), force);
    if (!nonza) return false;
    this.out.send(nonza);
    return true;
  }

  /**
   * XEP-0313: queries the account's own archive; returns the queryid. Each result arrives as a
   * 'message' event with `archive.queryId` equal to it, then an 'archive-page' (or
   * 'archive-failed') event ends the query. See ArchiveCatchUp for paging.
   */
  queryArchive(q: ArchiveQuery): string {
    const id = this.nextId();
    const queryId = this.nextId();
    const iq = archiveQueryIq(id, queryId, q);
    this.pending.set(id, { kind: 'archive', queryId });
    this.openQueries.add(queryId);
    this.out.send(iq);
    return queryId;
  }

  /** Sends presence (RFC 6121 §4): no argument is the initial available presence. */
  sendPresence(p?: OutgoingPresence): void {
    this.out.send(presenceStanza(p));
  }

  /**
   * RFC 6121 §2.1.3 roster get; returns the iq id. The result arrives as a 'roster' event.
   * With `ver` (RFC 6121 §2.6), sent only if the server advertised roster versioning.
   */
  requestRoster(ver?: string): string {
    const id = this.nextId();
    const withVer = ver !== undefined && this.features.includes(NS_ROSTER_VER);
    this.pending.set(id, { kind: 'roster-get', withVer });
    this.out.send(rosterGet(id, withVer ? ver : undefined));
    return id;
  }

  /** RFC 6121 §2.1.5 / §2.5: add, update or remove one item; returns the iq id. Errors arrive as 'stanza-error'. */
  setRosterItem(item: RosterItemUpdate): string {
    if (parseJid(item.jid) === null) throw new Error(`setRosterItem(): "${item.jid}" is not a JID`);
    const id = this.nextId();
    this.pending.set(id, { kind: 'roster-set' });
    this.out.send(rosterSet(id, item));
    return id;
  }

  /**
   * XEP-0199 §4.2: pings the account's server; returns the iq id. Any answer arrives as a 'pong'
   * event (the stream is alive); none means the caller's timeout decides.
   */
  sendPing(): string {
    const id = this.nextId();
    this.pending.set(id, { kind: 'ping' });
    const at = this.account.indexOf('@');
    this.out.send(pingIq(id, at >= 0 ? this.account.slice(at + 1).split('/')[0]! : this.account));
    return id;
  }

  /**
   * Sends an IQ get or set to the account's server or domain, built by a later XEP module with the
   * id given; returns that id. Its answer arrives as one 'iq-answer' event with the same id (an
   * error too, never as 'stanza-error'); none when the stream ends first.
   */
  sendRequest(build: (id: string) => Element): string {
    const id = this.nextId();
    const iq = build(id);
    if (iq.getName() !== 'iq' || iq.attrs.id !== id || (iq.attrs.type !== 'get' && iq.attrs.type !== 'set'))
      throw new Error('sendRequest(): build() must return an iq get or set with the id given');
    this.pending.set(id, { kind: 'request' });
    this.out.send(iq);
    return id;
  }

  /** Sends any stanza built by a later XEP module. */
  sendStanza(stanza: Element): void {
    this.out.send(stanza);
  }

  /**
   * Whether an IQ response comes from where our requests go: no 'from' (RFC 6120 §8.1.2.1: the
   * server answering on the account's behalf), the account's bare or full JID, or its domain.
   */
  private answersOwnServer(el: Element): boolean {
    const from = typeof el.attrs.from === 'string' ? el.attrs.from.toLowerCase() : '';
    if (from === '') return true;
    const account = this.account.toLowerCase();
    const at = account.indexOf('@');
    const domain = at >= 0 ? account.slice(at + 1) : account;
    return from === account || from === domain || from === this.boundJid?.toLowerCase();
  }

  // ---- stanzas (RFC 6120 §8, RFC 6121) ----

  /** One top-level element from the server. */
  handleStanza(el: Element): void {
    if (el.getNS() !== NS_CLIENT) return; // unknown top-level elements (e.g. an unnegotiated XEP) are ignored
    const ctx = {
      account: this.account,
      boundJid: this.boundJid,
      openArchiveQuery: (queryId: string) => this.openQueries.has(queryId),
    };
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
          const candidate = id === null ? undefined : this.pending.get(id);
          // RFC 6120 §8.2.3: a response answers the request with the same id *from the entity
          // the request went to*. Our requests go to our own server (no 'to': the account), or
          // to its domain (a ping): an answer from anyone else with a guessed id is not one.
          const pending = candidate && this.answersOwnServer(el) ? candidate : undefined;
          if (id !== null && pending) this.pending.delete(id);
          this.handleIqResponse(el, id, type, pending);
          return;
        }
        // RFC 6120 §8.2.3: 'type' is one of get, set, result, error; anything else is not an IQ we can answer.
        if (type !== 'get' && type !== 'set') return;
        const push = parseBlockPush(el, this.account);
        if (push?.kind === 'ignored') {
          this.out.emit({ type: 'stanza-ignored', reason: push.reason, from: stanzaFrom(el) });
          return;
        }
        if (push) {
          this.out.emit({
            type: 'block-push',
            block: push.block,
            jids: push.jids,
            all: push.all,
            dropped: push.dropped,
          });
          // RFC 6120 §8.2.3: every IQ set gets a result or an error (as a roster push, RFC 6121 §2.1.6).
          this.out.send(iqResult(el));
          return;
        }
        inbound = inboundIqRequest(el, ctx);
        break;
      }
      default:
        return;
    }
    for (const event of inbound.events) this.out.emit(event);
    if (inbound.reply) this.out.send(inbound.reply);
  }

  private handleIqResponse(
    iq: Element,
    id: string | null,
    type: 'result' | 'error',
    pending: PendingIq | undefined,
  ): void {
    if (pending?.kind === 'ping' && id !== null) {
      this.out.emit({ type: 'pong', id });
      return;
    }
    if (pending?.kind === 'carbons' && id !== null) {
      if (type === 'result') this.out.emit({ type: 'carbons-enabled', id });
      else this.out.emit({ type: 'carbons-failed', id, condition: parseStanzaError(iq).condition });
      return;
    }
    if (pending?.kind === 'request' && id !== null) {
      const e = type === 'error' ? parseStanzaError(iq) : null;
      this.out.emit({
        type: 'iq-answer',
        id,
        ok: e === null,
        condition: e?.condition ?? null,
        text: e?.text ?? null,
        result: iq,
      });
      return;
    }
    if (pending?.kind === 'archive') {
      const queryId = pending.queryId;
      this.openQueries.delete(queryId);
      if (type === 'error') {
        this.out.emit({ type: 'archive-failed', queryId, condition: parseStanzaError(iq).condition });
        return;
      }
      const fin = parseArchiveFin(iq);
      // XEP-0313 §4: "The final IQ result response MUST include an RSM <set/> element, wrapped
      // into a <fin/>"; a result without one ends the query with nothing to page on.
      if (!fin) this.out.emit({ type: 'archive-failed', queryId, condition: 'undefined-condition' });
      else this.out.emit({ type: 'archive-page', queryId, ...fin });
      return;
    }
    if (type === 'error') {
      const e = parseStanzaError(iq);
      this.out.emit({
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
        this.out.emit({ type: 'roster', items: [], ver: null, unchanged: pending.withVer });
        return;
      }
      const { items, ver } = parseRosterQuery(query);
      this.out.emit({ type: 'roster', items, ver, unchanged: false });
    }
  }
}
