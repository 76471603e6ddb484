/**
 * The one place the core is assembled: storage, secrets, one AccountSession per enabled account;
 * implements the contract's commands. Electron's main process, the browser host and tests all
 * start Quiver through `createCore`.
 */
import { randomUUID } from 'node:crypto';
import type {
  AccountStatus,
  AccountView,
  CertificateDecisionView,
  EventEnvelope,
  Handlers,
  PresenceView,
  SecurityRecord,
  UserError,
} from './contract/index.ts';
import type { AccountRow, Storage } from './storage/storage.ts';
import { openProfile } from './storage/openProfile.ts';
import type { SecretStore } from './storage/secretStore.ts';
import { AccountSession } from './connect/accountSession.ts';
import { buildConnectDeps } from './connect/connectDeps.ts';
import { CoreError } from './coreError.ts';
import { normalizeBareJid } from './storage/normalizeJid.ts';
import type { DecisionContext } from './connect/connectError.ts';

export interface QuiverCore {
  /** One handler per contract command (checked at compile time); hosts call them through `dispatch`. */
  readonly handlers: Handlers;
  /** Every event for the UI; returns the function that unsubscribes. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
  /** Closes every stream cleanly and the database. */
  close(): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface CoreOptions {
  /** Where quiver.db lives. */
  dataDir: string;
  /** Where passwords live; a function when the store keeps its ciphertext in the core's database (Electron safeStorage). */
  secrets: SecretStore | ((storage: Storage) => SecretStore);
  log?: (level: LogLevel, message: string, detail?: unknown) => void;
  /** Connect enabled accounts at start (default true). */
  autoConnect?: boolean;
}

interface Live {
  session: AccountSession;
  status: AccountStatus;
  boundJid: string | null;
  error: UserError | null;
  presence: Map<string, PresenceView>;
}

export async function createCore(options: CoreOptions): Promise<QuiverCore> {
  const storage: Storage = openProfile(options.dataDir);
  const secrets = typeof options.secrets === 'function' ? options.secrets(storage) : options.secrets;
  const log = options.log ?? (() => undefined);
  const listeners = new Set<(event: EventEnvelope) => void>();
  const live = new Map<string, Live>();
  /** Certificates waiting for the person, at most one per account (the newest). */
  const pending = new Map<string, CertificateDecisionView>();
  /**
   * SPKI SHA-256 the person accepted "once", per account: handed to the next connection attempt
   * and then forgotten, so any later connection (a reconnect too) asks again. Never stored.
   */
  const acceptedOnce = new Map<string, Set<string>>();
  const takeAcceptedOnce = (accountId: string): ReadonlySet<string> => {
    const keys = acceptedOnce.get(accountId) ?? new Set<string>();
    acceptedOnce.delete(accountId);
    return keys;
  };

  const emit = (event: EventEnvelope) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        log('error', 'an event listener failed', error);
      }
    }
  };

  const view = (row: AccountRow): AccountView => {
    const state = live.get(row.id);
    return {
      id: row.id,
      jid: row.jid,
      enabled: row.enabled,
      status: row.enabled ? (state?.status ?? 'offline') : 'disabled',
      boundJid: state?.boundJid ?? null,
      error: state?.error ?? null,
      settings: row.settings,
    };
  };

  const account = (id: string): AccountRow => {
    const row = storage.getAccount(id);
    if (!row) throw new CoreError('account-not-found', 'That account no longer exists.');
    return row;
  };

  const saveRecord = (record: SecurityRecord) => {
    storage.saveConnection(record);
    emit({ name: 'connection.recorded', payload: { record: structuredClone(record) } });
  };

  const startSession = (row: AccountRow) => {
    const existing = live.get(row.id);
    if (existing) return existing;
    const state: Live = {
      session: null as unknown as AccountSession,
      status: 'offline',
      boundJid: null,
      error: null,
      presence: new Map(),
    };
    const accountId = row.id;
    state.session = new AccountSession(
      {
        accountId,
        jid: row.jid,
        preference: row.settings.transport,
        password: () => secrets.get(accountId, row.jid),
        deps: () =>
          buildConnectDeps(
            storage.getAccount(accountId)?.settings ?? row.settings,
            storage.getGlobalSettings(),
            saveRecord,
            {
              storage,
              accountId,
              acceptOnce: takeAcceptedOnce(accountId),
            },
          ),
      },
      {
        status(status, boundJid, error) {
          state.status = status;
          state.boundJid = boundJid;
          state.error = error;
          const current = storage.getAccount(accountId);
          if (current) emit({ name: 'account.changed', payload: { account: view(current) } });
        },
        roster(items, ver) {
          storage.replaceRoster(
            accountId,
            items.filter((item) => acceptableJid(item.jid, 'roster item')),
            ver,
          );
          emit({ name: 'roster.changed', payload: { accountId, items: rosterView(accountId) } });
        },
        rosterPush(item) {
          if (!acceptableJid(item.jid, 'roster push')) return;
          storage.upsertRosterItem(accountId, item);
          emit({ name: 'roster.changed', payload: { accountId, items: rosterView(accountId) } });
        },
        presence(jid, presence) {
          if (presence) state.presence.set(jid, presence);
          else state.presence.delete(jid);
          emit({ name: 'presence.changed', payload: { accountId, jid, presence } });
        },
        message(from, id, body) {
          if (!acceptableJid(from, 'message sender')) return;
          const { message, inserted } = storage.insertMessage({
            accountId,
            peer: from,
            direction: 'in',
            body,
            stanzaId: id,
            at: Date.now(),
            state: 'received',
          });
          if (inserted) emit({ name: 'message.added', payload: { message } });
        },
        outbox() {
          return storage
            .queuedMessages(accountId)
            .map((m) => ({ localId: m.id, to: m.peer, stanzaId: m.stanzaId, body: m.body }));
        },
        sent(localId) {
          emit({ name: 'message.updated', payload: { message: storage.setMessageState(localId, 'sent') } });
        },
        saveRecord,
        decisionNeeded(context) {
          askPerson(accountId, row.jid, context);
        },
        log: (level, message) => log(level, message),
      },
    );
    live.set(accountId, state);
    state.session.start();
    return state;
  };

  const stopSession = async (accountId: string) => {
    const state = live.get(accountId);
    if (!state) return;
    live.delete(accountId);
    await state.session.stop();
  };

  const askPerson = (accountId: string, jid: string, context: DecisionContext) => {
    const previous = pending.get(accountId);
    if (previous) emit({ name: 'certificate.decisionResolved', payload: { decisionId: previous.id } });
    const leaf = context.certificates[0];
    const pins = storage.listPins(accountId, context.domain);
    const decision: CertificateDecisionView = {
      id: randomUUID(),
      accountId,
      jid,
      domain: context.domain,
      transport: context.candidate.transport,
      host: context.candidate.host,
      port: context.candidate.port,
      kind: context.verdict.decision ?? 'unproven',
      certificates: context.certificates,
      presentedSpkiSha256: leaf?.spkiSha256 ?? '',
      pinnedSpkiSha256: pins.map((p) => p.spkiSha256),
      tried: context.verdict.tried,
      reason: context.verdict.error ?? {
        code: 'untrusted',
        message: `Quiver could not prove that this server is ${context.domain}.`,
      },
      at: Date.now(),
    };
    pending.set(accountId, decision);
    emit({ name: 'certificate.decisionNeeded', payload: { decision } });
  };

  const reconnect = async (accountId: string) => {
    await stopSession(accountId);
    const row = storage.getAccount(accountId);
    if (row?.enabled) startSession(row);
  };

  /** A server may send anything: a JID storage cannot take is dropped with a log line, never a crash. */
  const acceptableJid = (jid: string, what: string): boolean => {
    try {
      normalizeBareJid(jid);
      return true;
    } catch (error) {
      log(
        'warn',
        `ignored a ${what} with an invalid JID ${JSON.stringify(jid.slice(0, 100))}: ${(error as Error).message}`,
      );
      return false;
    }
  };

  const rosterView = (accountId: string) => {
    const presence = live.get(accountId)?.presence;
    return storage.listRoster(accountId).map((item) => ({ ...item, presence: presence?.get(item.jid) ?? null }));
  };

  const handlers: Handlers = {
    'account.list': () => storage.listAccounts().map(view),
    'account.add': async (args) => {
      const row = storage.addAccount({
        jid: args.jid,
        settings: {
          resolver: args.resolver ?? null,
          resolverValidates: args.resolverValidates ?? false,
          extraCaPem: args.extraCaPem ?? null,
          transport: args.transport ?? 'auto',
        },
      });
      try {
        await secrets.set(row.id, row.jid, args.password);
      } catch (error) {
        storage.removeAccount(row.id);
        throw error;
      }
      startSession(row);
      const result = view(account(row.id));
      emit({ name: 'account.changed', payload: { account: result } });
      return result;
    },
    'account.update': async (args) => {
      const row = account(args.accountId);
      const patch: Partial<AccountRow['settings']> = {};
      if (args.resolver !== undefined) patch.resolver = args.resolver;
      if (args.resolverValidates !== undefined) patch.resolverValidates = args.resolverValidates;
      if (args.extraCaPem !== undefined) patch.extraCaPem = args.extraCaPem;
      if (args.transport !== undefined) patch.transport = args.transport;
      const updated = storage.updateAccountSettings(row.id, patch);
      if (args.password !== undefined) await secrets.set(row.id, row.jid, args.password);
      if (updated.enabled) {
        await stopSession(row.id);
        startSession(updated);
      }
      const result = view(account(row.id));
      emit({ name: 'account.changed', payload: { account: result } });
      return result;
    },
    'account.remove': async ({ accountId }) => {
      const row = account(accountId);
      await stopSession(accountId);
      await secrets.delete(accountId, row.jid);
      storage.removeAccount(accountId);
      acceptedOnce.delete(accountId);
      const decision = pending.get(accountId);
      if (decision) {
        pending.delete(accountId);
        emit({ name: 'certificate.decisionResolved', payload: { decisionId: decision.id } });
      }
      emit({ name: 'account.removed', payload: { accountId } });
      return null;
    },
    'account.setEnabled': async ({ accountId, enabled }) => {
      account(accountId);
      const row = storage.setAccountEnabled(accountId, enabled);
      if (enabled) startSession(row);
      else await stopSession(accountId);
      const result = view(account(accountId));
      emit({ name: 'account.changed', payload: { account: result } });
      return result;
    },
    'roster.list': ({ accountId }) => {
      account(accountId);
      return rosterView(accountId);
    },
    'chat.list': ({ accountId }) => storage.conversations(accountId),
    'chat.history': ({ accountId, peer, before, limit }) => storage.history(accountId, peer, { before, limit }),
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
      const state = live.get(row.id);
      state?.session.flushOutbox();
      return storage.getMessage(message.id) ?? message;
    },
    'connection.list': ({ accountId, limit }) => storage.listConnections(accountId, limit),
    'certificate.pending': () => [...pending.values()],
    'certificate.decide': async ({ decisionId, choice }) => {
      const decision = [...pending.values()].find((d) => d.id === decisionId);
      if (!decision)
        throw new CoreError(
          'decision-not-found',
          'That certificate decision is no longer pending: the account was removed or asked again.',
        );
      pending.delete(decision.accountId);
      emit({ name: 'certificate.decisionResolved', payload: { decisionId } });
      if (choice === 'refuse') {
        const state = live.get(decision.accountId);
        if (state) {
          state.status = 'error';
          state.error = {
            code: 'refused-by-user',
            message: `You refused the certificate ${decision.domain} presented; the account stays offline. Enable it again to retry.`,
          };
        }
        const row = storage.setAccountEnabled(decision.accountId, false);
        emit({ name: 'account.changed', payload: { account: view(row) } });
        await stopSession(decision.accountId);
        return null;
      }
      if (choice === 'pin') {
        // "Replace the pin" for a changed key: the new key is the only one trusted for this domain.
        for (const pin of storage.listPins(decision.accountId, decision.domain)) {
          storage.removePin(decision.accountId, pin.domain, pin.spkiSha256);
        }
        storage.addPin(
          decision.accountId,
          decision.domain,
          decision.presentedSpkiSha256,
          decision.certificates[0] ?? null,
        );
        emit({
          name: 'pin.changed',
          payload: { accountId: decision.accountId, pins: storage.listPins(decision.accountId) },
        });
      } else {
        const accepted = acceptedOnce.get(decision.accountId) ?? new Set<string>();
        accepted.add(decision.presentedSpkiSha256);
        acceptedOnce.set(decision.accountId, accepted);
      }
      await reconnect(decision.accountId);
      return null;
    },
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
    for (const row of storage.listAccounts()) if (row.enabled) startSession(row);
  }

  return {
    handlers,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await Promise.all([...live.keys()].map((id) => stopSession(id)));
      storage.close();
    },
  };
}
