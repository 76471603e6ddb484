/**
 * Per account: its contacts (roster with presence), the subscription requests waiting for the
 * person's answer, and its XEP-0191 block list. The account panel shows them; the account chips
 * show how many requests wait.
 *
 * `start()` subscribes to roster.changed, presence.changed, subscription.requested/resolved and
 * block.changed, and loads the pending requests; AppState calls it once and calls `reload()` after
 * the link to the host came back (events may have been lost meanwhile). Every command's failure
 * goes to `onError` in words for the person; the methods never throw.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { ArgsOf } from '../../../app/contract/commands.ts';
import type { RosterItemView, SubscriptionRequestView } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';

export class ContactsState {
  /** Roster per account id; absent until loaded with `load(accountId)`. */
  rosters = $state<Record<string, RosterItemView[]>>({});
  /** Requests to see an account's presence, every account, oldest first. */
  requests = $state<SubscriptionRequestView[]>([]);
  /** Block list per account id; absent until loaded (and never loaded for an account that cannot block). */
  blocked = $state<Record<string, string[]>>({});
  /**
   * A contact an `xmpp:?roster` / `?subscribe` link offers to add: the account panel's contact list
   * opens "Add contact" filled in with it (and clears it); the person still confirms.
   */
  offered = $state<{ accountId: string; jid: string; name: string | null } | null>(null);
  #api: Api;
  #onError: (text: string) => void;

  constructor(api: Api, onError: (text: string) => void) {
    this.#api = api;
    this.#onError = onError;
  }

  /** Subscribes to the events this state follows and loads the pending requests; returns the unsubscribers. */
  start(): (() => void)[] {
    const api = this.#api;
    const offs = [
      api.on('roster.changed', ({ accountId, items }) => {
        this.rosters[accountId] = items;
      }),
      api.on('presence.changed', ({ accountId, jid, presence }) => {
        const item = this.rosters[accountId]?.find((i) => i.jid === jid);
        if (item) item.presence = presence;
      }),
      api.on('subscription.requested', ({ request }) => {
        this.requests = [
          ...this.requests.filter((r) => r.accountId !== request.accountId || r.jid !== request.jid),
          request,
        ];
      }),
      api.on('subscription.resolved', ({ accountId, jid }) => this.#dropRequest(accountId, jid)),
      api.on('block.changed', ({ accountId, jids }) => {
        this.blocked[accountId] = jids;
      }),
      api.on('account.removed', ({ accountId }) => this.dropAccount(accountId)),
    ];
    void this.reload();
    return offs;
  }

  /** Fetches the requests again, and the rosters and block lists already loaded. */
  async reload(): Promise<void> {
    await this.#guard(async () => {
      this.requests = await this.#api.call('subscription.pending', {});
    });
    await Promise.all(Object.keys(this.rosters).map((id) => this.load(id)));
  }

  /** Loads an account's contacts, and its block list when `canBlock`. */
  async load(accountId: string, canBlock = false): Promise<void> {
    await this.#guard(async () => {
      this.rosters[accountId] = await this.#api.call('roster.list', { accountId });
    });
    if (canBlock || this.blocked[accountId]) {
      await this.#guard(async () => {
        this.blocked[accountId] = await this.#api.call('block.list', { accountId });
      });
    }
  }

  requestsFor(accountId: string): SubscriptionRequestView[] {
    return this.requests.filter((r) => r.accountId === accountId);
  }

  isBlocked(accountId: string, jid: string): boolean {
    return this.blocked[accountId]?.includes(jid) ?? false;
  }

  /** Adds a contact and asks to see their presence. Resolves to whether it worked. */
  add(args: ArgsOf<'contact.add'>): Promise<boolean> {
    return this.#guard(() => this.#api.call('contact.add', args));
  }

  rename(accountId: string, jid: string, name: string | null): Promise<boolean> {
    return this.#guard(() => this.#api.call('contact.rename', { accountId, jid, name }));
  }

  remove(accountId: string, jid: string): Promise<boolean> {
    return this.#guard(() => this.#api.call('contact.remove', { accountId, jid }));
  }

  async block(accountId: string, jid: string, blocked: boolean): Promise<boolean> {
    const ok = await this.#guard(() => this.#api.call('contact.block', { accountId, jid, blocked }));
    // The host also announces block.changed; this keeps the panel right if that event is lost.
    if (ok) {
      const list = (this.blocked[accountId] ?? []).filter((j) => j !== jid);
      this.blocked[accountId] = blocked ? [...list, jid] : list;
    }
    return ok;
  }

  /** Approves or refuses a request; the request leaves the list once answered. */
  async answer(accountId: string, jid: string, approve: boolean): Promise<boolean> {
    const ok = await this.#guard(() => this.#api.call('subscription.answer', { accountId, jid, approve }));
    if (ok) this.#dropRequest(accountId, jid);
    return ok;
  }

  dropAccount(accountId: string): void {
    delete this.rosters[accountId];
    delete this.blocked[accountId];
    this.requests = this.requests.filter((r) => r.accountId !== accountId);
  }

  #dropRequest(accountId: string, jid: string): void {
    this.requests = this.requests.filter((r) => r.accountId !== accountId || r.jid !== jid);
  }

  async #guard(run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      this.#onError(errorText(error));
      return false;
    }
  }
}
