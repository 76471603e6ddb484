/**
 * The contract's contact commands (issue 13, "Contacts per account: presence, add, rename, remove,
 * accept or refuse subscription requests, block"): own presence, roster changes, subscription
 * answers and the XEP-0191 block list, as thin handlers over storage and each account's running
 * session (`SessionContacts`). A command that needs the server on an account that is not online
 * is refused with words ('account-offline'), never queued: the person sees at once that it did
 * not happen.
 */
import type { EventEnvelope, Handlers } from '../contract/index.ts';
import { ContactRequestError, type SessionContacts } from '../connect/sessionContacts.ts';
import { CoreError } from '../coreError.ts';
import type { AccountRow, Storage } from '../storage/storage.ts';
import { normalizeBareJid } from '../storage/normalizeJid.ts';
import { MAX_PENDING_REQUESTS } from '../storage/subscriptionRequests.ts';

export type ContactCommandName =
  | 'presence.set'
  | 'contact.add'
  | 'contact.rename'
  | 'contact.remove'
  | 'contact.block'
  | 'block.list'
  | 'subscription.pending'
  | 'subscription.answer';

export interface ContactsDeps {
  storage: Pick<
    Storage,
    | 'listAccounts'
    | 'listRoster'
    | 'ownPresence'
    | 'setOwnPresence'
    | 'listBlocked'
    | 'listSubscriptionRequests'
    | 'removeSubscriptionRequest'
  >;
  emit(event: EventEnvelope): void;
  /** The account's row; throws CoreError 'account-not-found' for an unknown or removed one. */
  account(accountId: string): AccountRow;
  /** The account's running session's contacts part; null when none runs. */
  session(accountId: string): SessionContacts | null;
  /** The account as the UI sees it changed (its presence): send account.changed. */
  accountChanged(accountId: string): void;
}

/** The handlers of the contact commands. */
export function contactHandlers(deps: ContactsDeps): Pick<Handlers, ContactCommandName> {
  const { storage, emit } = deps;

  /** The running session of an account that is online, or CoreError 'account-offline'. */
  const online = (accountId: string): SessionContacts => {
    const row = deps.account(accountId);
    const session = deps.session(accountId);
    if (!session?.online) throw offline(row.jid);
    return session;
  };

  /** Runs a request to the server, turning its failure into a CoreError worded for the person. */
  const ask = async <T>(row: AccountRow, what: string, run: () => Promise<T> | T): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ContactRequestError) {
        if (error.code === 'account-offline') throw offline(row.jid);
        throw new CoreError(
          error.code === 'refused' ? (error.condition ?? 'refused') : error.code,
          `Could not ${what}: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  };

  const rosterItem = (accountId: string, jid: string) =>
    storage.listRoster(accountId).find((item) => item.jid === normalizeBareJid(jid)) ?? null;

  return {
    'presence.set': ({ accountId, show, status }) => {
      const rows =
        accountId === undefined
          ? storage.listAccounts().filter((row) => row.removedAt === null)
          : [deps.account(accountId)];
      const choice = { show, status: status === null || status === undefined || status.trim() === '' ? null : status };
      for (const row of rows) {
        storage.setOwnPresence(row.id, choice);
        // Sent now when online; every later login announces it (SessionContacts.initialPresence).
        deps.session(row.id)?.announce(choice);
        deps.accountChanged(row.id);
      }
      return null;
    },

    'contact.add': async ({ accountId, jid, name }) => {
      const row = deps.account(accountId);
      const session = online(accountId);
      const bare = normalizeBareJid(jid);
      const existing = rosterItem(accountId, bare);
      await ask(row, `add ${bare}`, async () => {
        // RFC 6121 §2.3 roster set, then §3.1.1: "a user's client generates a subscription request
        // by sending a presence stanza of type "subscribe"".
        await session.setRosterItem({
          jid: bare,
          ...(name ? { name } : existing?.name ? { name: existing.name } : {}),
          groups: existing?.groups ?? [],
        });
        if (existing?.subscription !== 'to' && existing?.subscription !== 'both')
          session.sendSubscription('subscribe', bare);
      });
      return null;
    },

    'contact.rename': async ({ accountId, jid, name }) => {
      const row = deps.account(accountId);
      const session = online(accountId);
      const bare = normalizeBareJid(jid);
      const existing = rosterItem(accountId, bare);
      if (!existing)
        throw new CoreError('contact-not-found', `${bare} is not among ${row.jid}'s contacts; add it first.`);
      // RFC 6121 §2.4.1: the update carries the whole item: the groups stay.
      await ask(row, `rename ${bare}`, () =>
        session.setRosterItem({ jid: bare, ...(name ? { name } : {}), groups: existing.groups }),
      );
      return null;
    },

    'contact.remove': async ({ accountId, jid }) => {
      const row = deps.account(accountId);
      const session = online(accountId);
      const bare = normalizeBareJid(jid);
      // RFC 6121 §2.5.1: subscription='remove'; the server cancels both subscriptions (§2.5.2).
      await ask(row, `remove ${bare}`, () => session.setRosterItem({ jid: bare, remove: true }));
      return null;
    },

    'contact.block': async ({ accountId, jid, blocked }) => {
      const row = deps.account(accountId);
      const session = online(accountId);
      if (!session.canBlock)
        throw new CoreError(
          'blocking-unsupported',
          `${row.jid}'s server does not offer blocking (XEP-0191); you can remove the contact instead.`,
        );
      const bare = normalizeBareJid(jid);
      // XEP-0191 §3.3: the server pushes the change to every resource, this one too: the stored
      // list and block.changed follow from that push.
      await ask(row, `${blocked ? 'block' : 'unblock'} ${bare}`, () => session.block([bare], blocked));
      return null;
    },

    'block.list': ({ accountId }) => {
      deps.account(accountId);
      return storage.listBlocked(accountId);
    },

    'subscription.pending': () => {
      const live = new Set(
        storage
          .listAccounts()
          .filter((row) => row.removedAt === null)
          .map((row) => row.id),
      );
      return storage.listSubscriptionRequests().filter((request) => live.has(request.accountId));
    },

    'subscription.answer': async ({ accountId, jid, approve }) => {
      const row = deps.account(accountId);
      const session = online(accountId);
      const bare = normalizeBareJid(jid);
      await ask(row, `answer ${bare}`, async () => {
        if (!approve) {
          // RFC 6121 §3.2.1: refusing is a presence of type "unsubscribed".
          session.sendSubscription('unsubscribed', bare);
          return;
        }
        // RFC 6121 §3.1.4: approving is a presence of type "subscribed"; and, as Conversations
        // does, we ask for theirs when we do not see it yet (a mutual subscription).
        session.sendSubscription('subscribed', bare);
        const existing = rosterItem(accountId, bare);
        if (existing?.subscription === 'to' || existing?.subscription === 'both' || existing?.ask) return;
        if (!existing) await session.setRosterItem({ jid: bare, groups: [] });
        session.sendSubscription('subscribe', bare);
      });
      if (storage.removeSubscriptionRequest(accountId, bare))
        emit({ name: 'subscription.resolved', payload: { accountId, jid: bare } });
      return null;
    },
  };
}

