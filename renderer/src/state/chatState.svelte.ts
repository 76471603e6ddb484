/**
 * One open conversation: its messages (oldest first), paging towards older ones, and sending.
 * The owner forwards `message.added` (`arrive`) and `message.updated` (`update`) events for any
 * conversation; those that are not for this one are ignored.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { byTime, mergeMessages } from '../chat/mergeMessages.ts';
import { errorText } from './errorText.ts';

export const PAGE_SIZE = 50;
/** Older pages are bigger: the virtualised list renders only what is visible, so loading is the cost. */
export const OLDER_PAGE_SIZE = 200;
/**
 * The most messages kept in memory: pages far from the view are dropped (older ones when newer
 * load, newer ones when older load) and loaded again on return, so a 100,000-message chat costs
 * what a 600-message one does.
 */
export const WINDOW_SIZE = 600;
/** A draft is saved this long after the last keystroke (and at once when the chat closes). */
export const DRAFT_DELAY_MS = 500;

export class ChatState {
  readonly accountId: string;
  readonly peer: string;
  /** Raw (not deeply reactive): replaced as a whole on every change; proxying 100k messages is slow. */
  messages = $state.raw<MessageView[]>([]);
  loading = $state(false);
  /** False once a history page came back shorter than asked: nothing older is stored. */
  hasOlder = $state(true);
  /** True when newer messages than the last one held are stored (dropped, or never loaded after Home). */
  hasNewer = $state(false);
  /** Messages that arrived while newer pages were not held (`hasNewer`): the "new messages" count. */
  arrivedBeyond = $state(0);
  /**
   * Messages that arrived live into the held window (`arrive`), counted from 0: the list counts
   * them on its "new messages" button when the person reads elsewhere. Paging never changes it.
   */
  arrivals = $state(0);
  /** The last message that arrived live (held or beyond), for the screen-reader announcement. */
  lastArrival = $state.raw<MessageView | null>(null);
  error = $state<string | null>(null);
  /** XEP-0085: what we last told the contact ('composing' while the person types). */
  #ourState: 'active' | 'composing' | 'paused' = 'active';
  #pauseTimer: ReturnType<typeof setTimeout> | null = null;
  /** XEP-0085: what the contact last said about their attention here ('composing': typing). */
  peerState = $state<'active' | 'composing' | 'paused' | 'inactive' | 'gone'>('active');
  #api: Api;
  #draftTimer: ReturnType<typeof setTimeout> | null = null;
  #pendingDraft: string | null = null;

  constructor(api: Api, accountId: string, peer: string) {
    this.#api = api;
    this.accountId = accountId;
    this.peer = peer;
  }

  /** Loads the newest page (merged with what is held; all of it replaced while `hasNewer`). */
  async load(): Promise<void> {
    if (this.hasNewer) {
      await this.loadNewest();
      return;
    }
    await this.#page(undefined);
  }

