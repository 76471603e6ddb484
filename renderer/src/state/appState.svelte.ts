/**
 * Everything the window shows that is not local to one component: the accounts and their rosters,
 * what the main pane is showing, the link to the host, and the last error worth a banner. It owns
 * the one event subscription and routes each event to whoever needs it.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { ArgsOf } from '../../../app/contract/commands.ts';
import type { AccountView, ConversationView, MessageView, RosterItemView } from '../../../app/contract/viewModels.ts';
import type { LinkStatus } from '../transport/wsTransport.ts';
import { ChatState } from './chatState.svelte.ts';
import { SecurityState } from './securityState.svelte.ts';
import { DecisionState } from './decisionState.svelte.ts';
import { ConversationsState, conversationKey } from './conversationsState.svelte.ts';
import { SearchState } from './searchState.svelte.ts';
import { askPermissionOnFirstClick, notifyIncoming } from '../notifications.ts';
import { ContactsState } from './contactsState.svelte.ts';
import { errorText } from './errorText.ts';
import { openUriTarget } from './openUri.ts';
import type { XmppUriTarget } from '../../../app/contract/viewModels.ts';

export type MainView =
  | { kind: 'welcome' }
  | { kind: 'add-account' }
  | { kind: 'edit-account'; accountId: string }
  | { kind: 'chat'; chat: ChatState }
  | { kind: 'search'; search: SearchState }
  | { kind: 'security'; security: SecurityState }
  | { kind: 'account'; accountId: string };

export class AppState {
  accounts = $state<AccountView[]>([]);
  /** Roster per account id; absent until first loaded. */
  rosters = $state<Record<string, RosterItemView[]>>({});
  expanded = $state<Record<string, boolean>>({});
  /**
   * Unread incoming messages per conversation that is not open, counted here; only for a
   * conversation the core has not listed (the core's count, `conversations`, wins).
   */
  unread = $state<Record<string, number>>({});
  /** The one conversation list across accounts (conversation.list + conversation.changed). */
  readonly conversationList = new ConversationsState();
  /** What the search field holds; non-empty while the search view is open. */
  searchQuery = $state('');
  view = $state<MainView>({ kind: 'welcome' });
  link = $state<LinkStatus>('open');
  loaded = $state(false);
  /** A failure that belongs to no form: shown in the banner until dismissed. */
  notice = $state<string | null>(null);
  /** Certificates waiting for the person's decision; the dialog shows `decisions.current`. */
  readonly decisions: DecisionState;
  /** Contacts, subscription requests and block lists per account (the account panel). */
  readonly contacts: ContactsState;
  #api: Api;
  #unsubscribe: (() => void)[] = [];

  constructor(api: Api) {
    this.#api = api;
    this.decisions = new DecisionState(api);
    this.contacts = new ContactsState(api, (text) => (this.notice = text));
  }

  /** Every conversation, as the core listed and changed them (unsorted; see `conversationsInOrder`). */
  get conversations(): ConversationView[] {
    return this.conversationList.items;
  }

  /** The conversation list's order (most recent activity first): what Alt+Up/Down walk. */
  get conversationsInOrder(): ConversationView[] {
    return this.conversationList.inOrder;
  }

  /** Unread messages over all conversations: the title's "(N) Quiver" and the app badge. */
  get totalUnread(): number {
    return this.conversationList.totalUnread;
  }

  /** Subscribes to host events and loads the accounts; call once. */
  start(): Promise<void> {
    const api = this.#api;
    const onFocus = () => this.#markOpenChatReadIfSeen();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onFocus);
    this.#unsubscribe.push(
      () => window.removeEventListener('focus', onFocus),
      () => document.removeEventListener('visibilitychange', onFocus),
      askPermissionOnFirstClick(document),
      api.on('conversation.changed', ({ conversation }) => {
        this.conversationList.upsert(conversation);
        if (conversation.unread > 0) this.#markOpenChatReadIfSeen();
      }),
      api.on('conversation.removed', ({ accountId, peer }) => this.conversationList.remove(accountId, peer)),
      api.on('account.changed', ({ account }) => this.#upsertAccount(account)),
      api.on('account.removed', ({ accountId }) => this.#dropAccount(accountId)),
      api.on('roster.changed', ({ accountId, items }) => {
        this.rosters[accountId] = items;
      }),
      api.on('presence.changed', ({ accountId, jid, presence }) => {
        const item = this.rosters[accountId]?.find((i) => i.jid === jid);
        if (item) item.presence = presence;
      }),
      api.on('message.added', ({ message }) => this.#messageAdded(message)),
      api.on('message.updated', ({ message }) => {
        if (this.view.kind === 'chat') this.view.chat.update(message);
      }),
      api.on('chat.stateChanged', ({ accountId, peer, state }) => {
        const view = this.view;
        if (view.kind === 'chat' && view.chat.accountId === accountId && view.chat.peer === peer)
          view.chat.peerState = state;
      }),
      api.on('connection.recorded', ({ record }) => {
        if (this.view.kind === 'security') this.view.security.receive(record);
      }),
      api.on('certificate.decisionNeeded', ({ decision }) => this.decisions.add(decision)),
      api.on('certificate.decisionResolved', ({ decisionId }) => this.decisions.resolve(decisionId)),
      api.on('pin.changed', ({ accountId, pins }) => {
        if (this.view.kind === 'security') this.view.security.pins.receive(accountId, pins);
      }),
      api.on('uri.opened', ({ target }) => void this.openUriTarget(target)),
    );
    this.#unsubscribe.push(...this.contacts.start());
    return this.reload();
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** Fetches everything again, e.g. after the link to the host came back (events may be lost). */
  async reload(): Promise<void> {
    try {
      const [accounts] = await Promise.all([
        this.#api.call('account.list', {}),
        this.decisions.load(),
        this.#loadConversations(),
      ]);
      this.accounts = accounts;
      for (const id of Object.keys(this.rosters)) {
        if (!this.accounts.some((a) => a.id === id)) delete this.rosters[id];
      }
      // Every roster the window holds (the open chat's header reads its contact's presence from
      // one): presence changes while the link was down were lost.
      await Promise.all(
        this.accounts.filter((a) => this.expanded[a.id] || this.rosters[a.id]).map((a) => this.loadRoster(a.id)),
      );
      if (this.view.kind === 'chat') await this.view.chat.load();
      if (this.view.kind === 'security') await this.view.security.load();
      // Messages that came into the open chat while the link was down are counted in the fresh
      // list; the person is looking at them, so they are read (no badge, no count in the title).
      this.#markOpenChatReadIfSeen();
    } catch (error) {
      this.notice = errorText(error);
    } finally {
      this.loaded = true;
    }
  }

  setLink(status: LinkStatus): void {
    const wasDown = this.link === 'reconnecting' || this.link === 'stopped';
    this.link = status;
    if (status === 'open' && wasDown) void Promise.all([this.reload(), this.contacts.reload()]);
  }

  async loadRoster(accountId: string): Promise<void> {
    try {
      this.rosters[accountId] = await this.#api.call('roster.list', { accountId });
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  toggleExpanded(accountId: string): void {
    const open = !this.expanded[accountId];
    this.expanded[accountId] = open;
    if (open && !this.rosters[accountId]) void this.loadRoster(accountId);
  }

  /** Adds an account; throws the host's error (the form shows it) or resolves to the new account. */
  async addAccount(args: ArgsOf<'account.add'>): Promise<AccountView> {
    const account = await this.#api.call('account.add', args);
    this.#upsertAccount(account);
    this.expanded[account.id] = true;
    this.view = { kind: 'welcome' };
    void this.loadRoster(account.id);
    return account;
  }

  /** Saves new settings; throws the host's error (the form shows it). The host reconnects as needed. */
  async updateAccount(args: ArgsOf<'account.update'>): Promise<AccountView> {
    const account = await this.#api.call('account.update', args);
    this.#upsertAccount(account);
    this.view = { kind: 'welcome' };
    return account;
  }

  async setEnabled(accountId: string, enabled: boolean): Promise<void> {
    try {
      this.#upsertAccount(await this.#api.call('account.setEnabled', { accountId, enabled }));
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  /** Moves an account one place up (-1) or down (+1) in the person's order. */
  async moveAccount(accountId: string, by: -1 | 1): Promise<void> {
    const ids = this.accounts.toSorted((a, b) => a.order - b.order).map((a) => a.id);
    const at = ids.indexOf(accountId);
    const to = at + by;
    if (at < 0 || to < 0 || to >= ids.length) return;
    [ids[at], ids[to]] = [ids[to]!, ids[at]!];
    try {
      this.accounts = await this.#api.call('account.reorder', { accountIds: ids });
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  /** Connects now, skipping the back-off wait. */
  async retryAccount(accountId: string): Promise<void> {
    try {
      this.#upsertAccount(await this.#api.call('account.retry', { accountId }));
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  /** Own presence for one account, or every account without `accountId`. Resolves to whether it worked. */
  async setPresence(args: ArgsOf<'presence.set'>): Promise<boolean> {
    try {
      await this.#api.call('presence.set', args);
      return true;
    } catch (error) {
      this.notice = errorText(error);
      return false;
    }
  }

  async removeAccount(accountId: string, keepHistory?: boolean): Promise<void> {
    try {
      await this.#api.call('account.remove', keepHistory === undefined ? { accountId } : { accountId, keepHistory });
      this.#dropAccount(accountId);
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  /**
   * Opens the chat: a conversation not listed yet is created (`conversation.start`, so a chat
   * started with "New chat" stays in the list), and it is marked read.
   */
  openChat(accountId: string, peer: string): void {
    const chat = new ChatState(this.#api, accountId, peer);
    this.view = { kind: 'chat', chat };
    this.searchQuery = '';
    delete this.unread[conversationKey(accountId, peer)];
    void chat.load();
    void this.#startConversation(accountId, peer);
  }

  /** An `xmpp:` link the shell handed over: opens that chat from the best account (openUri.ts). */
  openUriTarget(target: XmppUriTarget): Promise<void> {
    return openUriTarget(this.#api, this, target);
  }

  /** Shows the search view with `query` (searched once typing pauses); an empty query closes it. */
  openSearch(query: string): void {
    this.searchQuery = query;
    if (!query.trim()) {
      if (this.view.kind === 'search') {
        this.view.search.cancel();
        this.view = { kind: 'welcome' };
      }
      return;
    }
    if (this.view.kind !== 'search') this.view = { kind: 'search', search: new SearchState(this.#api) };
    this.view.search.set(query);
  }

  /** Shows the account's panel: status, presence, contacts and requests, settings. */
  openAccount(accountId: string): void {
    this.view = { kind: 'account', accountId };
    const account = this.accounts.find((a) => a.id === accountId);
    void this.contacts.load(accountId, account?.canBlock ?? false);
  }

  openSecurity(accountId: string): void {
    const security = new SecurityState(this.#api, accountId);
    this.view = { kind: 'security', security };
    void security.load();
  }

  showAddAccount(): void {
    this.view = { kind: 'add-account' };
  }

  showAccountSettings(accountId: string): void {
    this.view = { kind: 'edit-account', accountId };
  }

  closeView(): void {
    this.view = { kind: 'welcome' };
  }

  unreadFor(accountId: string, peer: string): number {
    return this.conversationList.find(accountId, peer)?.unread ?? this.unread[conversationKey(accountId, peer)] ?? 0;
  }

  /** The chat is open and the person can see it: the window has the focus and is not hidden. */
  seesChat(accountId: string, peer: string): boolean {
    return this.isOpenChat(accountId, peer) && document.visibilityState === 'visible' && document.hasFocus();
  }

  /** The conversation list; a failure is shown, and the accounts still load. */
  async #loadConversations(): Promise<void> {
    try {
      this.conversationList.replace(await this.#api.call('conversation.list', {}));
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  async #startConversation(accountId: string, peer: string): Promise<void> {
    try {
      if (!this.conversationList.find(accountId, peer)) {
        this.conversationList.upsert(await this.#api.call('conversation.start', { accountId, peer }));
      }
      await this.#markRead(accountId, peer);
    } catch (error) {
      this.notice = errorText(error);
    }
  }

  async #markRead(accountId: string, peer: string): Promise<void> {
    this.conversationList.clearUnread(accountId, peer);
    await this.#api.call('conversation.markRead', { accountId, peer });
  }

  /** The open chat got messages while the person was away: now that they see it, it is read. */
  #markOpenChatReadIfSeen(): void {
    const view = this.view;
    if (view.kind !== 'chat' || !this.seesChat(view.chat.accountId, view.chat.peer)) return;
    const { accountId, peer } = view.chat;
    if ((this.conversationList.find(accountId, peer)?.unread ?? 0) === 0) return;
    this.#markRead(accountId, peer).catch((error: unknown) => (this.notice = errorText(error)));
  }

  isOpenChat(accountId: string, peer: string): boolean {
    return this.view.kind === 'chat' && this.view.chat.accountId === accountId && this.view.chat.peer === peer;
  }

  #messageAdded(message: MessageView): void {
    notifyIncoming(message, {
      account: (id) => this.accounts.find((a) => a.id === id),
      nameOf: (accountId, peer) =>
        this.conversationList.find(accountId, peer)?.name ??
        this.rosters[accountId]?.find((i) => i.jid === peer)?.name ??
        null,
      seesChat: (accountId, peer) => this.seesChat(accountId, peer),
      isBlocked: (accountId, peer) =>
        (this.conversationList.find(accountId, peer)?.blocked ?? false) || this.contacts.isBlocked(accountId, peer),
      open: (accountId, peer) => this.openChat(accountId, peer),
    });
    if (this.isOpenChat(message.accountId, message.peer) && this.view.kind === 'chat') {
      this.view.chat.arrive(message);
    } else if (message.direction === 'in') {
      const key = conversationKey(message.accountId, message.peer);
      this.unread[key] = (this.unread[key] ?? 0) + 1;
    }
  }

  #upsertAccount(account: AccountView): void {
    const at = this.accounts.findIndex((a) => a.id === account.id);
    const becameOnline = account.status === 'online' && (at < 0 || this.accounts[at]!.status !== 'online');
    if (at < 0) this.accounts.push(account);
    else this.accounts[at] = account;
    if (becameOnline && this.expanded[account.id]) void this.loadRoster(account.id);
  }

  #dropAccount(accountId: string): void {
    this.accounts = this.accounts.filter((a) => a.id !== accountId);
    delete this.rosters[accountId];
    delete this.expanded[accountId];
    this.decisions.dropAccount(accountId);
    const v = this.view;
    if (
      (v.kind === 'chat' && v.chat.accountId === accountId) ||
      (v.kind === 'security' && v.security.accountId === accountId) ||
      ((v.kind === 'edit-account' || v.kind === 'account') && v.accountId === accountId)
    ) {
      this.view = { kind: 'welcome' };
    }
  }
}
