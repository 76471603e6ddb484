/**
 * Failures of the storage layer. `code` is stable (the UI and the contract's `dispatch` pass it on);
 * `message` is worded for a person.
 */
import { QuiverError } from '../contract/quiverError.ts';
export type StorageErrorCode =
  | 'account-exists'
  | 'account-not-found'
  | 'message-not-found'
  | 'connection-not-found'
  | 'connection-corrupt'
  | 'invalid-jid'
  | 'storage-too-new'
  | 'storage-corrupt'
  | 'message-not-retryable'
  | 'invalid-order';

export class StorageError extends QuiverError<StorageErrorCode> {}
