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
  RosterItemView,
  SecurityRecord,
} from './viewModels.ts';

/** Declares a command: its argument validator and (as a type only) its result. */
function command<R>() {
  return <A>(args: v.Check<A>) => ({ args, result: undefined as unknown as R });
}

const transportPreference = v.literal('auto', 'starttls', 'tls', 'quic');
const pem = v.string({ max: 200_000 });

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
    }),
  ),
  'account.remove': command<null>()(v.object({ accountId: v.id })),
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
