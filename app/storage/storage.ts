/**
 * The storage API: one method table over SQLite. Every method takes the database first; `Storage`
 * is the same table with the database bound. Because callers see only `Storage`, moving SQLite to
 * a worker means changing this file (and `openDatabase.ts`): the types of the methods stay.
 *
 * Methods are synchronous (better-sqlite3) and throw `StorageError` with a stable `code` for
 * failures a person can act on (account-exists, account-not-found, …).
 */
import type { Database } from 'better-sqlite3';
import { accountMethods } from './accounts.ts';
import { archivePositionMethods } from './archivePositions.ts';
import { connectionMethods } from './connections.ts';
import { conversationMethods } from './conversations.ts';
import { fastTokenMethods } from './fastTokens.ts';
import { messageMethods } from './messages.ts';
import { openDatabase } from './openDatabase.ts';
import { outboxMethods } from './outbox.ts';
import { pinMethods } from './pins.ts';
import { poshCacheMethods } from './poshCache.ts';
import { quicTicketMethods } from './quicTickets.ts';
import { rosterMethods } from './roster.ts';
import { searchMethods } from './search.ts';
import { sendJobMethods } from './sendJobs.ts';
import { settingMethods } from './settings.ts';
import { smStateMethods } from './smStates.ts';
import { transportMemoryMethods } from './transportMemory.ts';
import { subscriptionRequestMethods } from './subscriptionRequests.ts';
import { blockListMethods } from './blockList.ts';
import { ownPresenceMethods } from './ownPresence.ts';

const methods = {
  ...accountMethods,
  ...rosterMethods,
  ...messageMethods,
  ...conversationMethods,
  ...searchMethods,
  ...connectionMethods,
  ...settingMethods,
  ...pinMethods,
  ...poshCacheMethods,
  ...transportMemoryMethods,
  ...quicTicketMethods,
  ...sendJobMethods,
  ...outboxMethods,
  ...archivePositionMethods,
  ...smStateMethods,
  ...fastTokenMethods,
  ...subscriptionRequestMethods,
  ...blockListMethods,
  ...ownPresenceMethods,
};

type Methods = typeof methods;
type DropFirst<T extends unknown[]> = T extends [unknown, ...infer Rest] ? Rest : never;

export type Storage = {
  [K in keyof Methods]: (...args: DropFirst<Parameters<Methods[K]>>) => ReturnType<Methods[K]>;
} & {
  /** Closes the database; the object must not be used afterwards. */
  close(): void;
};

/** Opens (creating and migrating if needed) the database at `path`, or a private in-memory one. */
export function openStorage(path: string | ':memory:'): Storage {
  return bindStorage(openDatabase(path));
}

/** Wraps an already open, migrated database (tests use this to look underneath). */
export function bindStorage(db: Database): Storage {
  const bound: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods)) {
    bound[name] = (...args: unknown[]) => (method as (db: Database, ...rest: unknown[]) => unknown)(db, ...args);
  }
  bound.close = () => db.close();
  return bound as Storage;
}

export type { AccountRow, NewAccount } from './accounts.ts';
export type { RosterItemInput } from './roster.ts';
export type { NewMessage, HistoryOptions, InsertResult, ReusedId } from './messages.ts';
export type { PendingMessage } from './outbox.ts';
export type { ArchivePosition } from './archivePositions.ts';
export type { SmState } from './smStates.ts';
export type { FastToken } from './fastTokens.ts';
export type { ConnectionPatch } from './connections.ts';
export type { GlobalSettings, JsonValue } from './settings.ts';
export type { TransportOutcome, TransportOutcomeEntry } from './transportMemory.ts';
export type { NewSendJob, SendJobResult, SendJobMessage } from './sendJobs.ts';
export { StorageError } from './storageError.ts';
export type { StorageErrorCode } from './storageError.ts';
