/**
 * The one place the core is assembled: the profile (storage), secrets, the live accounts (one
 * AccountSession per enabled account) and the certificate decisions; implements the contract's
 * commands as thin handlers over them. Electron's main process, the browser host and tests all
 * start Quiver through `createCore`.
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope, Handlers } from './contract/index.ts';
import type { AccountRow, Storage } from './storage/storage.ts';
import { openProfile } from './storage/openProfile.ts';
import type { SecretStore } from './storage/secretStore.ts';
import { CoreError } from './coreError.ts';
import { addAccountWithSecret } from './core/addAccount.ts';
import { contactHandlers } from './core/contacts.ts';
import { ConversationNotifier } from './core/conversations.ts';
import { announceLabelChanges, labelSnapshot } from './core/labelChanges.ts';
import { LiveAccounts } from './core/liveAccounts.ts';
import { TrustDecisions } from './core/trustDecisions.ts';
import { lineSink } from './logLine.ts';
import { QuicSessions } from './connect/quicSessions.ts';
import { profileTicketStore } from './connect/quicTicketStore.ts';
import { NetworkMonitor } from './connect/networkMonitor.ts';
import { profileSalt, TransportMemory } from './connect/transportMemory.ts';
import { Roaming } from './core/roaming.ts';

export interface QuiverCore {
  /** One handler per contract command (checked at compile time); hosts call them through `dispatch`. */
  readonly handlers: Handlers;
  /** Every event for the UI; returns the function that unsubscribes. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
  /**
   * The Electron shell's powerMonitor 'resume' and the renderer's 'online': every session checks
   * its path (NAT bindings are likely gone after sleep even when no address changed).
   */
  networkResumed(cause: 'resume' | 'online'): void;
  /** Closes every stream cleanly and the database. */
  close(): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface CoreOptions {
  /** Where quiver.db lives. */
  dataDir: string;
  /** Where passwords live; a function when the store keeps its ciphertext in the core's database (Electron safeStorage). */
  secrets: SecretStore | ((storage: Storage) => SecretStore);
  /** Receives finished lines: control characters escaped, any detail folded in (`app/logLine.ts`). */
  log?: (level: LogLevel, message: string, detail?: unknown) => void;
  /** Connect enabled accounts at start (default true). */
  autoConnect?: boolean;
  /** Watch the network for changes and roam (default true; tests turn it off). */
  watchNetwork?: boolean;
}

