/**
 * The UI/host boundary: every command the renderer may call, with its argument validator and the
 * type of its result. Names are `domain.verb`. The host must implement all of them (the `Handlers`
 * type makes a missing one a compile error); the renderer calls them through `createApi`.
 */
import * as v from './validate.ts';
import type {
  AccountView,
  CertificateDecisionView,
  PinView,
  ConversationView,
  MessageView,
  SearchResult,
  SubscriptionRequestView,
  RosterItemView,
  SecurityRecord,
} from './viewModels.ts';

/** Declares a command: its argument validator and (as a type only) its result. */
function command<R>() {
  return <A>(args: v.Check<A>) => ({ args, result: undefined as unknown as R });
}

const transportPreference = v.literal('auto', 'starttls', 'tls', 'quic');
const pem = v.string({ max: 200_000 });
const label = v.string({ min: 1, max: 64 });
const color = v.string({ min: 7, max: 7, pattern: /^#[0-9a-f]{6}$/ });
const statusMessage = v.nullable(v.string({ max: 1024 }));

export const commands = {
  'account.list': command<AccountView[]>()(v.object({})),
  'account.add': command<AccountView>()(
    v.object({
      jid: v.bareJid,
      password: v.string({ min: 1, max: 1024 }),
      resolver: v.optional(v.nullable(v.hostPort)),
      resolverValidates: v.optional(v.boolean),
      extraCaPem: v.optional(v.nullable(pem)),
      transport: v.optional(transportPreference),
      label: v.optional(label),
      color: v.optional(color),
    }),
  ),
  'account.update': command<AccountView>()(
    v.object({
      accountId: v.id,
      password: v.optional(v.string({ min: 1, max: 1024 })),
      resolver: v.optional(v.nullable(v.hostPort)),
      resolverValidates: v.optional(v.boolean),
      extraCaPem: v.optional(v.nullable(pem)),
      transport: v.optional(transportPreference),
      /** null: back to the default label (the domain, or what tells it from accounts on the same domain). */
      label: v.optional(v.nullable(label)),
      color: v.optional(color),
    }),
  ),
  /**
   * Removes the account: it goes offline, its password and pins are forgotten. With
   * `keepHistory` its conversations stay readable (the account remains, removed: it never connects
   * again and is listed only through its conversations); without, they are deleted too.
   */
  'account.remove': command<null>()(v.object({ accountId: v.id, keepHistory: v.optional(v.boolean) })),
  /** The person's order of accounts: every account id once, first first. */
  'account.reorder': command<AccountView[]>()(v.object({ accountIds: v.array(v.id, { max: 1000 }) })),
  /** Tries to connect now, skipping the back-off wait (after 'offline: …' or an error). */
  'account.retry': command<AccountView>()(v.object({ accountId: v.id })),
  /** Own presence, for one account or (without `accountId`) all; announced at once and kept for the next login. */
  'presence.set': command<null>()(
    v.object({
      accountId: v.optional(v.id),
      show: v.literal('available', 'away', 'dnd'),
      status: statusMessage,
    }),
  ),
  /** Every conversation of every account, most recent activity first. */
  'conversation.list': command<ConversationView[]>()(v.object({})),
  /** Creates the conversation if it does not exist (a chat started with "New chat" stays listed). */
  'conversation.start': command<ConversationView>()(v.object({ accountId: v.id, peer: v.contactJid })),
  /** The person has seen the conversation: its unread count becomes 0. */
  'conversation.markRead': command<null>()(v.object({ accountId: v.id, peer: v.contactJid })),
  /** Keeps what the person typed and did not send ('' clears it). */
  'conversation.setDraft': command<null>()(
    v.object({ accountId: v.id, peer: v.contactJid, draft: v.string({ max: 100_000 }) }),
  ),
  /** Searches peer addresses, roster names and message text (SQLite FTS5) across accounts. */
  'search.run': command<SearchResult>()(
    v.object({ query: v.string({ min: 1, max: 200 }), limit: v.optional(v.integer({ min: 1, max: 200 })) }),
  ),
  /** Adds (or updates) a roster item and asks to see the contact's presence (RFC 6121 §2.3, §3.1). */
  'contact.add': command<null>()(v.object({ accountId: v.id, jid: v.contactJid, name: v.optional(v.nullable(label)) })),
  'contact.rename': command<null>()(v.object({ accountId: v.id, jid: v.contactJid, name: v.nullable(label) })),
  /** Removes the roster item (RFC 6121 §2.5: this also cancels both subscriptions). */
  'contact.remove': command<null>()(v.object({ accountId: v.id, jid: v.contactJid })),
  /** XEP-0191: blocks (or unblocks) a JID for the account; needs `AccountView.canBlock`. */
  'contact.block': command<null>()(v.object({ accountId: v.id, jid: v.contactJid, blocked: v.boolean })),
  /** The account's block list (XEP-0191), as last received from the server. */
  'block.list': command<string[]>()(v.object({ accountId: v.id })),
  /** Requests to see an account's presence that wait for an answer, every account. */
  'subscription.pending': command<SubscriptionRequestView[]>()(v.object({})),
  /** approve: they may see our presence (and we ask for theirs); refuse: they may not (RFC 6121 §3.2). */
  'subscription.answer': command<null>()(v.object({ accountId: v.id, jid: v.contactJid, approve: v.boolean })),
  /** Enabled accounts stay connected (reconnecting as needed); disabled ones go offline. */
  'account.setEnabled': command<AccountView>()(v.object({ accountId: v.id, enabled: v.boolean })),
  'roster.list': command<RosterItemView[]>()(v.object({ accountId: v.id })),
  'chat.list': command<ConversationView[]>()(v.object({ accountId: v.id })),
  'chat.history': command<MessageView[]>()(
    v.object({
      accountId: v.id,
      peer: v.contactJid,
      /** Only messages older than this local id. */
      before: v.optional(v.id),
      /** Only messages newer than this local id (the page that starts just after it), oldest first. */
      after: v.optional(v.id),
      /** The conversation's oldest page instead of its newest (without `before` and `after`). */
      oldest: v.optional(v.boolean),
      limit: v.optional(v.integer({ min: 1, max: 500 })),
    }),
  ),
  'chat.send': command<MessageView>()(
    v.object({ accountId: v.id, to: v.contactJid, body: v.string({ min: 1, max: 100_000 }) }),
  ),
  /**
   * Sends a message the server refused ('failed') again: it goes back to 'queued' under the same
   * stanza id (the server stored nothing under it) and the account's outbox is flushed.
   */
  'message.retry': command<MessageView>()(v.object({ messageId: v.id })),
  /**
   * XEP-0352: whether the person can see Quiver ('active') or it is hidden or minimised
   * ('inactive'); servers then hold back presence and other low-priority traffic. All accounts.
   */
  'client.setState': command<null>()(v.object({ state: v.literal('active', 'inactive') })),
  /**
   * XEP-0085: the person is typing to `peer` ('composing'), stopped ('paused'), or left the chat
   * ('inactive'). Sent only while the account is online and only to a contact that has shown it
   * understands chat states (§5.1); never queued.
   */
  'chat.setState': command<null>()(
    v.object({ accountId: v.id, peer: v.contactJid, state: v.literal('active', 'composing', 'paused', 'inactive') }),
  ),
  'connection.list': command<SecurityRecord[]>()(
    v.object({ accountId: v.id, limit: v.optional(v.integer({ min: 1, max: 200 })) }),
  ),
  /** Certificates waiting for a decision (also pushed as `certificate.decisionNeeded`). */
  'certificate.pending': command<CertificateDecisionView[]>()(v.object({})),
  /** refuse: the account stays offline; accept-once: this connection only; pin: trust this key for the account and domain. */
  'certificate.decide': command<null>()(
    v.object({ decisionId: v.id, choice: v.literal('refuse', 'accept-once', 'pin') }),
  ),
  'pin.list': command<PinView[]>()(v.object({ accountId: v.id })),
  'pin.remove': command<null>()(
    v.object({
      accountId: v.id,
      domain: v.string({ min: 1, max: 253 }),
      spkiSha256: v.string({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ }),
    }),
  ),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type ArgsOf<K extends CommandName> = v.Infer<Commands[K]['args']>;
export type ResultOf<K extends CommandName> = Commands[K]['result'];

export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/** What the host implements: one handler per command, checked at compile time. */
export type Handlers = { [K in CommandName]: (args: ArgsOf<K>) => Promise<ResultOf<K>> | ResultOf<K> };

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commands, name);
}

/**
 * Validates and runs one command. Every transport's host side (Electron IPC, WebSocket, tests)
 * goes through here, so validation cannot be forgotten on one of them. Handler failures become
 * `{ok: false}`: an error with a string `code` property keeps its code and message, anything
 * else becomes `internal` with a generic message (details stay in the host's log).
 */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  args: unknown,
  log: (error: unknown) => void = () => undefined,
): Promise<Result<unknown>> {
  if (!isCommandName(name))
    return { ok: false, error: { code: 'unknown-command', message: `Unknown command ${String(name)}` } };
  const checked = commands[name].args(args, '');
  if (!checked.ok) return { ok: false, error: { code: 'invalid-argument', message: checked.error } };
  try {
    const handler = handlers[name] as (a: unknown) => unknown;
    return { ok: true, value: (await handler(checked.value)) ?? null };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && error instanceof Error) {
      return { ok: false, error: { code, message: error.message } };
    }
    log(error);
    return {
      ok: false,
      error: { code: 'internal', message: 'Something went wrong inside Quiver; the log has details.' },
    };
  }
}
