/**
 * A scriptable `QuiverCore` (app/core.ts) for the UI tests, which serve it through the real browser
 * host, and for the host and IPC unit tests. Its handlers keep plain view models in memory
 * (`data`) and behave as the real core does where the UI can tell (a sent message is announced to
 * every window, pinning replaces the key pinned for that domain, …); it has no sessions, streams or
 * database.
 *
 * A test scripts it: `emit` pushes an event, `needDecision` adds a pending certificate decision
 * and announces it, `failNext` makes the next call of a command fail with a coded error,
 * `holdNext` makes it never answer; `calls` lists every command that reached a handler, which is
 * only after the contract's `dispatch` validated it.
 */
import type {
  AccountStatus,
  AccountView,
  ArgsOf,
  CertificateDecisionView,
  CommandName,
  ConversationView,
  EventEnvelope,
  Handlers,
  MessageView,
  PinView,
  RosterItemView,
  SecurityRecord,
  SubscriptionRequestView,
} from '../../../app/contract/index.ts';
import type { QuiverCore } from '../../../app/core.ts';
import { account } from './fixtures.ts';
import { QuiverError } from '../../../app/contract/quiverError.ts';

/** What a handler throws to make `dispatch` answer `{ok: false}` with this code and message. */
export class FakeCoreError extends QuiverError {}

/** The fake core's whole state; tests may read and change it between steps. */
export interface FakeData {
  accounts: AccountView[];
  rosters: Record<string, RosterItemView[]>;
  messages: MessageView[];
  records: SecurityRecord[];
  /** Certificates waiting for a decision, as `certificate.pending` returns them. */
  decisions: CertificateDecisionView[];
  pins: PinView[];
  /** Subscription requests waiting for an answer (`subscription.pending`). */
  requests: SubscriptionRequestView[];
  /** XEP-0191 block list per account id. */
  blocks: Record<string, string[]>;
  /**
   * The conversation list. Left out of the seed, it is built from the seeded messages (all read,
   * no drafts); `receive` and `chat.send` keep it in step with `messages` as the real core does.
   */
  conversations: ConversationView[];
}

export interface FakeCore extends QuiverCore {
  readonly data: FakeData;
  /** Every command that reached a handler (after validation), in order. */
  readonly calls: { name: CommandName; args: unknown }[];
  readonly closed: boolean;
  /**
   * The status `account.add` answers with. The real core starts a session for a new account; this
   * one has none, so it says `offline` unless a test wants the account shown as connecting.
   */
  addedStatus: AccountStatus;
  /** Sends an event to every subscriber (the browser host, the IPC bridge). */
  emit(event: EventEnvelope): void;
  /** Adds a pending decision and announces it, as the real core does when no proof holds. */
  needDecision(decision: CertificateDecisionView): void;
  /** The next call of `name` fails with this error. */
  failNext(name: CommandName, code: string, message: string): void;
  /** The next call of `name` never answers (to test what the UI does when the link drops meanwhile). */
  holdNext(name: CommandName): void;
  /** Resolves when the call `holdNext` asked for has arrived. */
  waitForHeld(): Promise<void>;
  listenerCount(): number;
  /**
   * An incoming message arrives, as the real core handles one: stored, its conversation created
   * (a stranger's when the peer is not in the roster) or updated with one more unread, and both
   * announced (`message.added`, then `conversation.changed`).
   */
  receive(message: MessageView): void;
}