export async function createCore(options: CoreOptions): Promise<QuiverCore> {
  const storage: Storage = openProfile(options.dataDir);
  const secrets = typeof options.secrets === 'function' ? options.secrets(storage) : options.secrets;
  // Log lines quote the network (stream errors, JIDs): every one is escaped here, at the one sink.
  const log = options.log ? lineSink(options.log) : () => undefined;
  const listeners = new Set<(event: EventEnvelope) => void>();

  const emit = (event: EventEnvelope) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        log('error', 'an event listener failed', error);
      }
    }
  };

  const conversations = new ConversationNotifier({ storage, emit });

  // Each needs the other: a session asks the person through `trust`; a decision reconnects or
  // disables the account through `live`. The arrows run only after both exist.
  const trust: TrustDecisions = new TrustDecisions({
    pins: storage,
    emit,
    now: Date.now,
    newId: randomUUID,
    reconnect: (accountId) => live.reconnect(accountId),
    disable: (accountId, error) => live.disable(accountId, error),
  });
  // One QUIC session pool for every account (XEP-0467: one QUIC connection, one stream per account).
  const quic = new QuicSessions({ tickets: profileTicketStore(storage) });
  const roaming: Roaming = new Roaming({
    pool: quic,
    memory: new TransportMemory(storage, {
      onStoreError: (error) => log('warn', `transport memory: ${(error as Error).message}`),
    }),
    accounts: () => live.sessions(),
    addPathEvent: (recordId, event) => live.addPathEvent(recordId, event),
    log,
    monitor:
      (options.watchNetwork ?? true)
        ? (onChange) => new NetworkMonitor({ onChange, log: (level, message) => log(level, message) })
        : null,
    now: Date.now,
    salt: profileSalt(storage),
  });
  await roaming.start();
  const live: LiveAccounts = new LiveAccounts({
    storage,
    secrets,
    emit,
    log,
    takeAcceptedOnce: (accountId) => trust.takeAcceptedOnce(accountId),
    decisionNeeded: (accountId, jid, context) => trust.ask(accountId, jid, context),
    quic,
    transportMemory: roaming.advisor,
    conversations,
  });

  const account = (id: string): AccountRow => {
    const row = storage.getAccount(id);
    // A removed account kept for its history is gone for every account command.
    if (!row || row.removedAt !== null) throw new CoreError('account-not-found', 'That account no longer exists.');
    return row;
  };

  // Default labels tell accounts apart, so adding or removing one may change others' (labelChanges.ts).
  const labelDeps = {
    storage,
    view: (row: AccountRow) => live.view(row),
    emit,
    touched: (accountId: string, peer: string) => conversations.touched(accountId, peer),
  };

  const handlers: Handlers = {
    'account.list': () => storage.listAccounts().map((row) => live.view(row)),
    'account.add': async (args) => {
      const labelsBefore = labelSnapshot(storage);
      const row = await addAccountWithSecret(
        storage,
        secrets,
        randomUUID(),
        args.jid,
        args.password,
        {
          resolver: args.resolver ?? null,
          resolverValidates: args.resolverValidates ?? false,
          extraCaPem: args.extraCaPem ?? null,
          transport: args.transport ?? 'auto',
        },
        { label: args.label, color: args.color },
      );
      live.start(row);
      const result = live.view(account(row.id));
      emit({ name: 'account.changed', payload: { account: result } });
      announceLabelChanges(labelsBefore, labelDeps);
      return result;
    },
    'account.update': async (args) => {
      const row = account(args.accountId);
      const patch: Partial<AccountRow['settings']> = {};
      if (args.resolver !== undefined) patch.resolver = args.resolver;
      if (args.resolverValidates !== undefined) patch.resolverValidates = args.resolverValidates;
      if (args.extraCaPem !== undefined) patch.extraCaPem = args.extraCaPem;
      if (args.transport !== undefined) patch.transport = args.transport;
      let updated = storage.updateAccountSettings(row.id, patch);
      if (args.label !== undefined || args.color !== undefined)
        updated = storage.updateAccountLook(row.id, { label: args.label, color: args.color });
      const onlyLook =
        args.password === undefined &&
        Object.keys(patch).length === 0 &&
        (args.label !== undefined || args.color !== undefined);
      if (args.password !== undefined) {
        await secrets.set(row.id, row.jid, args.password);
        // XEP-0484: a FAST token logs in like the old password; it must not outlive it.
        storage.clearFastToken(row.id);
      }
      // A new label or colour alone does not reconnect.
      if (updated.enabled && !onlyLook) {
        await live.stop(row.id);
        live.start(updated);
      }
      const result = live.view(account(row.id));
      emit({ name: 'account.changed', payload: { account: result } });
      return result;
    },
    'account.remove': async ({ accountId, keepHistory }) => {
      const row = account(accountId);
      await live.stop(accountId);
      await secrets.delete(accountId, row.jid);
      const peers = keepHistory ? [] : storage.conversationPeers(accountId);
      const labelsBefore = labelSnapshot(storage);
      storage.removeAccount(accountId, keepHistory ?? false, Date.now());
      trust.forget(accountId);
      emit({ name: 'account.removed', payload: { accountId } });
      if (keepHistory) {
        // Its conversations stay listed, now with the removed account's cue.
        for (const peer of storage.conversationPeers(accountId)) conversations.touched(accountId, peer);
      } else {
        conversations.forget(accountId);
        for (const peer of peers) emit({ name: 'conversation.removed', payload: { accountId, peer } });
      }
      announceLabelChanges(labelsBefore, labelDeps);
      return null;
    },
    'account.reorder': ({ accountIds }) => {
      let rows: AccountRow[];
      try {
        rows = storage.reorderAccounts(accountIds);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'invalid-order')
          throw new CoreError('invalid-order', (error as Error).message);
        throw error;
      }
      const views = rows.map((row) => live.view(row));
      for (const view of views) emit({ name: 'account.changed', payload: { account: view } });
      return views;
    },
    'account.setEnabled': async ({ accountId, enabled }) => {
      account(accountId);
      const row = storage.setAccountEnabled(accountId, enabled);
      if (enabled) live.start(row);
      else await live.stop(accountId);
      const result = live.view(account(accountId));
      emit({ name: 'account.changed', payload: { account: result } });
      return result;
    },
    'roster.list': ({ accountId }) => {
      account(accountId);
      return live.rosterView(accountId);
    },
    'chat.list': ({ accountId }) => {
      account(accountId);
      return storage.conversations(accountId);
    },
    'chat.history': ({ accountId, peer, before, after, oldest, limit }) =>
      storage.history(accountId, peer, { before, after, oldest, limit }),
    'chat.send': ({ accountId, to, body }) => {
      const row = account(accountId);
      const { message } = storage.insertMessage({
        accountId,
        peer: to,
        direction: 'out',
        body,
        stanzaId: randomUUID(),
        at: Date.now(),
        state: 'queued',
      });
      emit({ name: 'message.added', payload: { message } });
      conversations.touched(accountId, message.peer);
      live.flushOutbox(row.id);
      return storage.getMessage(message.id) ?? message;
    },
    'message.retry': ({ messageId }) => {
      const message = storage.retryMessage(messageId);
      emit({ name: 'message.updated', payload: { message } });
      live.flushOutbox(message.accountId);
      return storage.getMessage(message.id) ?? message;
    },
    'client.setState': ({ state }) => {
      live.setClientState(state);
      return null;
    },
    'chat.setState': ({ accountId, peer, state }) => {
      live.sendChatState(accountId, peer, state);
      return null;
    },
    'connection.list': ({ accountId, limit }) => storage.listConnections(accountId, limit),
    'certificate.pending': () => trust.pending(),
    'certificate.decide': async ({ decisionId, choice }) => {
      await trust.decide(decisionId, choice);
      return null;
    },
    'account.retry': async ({ accountId }) => {
      const row = account(accountId);
      if (!row.enabled)
        throw new CoreError(
          'account-disabled',
          'That account is disabled, so Quiver does not connect it. Enable it to connect.',
        );
      await live.retry(row);
      return live.view(account(accountId));
    },
    'conversation.list': () => storage.listConversations(),
    'conversation.start': ({ accountId, peer }) => {
      const conversation = storage.startConversation(accountId, peer, Date.now());
      emit({ name: 'conversation.changed', payload: { conversation } });
      return conversation;
    },
    'conversation.markRead': ({ accountId, peer }) => {
      // An account removed with its history keeps its conversations listed: they can still be read.
      if (!storage.getAccount(accountId)) throw new CoreError('account-not-found', 'That account no longer exists.');
      const conversation = storage.markConversationRead(accountId, peer, Date.now());
      if (conversation) emit({ name: 'conversation.changed', payload: { conversation } });
      return null;
    },
    'conversation.setDraft': ({ accountId, peer, draft }) => {
      const conversation = storage.setConversationDraft(accountId, peer, draft, Date.now());
      if (conversation) emit({ name: 'conversation.changed', payload: { conversation } });
      return null;
    },
    'search.run': ({ query, limit }) => storage.search(query, limit),
    ...contactHandlers({
      storage,
      emit,
      account,
      session: (accountId) => live.contacts(accountId),
      accountChanged: (accountId) =>
        emit({ name: 'account.changed', payload: { account: live.view(account(accountId)) } }),
    }),
    'pin.list': ({ accountId }) => {
      account(accountId);
      return storage.listPins(accountId);
    },
    'pin.remove': ({ accountId, domain, spkiSha256 }) => {
      account(accountId);
      storage.removePin(accountId, domain, spkiSha256);
      emit({ name: 'pin.changed', payload: { accountId, pins: storage.listPins(accountId) } });
      return null;
    },
  };

  if (options.autoConnect ?? true) {
    for (const row of storage.listAccounts()) if (row.enabled) live.start(row);
  }

  return {
    handlers,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    networkResumed(cause) {
      roaming.resumed(cause);
    },
    async close() {
      roaming.stop();
      await live.stopAll();
      await quic.close();
      conversations.close();
      storage.close();
    },
  };
}