  /** Holds the newest page only (the end of the chat): after Home, or to show messages that arrived. */
  async loadNewest(): Promise<void> {
    await this.#replace(
      {},
      (page) => {
        this.hasOlder = page.length >= PAGE_SIZE;
        this.hasNewer = false;
        this.arrivedBeyond = 0;
      },
      PAGE_SIZE,
    );
  }

  /** Holds the oldest page only (Home: the start of the chat). */
  async loadOldest(): Promise<void> {
    await this.#replace(
      { oldest: true },
      (page) => {
        this.hasOlder = false;
        this.hasNewer = page.length >= OLDER_PAGE_SIZE;
      },
      OLDER_PAGE_SIZE,
    );
  }

  /** Loads the page after the newest message held (`hasNewer`); resolves to the number added. */
  async loadNewer(): Promise<number> {
    const newest = this.messages[this.messages.length - 1];
    if (this.loading || !this.hasNewer || !newest) return 0;
    this.loading = true;
    try {
      const page = await this.#api.call('chat.history', {
        accountId: this.accountId,
        peer: this.peer,
        limit: OLDER_PAGE_SIZE,
        after: newest.id,
      });
      const held = this.messages.length;
      this.#merge(page);
      const added = this.messages.length - held;
      if (page.length < OLDER_PAGE_SIZE) {
        this.hasNewer = false;
        this.arrivedBeyond = 0;
      }
      if (this.messages.length > WINDOW_SIZE) {
        this.messages = this.messages.slice(-WINDOW_SIZE);
        this.hasOlder = true;
      }
      this.error = null;
      return added;
    } catch (error) {
      this.error = errorText(error);
      return 0;
    } finally {
      this.loading = false;
    }
  }

  async #replace(where: { oldest?: boolean }, settle: (page: MessageView[]) => void, limit: number): Promise<void> {
    this.loading = true;
    try {
      const page = await this.#api.call('chat.history', {
        accountId: this.accountId,
        peer: this.peer,
        limit,
        ...where,
      });
      this.messages = page.toSorted(byTime);
      settle(page);
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    } finally {
      this.loading = false;
    }
  }

  /** Loads the page before the oldest message shown; resolves to the number of messages added. */
  async loadOlder(): Promise<number> {
    if (this.loading || !this.hasOlder) return 0;
    const oldest = this.messages[0];
    return this.#page(oldest?.id, OLDER_PAGE_SIZE);
  }

  async #page(before: string | undefined, limit = PAGE_SIZE): Promise<number> {
    this.loading = true;
    try {
      const page = await this.#api.call('chat.history', {
        accountId: this.accountId,
        peer: this.peer,
        limit,
        ...(before === undefined ? {} : { before }),
      });
      this.hasOlder = page.length >= limit;
      const before_ = this.messages.length;
      this.#merge(page);
      this.error = null;
      const added = this.messages.length - before_;
      if (this.messages.length > WINDOW_SIZE) {
        this.messages = this.messages.slice(0, WINDOW_SIZE);
        this.hasNewer = true;
      }
      return added;
    } catch (error) {
      this.error = errorText(error);
      return 0;
    } finally {
      this.loading = false;
    }
  }

  /** Sends one message; resolves false (with `error` set) when the host refused it. */
  async send(body: string): Promise<boolean> {
    try {
      const message = await this.#api.call('chat.send', { accountId: this.accountId, to: this.peer, body });
      if (this.hasNewer) await this.loadNewest();
      this.#mergeLive([message]);
      this.error = null;
      // The message carries <active/> (XEP-0085 §5.3): typing is over.
      if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
      this.#pauseTimer = null;
      this.#ourState = 'active';
      return true;
    } catch (error) {
      this.error = errorText(error);
      return false;
    }
  }

  /** Sends a message the server refused again (`message.retry`); `error` is set when the host refused. */
  async retry(messageId: string): Promise<void> {
    try {
      this.#mergeLive([await this.#api.call('message.retry', { messageId })]);
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    }
  }

  /** Adds the peer to the account's contacts (`contact.add`); `error` is set when that failed. */
  async addContact(): Promise<boolean> {
    return this.#act(() => this.#api.call('contact.add', { accountId: this.accountId, jid: this.peer }));
  }

  /** Blocks the peer (XEP-0191, `contact.block`); `error` is set when that failed. */
  async block(): Promise<boolean> {
    return this.#act(() =>
      this.#api.call('contact.block', { accountId: this.accountId, jid: this.peer, blocked: true }),
    );
  }

  async #act(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      this.error = null;
      return true;
    } catch (error) {
      this.error = errorText(error);
      return false;
    }
  }

  /** The composer's text changed: saved as the draft DRAFT_DELAY_MS after the last change. */
  draftChanged(text: string): void {
    this.#pendingDraft = text;
    if (this.#draftTimer) clearTimeout(this.#draftTimer);
    this.#draftTimer = setTimeout(() => void this.saveDraft(), DRAFT_DELAY_MS);
  }

  /** Saves a draft that waits (on leaving the chat, and after sending: ''), at once. */
  async saveDraft(): Promise<void> {
    if (this.#draftTimer) clearTimeout(this.#draftTimer);
    this.#draftTimer = null;
    const draft = this.#pendingDraft;
    if (draft === null) return;
    this.#pendingDraft = null;
    try {
      await this.#api.call('conversation.setDraft', { accountId: this.accountId, peer: this.peer, draft });
    } catch (error) {
      this.error = `Quiver could not keep your draft: ${errorText(error)}`;
    }
  }

  /**
   * The person typed in the composer: 'composing' once, then 'paused' after 5 s without typing
   * (XEP-0085 §5.2's suggested interval); an empty composer is 'active' again. The core sends it
   * only to contacts that understand chat states, and never queues it.
   */
  typed(text: string): void {
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = null;
    if (text.trim() === '') {
      this.#tell('active');
      return;
    }
    this.#tell('composing');
    this.#pauseTimer = setTimeout(() => this.#tell('paused'), 5000);
  }

  #tell(state: 'active' | 'composing' | 'paused'): void {
    if (state === this.#ourState) return;
    this.#ourState = state;
    this.#api
      .call('chat.setState', { accountId: this.accountId, peer: this.peer, state })
      .catch((error: unknown) => console.warn('Quiver could not pass the chat state on:', error));
  }

  /**
   * For `message.added`: a message that arrived live. One not held counts as an arrival
   * (`arrivals`, `lastArrival`), or, while newer pages are not held, on `arrivedBeyond`. One older
   * than the first held message while older ones are stored is left out: that message is the
   * cursor older pages load from (it shows when the person scrolls up to it).
   */
  arrive(message: MessageView): void {
    if (message.accountId !== this.accountId || message.peer !== this.peer) return;
    // A message from them ends their typing (XEP-0085 §5.2: a message implies 'active').
    if (message.direction === 'in') this.peerState = 'active';
    if (this.#holds(message.id)) {
      this.#mergeLive([message]);
      return;
    }
    this.lastArrival = message;
    // Newer pages are not held: a new message is counted, not shown, until the person goes to the end.
    if (this.hasNewer) {
      this.arrivedBeyond++;
      return;
    }
    const before = this.messages;
    this.#mergeLive([message]);
    if (this.messages !== before) this.arrivals++;
  }

  /**
   * For `message.updated` (a state, a receipt, an error): replaces the message when it is held,
   * else does nothing (it is loaded, updated, with its page). Never an arrival.
   */
  update(message: MessageView): void {
    if (message.accountId !== this.accountId || message.peer !== this.peer) return;
    if (this.#holds(message.id)) this.#mergeLive([message]);
  }

  #holds(id: string): boolean {
    return this.messages.some((m) => m.id === id);
  }

  /** Merges live messages (not a page): none goes before the paging cursor while `hasOlder`. */
  #mergeLive(incoming: MessageView[]): void {
    this.messages = mergeMessages(this.messages, incoming, this.hasOlder ? { from: 'held' } : {});
  }

  #merge(incoming: MessageView[]): void {
    this.messages = mergeMessages(this.messages, incoming);
  }
}