function offline(jid: string): CoreError {
  return new CoreError('account-offline', `${jid} is offline; connect it first.`);
}

/** What the session's contact callbacks need (LiveAccounts wires them per account). */
export interface ContactEventsDeps {
  storage: Pick<
    Storage,
    | 'listRoster'
    | 'addSubscriptionRequest'
    | 'subscriptionRequestsFull'
    | 'removeSubscriptionRequest'
    | 'listBlocked'
    | 'replaceBlockList'
    | 'applyBlockPush'
  >;
  emit(event: EventEnvelope): void;
  /** The block list changed for these JIDs: their conversations' `blocked` follows (core/conversations.ts). */
  blockedChanged?(accountId: string, jids: readonly string[]): void;
  now(): number;
  /**
   * Where the one line about requests dropped for the cap goes (once per these callbacks, that is
   * per session); the caller names the account.
   */
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * The session callbacks about contacts for one account (`ContactsCallbacks` of
 * app/connect/sessionContacts.ts): requests stored once and announced, withdrawals, block lists.
 */
export function contactEvents(deps: ContactEventsDeps, accountId: string) {
  const { storage, emit } = deps;
  const blockChanged = (jids: readonly string[]) => {
    emit({ name: 'block.changed', payload: { accountId, jids: storage.listBlocked(accountId) } });
    deps.blockedChanged?.(accountId, jids);
  };
  let capLogged = false;
  return {
    subscriptionRequested(jid: string, message: string | null): 'approve' | 'ask' {
      const bare = normalizeBareJid(jid);
      // RFC 6121 §3.1.3: approved before (subscription 'from' or 'both'): not asked again.
      const item = storage.listRoster(accountId).find((i) => i.jid === bare);
      if (item?.subscription === 'from' || item?.subscription === 'both') return 'approve';
      // §3.1.3: the server redelivers pending requests at every login: one row, one event.
      const request = storage.addSubscriptionRequest(accountId, bare, message, deps.now());
      if (request) emit({ name: 'subscription.requested', payload: { request } });
      else if (!capLogged && storage.subscriptionRequestsFull(accountId, bare)) {
        // One line per account and session, not one per request: a flood must not flood the log.
        capLogged = true;
        deps.log?.(
          'warn',
          `${MAX_PENDING_REQUESTS} contact requests are waiting: newer ones are dropped until some are ` +
            'answered (said once per session).',
        );
      }
      return 'ask';
    },
    subscriptionWithdrawn(jid: string): void {
      const bare = normalizeBareJid(jid);
      if (storage.removeSubscriptionRequest(accountId, bare))
        emit({ name: 'subscription.resolved', payload: { accountId, jid: bare } });
    },
    blockList(jids: string[]): void {
      const before = storage.listBlocked(accountId);
      storage.replaceBlockList(accountId, jids);
      blockChanged([...before, ...jids]);
    },
    blockPushed(block: boolean, jids: string[], all: boolean): void {
      const before = all ? storage.listBlocked(accountId) : [];
      storage.applyBlockPush(accountId, block, all ? [] : jids);
      blockChanged(all ? before : jids);
    },
  };
}
