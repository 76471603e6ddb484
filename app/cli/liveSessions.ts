/**
 * The long `quiver connect` run stays online with the app's own code: `LiveAccounts` (one
 * AccountSession per account: reconnects, the outbox, acks, archive catch-up, dedupe) over one
 * QUIC session pool and the per-network transport memory, as `createCore` builds them, all kept
 * in the run's --db. What the CLI cannot do is ask the person: a certificate that needs a decision
 * stops the account (the run then fails with the reason, `longRunProgress.ts`).
 */
import type { EventEnvelope } from '../contract/index.ts';
import type { AccountRow, Storage } from '../storage/storage.ts';
import type { SecretStore } from '../storage/secretStore.ts';
import { LiveAccounts, type LiveAccountsDeps } from '../core/liveAccounts.ts';
import { QuicSessions } from '../connect/quicSessions.ts';
import { profileTicketStore } from '../connect/quicTicketStore.ts';
import { readSystemSnapshot } from '../connect/networkMonitor.ts';
import { networkKey, profileSalt, TransportMemory } from '../connect/transportMemory.ts';

/** What the long run uses of LiveAccounts; tests pass a scripted one. */
export interface LiveSessions {
  /** Starts the account's session; it sends the outbox each time it comes online. */
  start(row: AccountRow): void;
  /** Stops every session; resolves when all streams are closed. */
  stopAll(): Promise<void>;
}

export interface SessionDeps {
  storage: Storage;
  secrets: SecretStore;
  emit(event: EventEnvelope): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Builds the sessions; `close` releases what they share (the QUIC pool) after `stopAll`. */
export type OpenSessions = (deps: SessionDeps) => Promise<{ sessions: LiveSessions; close(): Promise<void> }>;

export const openLiveSessions: OpenSessions = async ({ storage, secrets, emit, log }) => {
  // Session tickets and the memory of where QUIC failed live in the run's database.
  const quic = new QuicSessions({ tickets: profileTicketStore(storage) });
  const memory = new TransportMemory(storage, {
    onStoreError: (error) => log('warn', `transport memory: ${(error as Error).message}`),
  });
  const network = networkKey(await readSystemSnapshot(), profileSalt(storage));
  const sessions = new LiveAccounts({
    storage,
    secrets,
    emit,
    log,
    takeAcceptedOnce: () => new Set(),
    // The session reports 'needs-decision' in its status, which ends the run.
    decisionNeeded: () => undefined,
    // What arrived before the account was first used with this database is not this run's.
    firstCatchUpStart: (account) => account.createdAt,
    // FAST tokens live for this run only: a rerun signs in with the password it is given.
    fastTokens: memoryFastTokens(),
    quic,
    transportMemory: {
      advice: (domain) => memory.advice(network, domain, Date.now()),
      record: (domain, outcome) => memory.record(network, domain, outcome, Date.now()),
    },
  });
  return { sessions, close: () => quic.close() };
};

/** XEP-0484 tokens kept in this process only (`LiveAccountsDeps.fastTokens`); expired ones are dropped. */
function memoryFastTokens(): NonNullable<LiveAccountsDeps['fastTokens']> {
  const tokens = new Map<string, { mechanism: string; token: string; expiry: number }>();
  return {
    load: (accountId) => {
      const token = tokens.get(accountId) ?? null;
      return token && token.expiry > Date.now() ? token : null;
    },
    save: (accountId, token) => {
      if (token === null) tokens.delete(accountId);
      else tokens.set(accountId, token);
    },
  };
}