export function createFakeCore(seed: Partial<FakeData> = {}): FakeCore {
  const data: FakeData = {
    accounts: [],
    rosters: {},
    messages: [],
    records: [],
    decisions: [],
    pins: [],
    requests: [],
    blocks: {},
    conversations: [],
    ...structuredClone(seed),
  };
  if (!seed.conversations) {
    for (const m of data.messages.toSorted((a, b) => a.at - b.at)) touchConversation(m, false);
  }
  const listeners = new Set<(event: EventEnvelope) => void>();
  const calls: { name: CommandName; args: unknown }[] = [];
  const failures = new Map<CommandName, FakeCoreError>();
  const holds = new Set<CommandName>();
  let heldArrived: () => void = () => undefined;
  let held = Promise.resolve();
  let closed = false;
  let nextId = 1000;

  const emit = (event: EventEnvelope) => {
    for (const listener of listeners) listener(event);
  };

  const findAccount = (accountId: string) => {
    const found = data.accounts.find((a) => a.id === accountId);
    if (!found) throw new FakeCoreError('not-found', 'No account with that id; reload the account list.');
    return found;
  };

  /** `a1`, `a2`, …: the first id no account has. */
  const freeAccountId = () => {
    let n = data.accounts.length + 1;
    while (data.accounts.some((a) => a.id === `a${n}`)) n++;
    return `a${n}`;
  };

  const rosterOf = (accountId: string) => (data.rosters[findAccount(accountId).id] ??= []);
  const emitRoster = (accountId: string) =>
    emit({ name: 'roster.changed', payload: { accountId, items: structuredClone(rosterOf(accountId)) } });

  const pinsOf = (accountId: string) => data.pins.filter((p) => p.accountId === accountId);

  function conversationOf(accountId: string, peer: string, startedAt = Date.now()): ConversationView {
    let found = data.conversations.find((c) => c.accountId === accountId && c.peer === peer);
    if (!found) {
      const item = data.rosters[accountId]?.find((i) => i.jid === peer);
      found = {
        accountId,
        peer,
        name: item?.name ?? null,
        lastMessage: null,
        lastActivity: startedAt,
        unread: 0,
        draft: '',
        stranger: !item,
        blocked: false,
      };
      data.conversations.push(found);
    }
    return found;
  }

  /** Files a stored message under its conversation (one more unread when incoming and `unread`). */
  function touchConversation(message: MessageView, unread: boolean): ConversationView {
    const found = conversationOf(message.accountId, message.peer, message.at);
    found.lastMessage = message;
    found.lastActivity = Math.max(found.lastActivity, message.at);
    if (unread && message.direction === 'in') found.unread++;
    return found;
  }

  const announce = (conversation: ConversationView) =>
    emit({ name: 'conversation.changed', payload: { conversation: structuredClone(conversation) } });

  /**
   * chat.history's index: each conversation's messages in history order (`at`, then id) and each
   * message's place in it, so a page of a 100,000-message chat is a slice (the chat bench). Built
   * again when `data.messages` was replaced or grew.
   */
  let history: {
    source: MessageView[];
    length: number;
    lists: Map<string, MessageView[]>;
    position: Map<string, number>;
  } | null = null;
  const historyOf = (accountId: string, peer: string) => {
    if (!history || history.source !== data.messages || history.length !== data.messages.length) {
      const lists = new Map<string, MessageView[]>();
      for (const m of data.messages) {
        const key = `${m.accountId}\n${m.peer}`;
        const list = lists.get(key);
        if (list) list.push(m);
        else lists.set(key, [m]);
      }
      const position = new Map<string, number>();
      for (const list of lists.values()) {
        list.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        list.forEach((m, i) => position.set(m.id, i));
      }
      history = { source: data.messages, length: data.messages.length, lists, position };
    }
    return { list: history.lists.get(`${accountId}\n${peer}`) ?? [], position: history.position };
  };

  const handlers: Handlers = {
    'account.reorder': (args) => {
      const ids = [...new Set(args.accountIds)];
      if (ids.length !== data.accounts.length || ids.some((id) => !data.accounts.some((a) => a.id === id)))
        throw new FakeCoreError('invalid-order', 'The order must name every account once; reload the account list.');
      for (const [order, id] of ids.entries()) findAccount(id).order = order;
      data.accounts.sort((a, b) => a.order - b.order);
      for (const a of data.accounts) emit({ name: 'account.changed', payload: { account: structuredClone(a) } });
      return data.accounts;
    },
    'account.retry': (args) => {
      const found = findAccount(args.accountId);
      if (!found.enabled) throw new FakeCoreError('account-disabled', `${found.jid} is disabled; enable it first.`);
      Object.assign(found, {
        status: 'connecting',
        statusText: `connecting to ${found.jid.split('@')[1]}`,
        error: null,
      });
      emit({ name: 'account.changed', payload: { account: structuredClone(found) } });
      return found;
    },
    'presence.set': (args) => {
      const targets = args.accountId === undefined ? data.accounts : [findAccount(args.accountId)];
      for (const a of targets) {
        a.presence = { show: args.show, status: args.status };
        emit({ name: 'account.changed', payload: { account: structuredClone(a) } });
      }
      return null;
    },
    'conversation.list': () => data.conversations.toSorted((a, b) => b.lastActivity - a.lastActivity),
    'conversation.start': (args) => {
      findAccount(args.accountId);
      const known = data.conversations.some((c) => c.accountId === args.accountId && c.peer === args.peer);
      const found = conversationOf(args.accountId, args.peer);
      // As the real core: a conversation the person started is not a stranger's.
      const wasStranger = found.stranger;
      found.stranger = false;
      if (!known || wasStranger) announce(found);
      return found;
    },
    'conversation.markRead': (args) => {
      const found = conversationOf(args.accountId, args.peer);
      if (found.unread > 0) {
        found.unread = 0;
        announce(found);
      }
      return null;
    },
    'conversation.setDraft': (args) => {
      const found = conversationOf(args.accountId, args.peer);
      if (found.draft !== args.draft || (args.draft !== '' && found.stranger)) {
        found.draft = args.draft;
        // A draft to them is the person's own doing: no longer a stranger's conversation.
        if (args.draft !== '') found.stranger = false;
        announce(found);
      }
      return null;
    },
    'search.run': (args) => {
      const needle = args.query.toLowerCase();
      const limit = args.limit ?? 50;
      const conversations = data.conversations
        .filter((c) => c.peer.toLowerCase().includes(needle) || !!c.name?.toLowerCase().includes(needle))
        .toSorted((a, b) => b.lastActivity - a.lastActivity)
        .slice(0, limit);
      const messages = data.messages
        .filter((m) => m.body.toLowerCase().includes(needle))
        .toSorted((a, b) => b.at - a.at)
        .slice(0, limit)
        .map((message) => {
          // The real core's FTS5 snippet() marks the match with U+0002 … U+0003.
          const at = message.body.toLowerCase().indexOf(needle);
          const end = at + needle.length;
          const snippet = `${message.body.slice(0, at)}\u0002${message.body.slice(at, end)}\u0003${message.body.slice(end)}`;
          return { message, snippet };
        });
      return { conversations, messages };
    },
    'contact.add': (args) => {
      const roster = rosterOf(args.accountId);
      const found = roster.find((i) => i.jid === args.jid);
      if (found) found.name = args.name ?? found.name;
      else
        roster.push({
          jid: args.jid,
          name: args.name ?? null,
          subscription: 'none',
          ask: true,
          groups: [],
          presence: null,
        });
      emitRoster(args.accountId);
      return null;
    },
    'contact.rename': (args) => {
      const found = rosterOf(args.accountId).find((i) => i.jid === args.jid);
      if (!found) throw new FakeCoreError('not-a-contact', `${args.jid} is not in your contacts.`);
      found.name = args.name;
      emitRoster(args.accountId);
      return null;
    },
    'contact.remove': (args) => {
      data.rosters[args.accountId] = rosterOf(args.accountId).filter((i) => i.jid !== args.jid);
      emitRoster(args.accountId);
      return null;
    },
    'contact.block': (args) => {
      const found = findAccount(args.accountId);
      if (!found.canBlock)
        throw new FakeCoreError('blocking-unsupported', `The server of ${found.jid} does not offer blocking.`);
      const list = (data.blocks[args.accountId] ?? []).filter((j) => j !== args.jid);
      data.blocks[args.accountId] = args.blocked ? [...list, args.jid] : list;
      emit({ name: 'block.changed', payload: { accountId: args.accountId, jids: [...data.blocks[args.accountId]!] } });
      return null;
    },
    'block.list': (args) => data.blocks[findAccount(args.accountId).id] ?? [],
    'subscription.pending': () => data.requests,
    'subscription.answer': (args) => {
      data.requests = data.requests.filter((r) => r.accountId !== args.accountId || r.jid !== args.jid);
      emit({ name: 'subscription.resolved', payload: { accountId: args.accountId, jid: args.jid } });
      if (args.approve) {
        // Approving also asks for their presence (the real core does the same, RFC 6121 §3.4).
        const roster = rosterOf(args.accountId);
        const found = roster.find((i) => i.jid === args.jid);
        if (found) found.subscription = found.subscription === 'to' ? 'both' : 'from';
        else roster.push({ jid: args.jid, name: null, subscription: 'from', ask: true, groups: [], presence: null });
        emitRoster(args.accountId);
      }
      return null;
    },
    'account.list': () => data.accounts,
    'account.add': (args) => {
      if (data.accounts.some((a) => a.jid === args.jid)) {
        throw new FakeCoreError('account-exists', `${args.jid} is already set up in Quiver.`);
      }
      const created = account(freeAccountId(), args.jid, {
        status: core.addedStatus,
        settings: {
          resolver: args.resolver ?? null,
          resolverValidates: args.resolverValidates ?? false,
          extraCaPem: args.extraCaPem ?? null,
          transport: args.transport ?? 'auto',
        },
      });
      data.accounts.push(created);
      data.rosters[created.id] = [];
      return created;
    },
    'account.update': (args) => {
      const found = findAccount(args.accountId);
      if (args.resolver !== undefined) found.settings.resolver = args.resolver;
      if (args.resolverValidates !== undefined) found.settings.resolverValidates = args.resolverValidates;
      if (args.extraCaPem !== undefined) found.settings.extraCaPem = args.extraCaPem;
      if (args.transport !== undefined) found.settings.transport = args.transport;
      // null: back to the default, the domain (the real core adds the local part when domains clash).
      if (args.label !== undefined) found.label = args.label ?? found.jid.slice(found.jid.indexOf('@') + 1);
      if (args.color !== undefined) found.color = args.color;
      return found;
    },
    'account.remove': (args) => {
      findAccount(args.accountId);
      data.accounts = data.accounts.filter((a) => a.id !== args.accountId);
      return null;
    },
    'account.setEnabled': (args) => {
      const found = findAccount(args.accountId);
      found.enabled = args.enabled;
      found.status = args.enabled ? 'connecting' : 'disabled';
      return found;
    },
    'roster.list': (args) => data.rosters[findAccount(args.accountId).id] ?? [],
    'chat.list': () => [],
    'chat.history': (args) => {
      const limit = args.limit ?? 50;
      const { list, position } = historyOf(args.accountId, args.peer);
      if (args.before === undefined && (args.after !== undefined || args.oldest)) {
        const after = args.after === undefined ? -1 : position.get(args.after);
        return after === undefined ? [] : list.slice(after + 1, after + 1 + limit);
      }
      const before = args.before === undefined ? list.length : position.get(args.before);
      if (before === undefined) return [];
      return list.slice(Math.max(0, before - limit), before);
    },
    'chat.send': (args) => {
      findAccount(args.accountId);
      const sent: MessageView = {
        id: `m-${nextId++}`,
        accountId: args.accountId,
        peer: args.to,
        direction: 'out',
        body: args.body,
        stanzaId: `s-${nextId}`,
        at: Date.now(),
        state: 'queued',
        error: null,
      };
      data.messages.push(sent);
      // The real core announces stored messages to every window, including the sender's.
      emit({ name: 'message.added', payload: { message: sent } });
      const conversation = touchConversation(sent, false);
      conversation.draft = '';
      conversation.stranger = false;
      announce(conversation);
      return sent;
    },
    'chat.setState': () => null,
    'client.setState': () => null,
    'message.retry': (args) => {
      const found = data.messages.find((m) => m.id === args.messageId);
      if (!found || found.state !== 'failed') throw new QuiverError('message-not-retryable', 'Nothing to retry.');
      Object.assign(found, { state: 'queued', error: null });
      emit({ name: 'message.updated', payload: { message: { ...found } } });
      return { ...found };
    },
    'connection.list': (args) => data.records.filter((r) => r.accountId === args.accountId).slice(0, args.limit ?? 200),
    'certificate.pending': () => data.decisions,
    'certificate.decide': (args) => {
      const decision = data.decisions.find((d) => d.id === args.decisionId);
      if (!decision) throw new FakeCoreError('no-such-decision', 'This certificate no longer waits for a decision.');
      data.decisions = data.decisions.filter((d) => d.id !== decision.id);
      emit({ name: 'certificate.decisionResolved', payload: { decisionId: decision.id } });
      if (args.choice === 'pin') {
        // Pinning the presented key replaces what was pinned for this account and domain (the
        // `key-changed` case); the real core does the same.
        data.pins = data.pins.filter((p) => p.accountId !== decision.accountId || p.domain !== decision.domain);
        data.pins.push({
          accountId: decision.accountId,
          domain: decision.domain,
          spkiSha256: decision.presentedSpkiSha256,
          certificate: decision.certificates[0] ?? null,
          createdAt: Date.now(),
        });
        emit({ name: 'pin.changed', payload: { accountId: decision.accountId, pins: pinsOf(decision.accountId) } });
      }
      return null;
    },
    'pin.list': (args) => pinsOf(findAccount(args.accountId).id),
    'pin.remove': (args) => {
      const found = data.pins.find(
        (p) => p.accountId === args.accountId && p.domain === args.domain && p.spkiSha256 === args.spkiSha256,
      );
      if (!found) throw new FakeCoreError('no-such-pin', `No key with this fingerprint is pinned for ${args.domain}.`);
      data.pins = data.pins.filter((p) => p !== found);
      emit({ name: 'pin.changed', payload: { accountId: args.accountId, pins: pinsOf(args.accountId) } });
      return null;
    },
  };

  // Every handler records the call first, then fails or holds it if the test asked for that.
  const scripted = Object.fromEntries(
    (Object.keys(handlers) as CommandName[]).map((name) => [
      name,
      (args: ArgsOf<typeof name>) => {
        calls.push({ name, args });
        const failure = failures.get(name);
        if (failure) {
          failures.delete(name);
          throw failure;
        }
        if (holds.delete(name)) {
          heldArrived();
          return new Promise<never>(() => undefined);
        }
        return (handlers[name] as (a: unknown) => unknown)(args);
      },
    ]),
  ) as unknown as Handlers;

  const core: FakeCore = {
    handlers: scripted,
    data,
    calls,
    get closed() {
      return closed;
    },
    addedStatus: 'offline',
    networkResumed() {
      // The fake core has no network.
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit,
    needDecision(decision) {
      data.decisions.push(decision);
      emit({ name: 'certificate.decisionNeeded', payload: { decision } });
    },
    failNext(name, code, message) {
      failures.set(name, new FakeCoreError(code, message));
    },
    holdNext(name) {
      holds.add(name);
      held = new Promise<void>((resolve) => (heldArrived = resolve));
    },
    waitForHeld: () => held,
    listenerCount: () => listeners.size,
    receive(message) {
      data.messages.push(message);
      emit({ name: 'message.added', payload: { message } });
      announce(touchConversation(message, true));
    },
    async close() {
      closed = true;
    },
  };
  return core;
}
