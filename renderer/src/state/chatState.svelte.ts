/**
 * One open conversation: its messages (oldest first), paging towards older ones, and sending.
 * The owner forwards `message.added` / `message.updated` events for any conversation; those that
 * are not for this one are ignored.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';

export const PAGE_SIZE = 50;
/** Older pages are bigger: the virtualised list renders only what is visible, so loading is the cost. */
export const OLDER_PAGE_SIZE = 200;
/** A draft is saved this long after the last keystroke (and at once when the chat closes). */
export const DRAFT_DELAY_MS = 500;

const byTime = (a: MessageView, b: MessageView) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ChatState {
  readonly accountId: string;
  readonly peer: string;
  /** Raw (not deeply reactive): replaced as a whole on every change; proxying 100k messages is slow. */
  messages = $state.raw<MessageView[]>([]);
  loading = $state(false);
  /** False once a history page came back shorter than asked: nothing older is stored. */
  hasOlder = $state(true);
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

  /** Loads the newest page. */
  async load(): Promise<void> {
    await this.#page(undefined);
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
      return this.messages.length - before_;
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
      this.#merge([message]);
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
      this.#merge([await this.#api.call('message.retry', { messageId })]);
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

  /** For `message.added` and `message.updated`. */
  receive(message: MessageView): void {
    if (message.accountId !== this.accountId || message.peer !== this.peer) return;
    // A message from them ends their typing (XEP-0085 §5.2: a message implies 'active').
    if (message.direction === 'in') this.peerState = 'active';
    this.#merge([message]);
  }

  #merge(incoming: MessageView[]): void {
    const known = new Map(this.messages.map((m, i) => [m.id, i]));
    let appendOnly = true;
    const next = [...this.messages];
    for (const message of incoming) {
      const at = known.get(message.id);
      if (at !== undefined) {
        next[at] = message;
        continue;
      }
      const last = next[next.length - 1];
      if (last && byTime(last, message) > 0) appendOnly = false;
      known.set(message.id, next.length);
      next.push(message);
    }
    if (!appendOnly) next.sort(byTime);
    this.messages = next;
  }
}
