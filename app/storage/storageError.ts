/**
 * Failures of the storage layer. `code` is stable (the UI and the contract's `dispatch` pass it on);
 * `message` is worded for a person.
 */
export type StorageErrorCode =
  | 'account-exists'
  | 'account-not-found'
  | 'message-not-found'
  | 'connection-not-found'
  | 'invalid-jid'
  | 'storage-too-new';

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}
