/**
 * Account passwords encrypted with Electron's safeStorage (the OS keyring: Keychain, DPAPI,
 * libsecret/KWallet), the ciphertext kept in the database through `PasswordBlobStore`. Plaintext is
 * never stored: without a real keyring every write is refused with a message saying what to do.
 */
import type { SecretStore } from '../app/storage/secretStore.ts';
import { QuiverError } from '../app/contract/quiverError.ts';

/** What the storage provides (app/storage/storage.ts `Storage` has both methods). */
export interface PasswordBlobStore {
  setPasswordBlob(accountId: string, blob: Uint8Array | null): void;
  /** Throws a `{code: 'account-not-found'}` error for an unknown account. */
  getPasswordBlob(accountId: string): Uint8Array | null;
}

/** The part of Electron's `safeStorage` used here (the async API; the sync one is deprecated in 45). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }>;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

export type SafeStorageErrorCode = 'secret-store-unavailable';

export class SafeStorageError extends QuiverError<SafeStorageErrorCode> {}

const isAccountNotFound = (error: unknown) => (error as { code?: unknown } | null)?.code === 'account-not-found';

export class SafeStorageSecretStore implements SecretStore {
  readonly kind = 'safeStorage';
  readonly #safeStorage: SafeStorageLike;
  readonly #blobs: PasswordBlobStore;
  readonly #platform: NodeJS.Platform;

  constructor(safeStorage: SafeStorageLike, blobs: PasswordBlobStore, platform: NodeJS.Platform = process.platform) {
    this.#safeStorage = safeStorage;
    this.#blobs = blobs;
    this.#platform = platform;
  }

  async get(accountId: string, _jid: string): Promise<string | null> {
    let blob: Uint8Array | null;
    try {
      blob = this.#blobs.getPasswordBlob(accountId);
    } catch (error) {
      if (isAccountNotFound(error)) return null;
      throw error;
    }
    if (blob === null) return null;
    await this.#requireEncryption();
    const { result, shouldReEncrypt } = await this.#safeStorage.decryptStringAsync(Buffer.from(blob));
    // The keyring rotated its key or a stronger one became available: store the new ciphertext.
    if (shouldReEncrypt) this.#blobs.setPasswordBlob(accountId, await this.#safeStorage.encryptStringAsync(result));
    return result;
  }

  async set(accountId: string, _jid: string, password: string): Promise<void> {
    await this.#requireEncryption();
    const blob = await this.#safeStorage.encryptStringAsync(password);
    this.#blobs.setPasswordBlob(accountId, new Uint8Array(blob));
  }

  /** The ciphertext core 'account.add' writes with the new row (one transaction: no account without its password). */
  async sealForNewAccount(password: string): Promise<Uint8Array> {
    await this.#requireEncryption();
    return new Uint8Array(await this.#safeStorage.encryptStringAsync(password));
  }

  async delete(accountId: string, _jid: string): Promise<void> {
    try {
      this.#blobs.setPasswordBlob(accountId, null);
    } catch (error) {
      // The account row (and with it the ciphertext) is already gone.
      if (!isAccountNotFound(error)) throw error;
    }
  }

  async #requireEncryption(): Promise<void> {
    if (!(await this.#safeStorage.isAsyncEncryptionAvailable())) {
      throw new SafeStorageError(
        'secret-store-unavailable',
        'Quiver cannot encrypt passwords because no system keyring is available. ' +
          'Unlock or install your keyring (GNOME Keyring, KWallet, macOS Keychain) and try again.',
      );
    }
    // On Linux, `basic_text` means "encrypted" with a key hard-coded in Electron: as good as plaintext.
    if (this.#platform === 'linux' && this.#safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      throw new SafeStorageError(
        'secret-store-unavailable',
        'Quiver found no system keyring (GNOME Keyring or KWallet) in this desktop session and will not store ' +
          'passwords without one. Start a keyring service, or run Quiver with --password-store=gnome-libsecret, and try again.',
      );
    }
  }
}
