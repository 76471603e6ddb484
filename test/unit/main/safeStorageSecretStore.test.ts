import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SafeStorageError,
  SafeStorageSecretStore,
  type PasswordBlobStore,
  type SafeStorageLike,
} from '../../../main/safeStorageSecretStore.ts';
import { addAccountWithSecret } from '../../../app/core/addAccount.ts';
import type { AccountSettings } from '../../../app/contract/viewModels.ts';
import { openStorage } from '../../../app/storage/storage.ts';

const SETTINGS: AccountSettings = { resolver: null, resolverValidates: false, extraCaPem: null, transport: 'auto' };

/** A reversible stand-in for the keyring: XOR with a key byte, tagged with the key's generation. */
function fakeSafeStorage(options: { available?: boolean; backend?: string } = {}) {
  const state = { available: options.available ?? true, generation: 1, encrypted: 0 };
  const safeStorage: SafeStorageLike = {
    isAsyncEncryptionAvailable: async () => state.available,
    async encryptStringAsync(plainText) {
      state.encrypted++;
      return Buffer.concat([Buffer.from([state.generation]), Buffer.from(plainText, 'utf8').map((b) => b ^ 0x5a)]);
    },
    async decryptStringAsync(encrypted) {
      const result = Buffer.from(encrypted.subarray(1).map((b) => b ^ 0x5a)).toString('utf8');
      return { result, shouldReEncrypt: encrypted[0] !== state.generation };
    },
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
  };
  return { safeStorage, state };
}

function memoryBlobs(): PasswordBlobStore & { rows: Map<string, Uint8Array | null> } {
  const rows = new Map<string, Uint8Array | null>([['a1', null]]);
  const notFound = () => Object.assign(new Error('That account no longer exists.'), { code: 'account-not-found' });
  return {
    rows,
    getPasswordBlob(id) {
      if (!rows.has(id)) throw notFound();
      return rows.get(id) ?? null;
    },
    setPasswordBlob(id, blob) {
      if (!rows.has(id)) throw notFound();
      rows.set(id, blob);
    },
  };
}

describe('SafeStorageSecretStore', () => {
  test('round trip; the database only ever sees ciphertext', async () => {
    const { safeStorage } = fakeSafeStorage();
    const blobs = memoryBlobs();
    const store = new SafeStorageSecretStore(safeStorage, blobs, 'linux');
    assert.equal(store.kind, 'safeStorage');
    assert.equal(await store.get('a1', 'alice@example.org'), null);
    await store.set('a1', 'alice@example.org', 'correct horse');
    const blob = blobs.rows.get('a1');
    assert.ok(blob instanceof Uint8Array);
    assert.equal(Buffer.from(blob).includes('correct horse'), false);
    assert.equal(await store.get('a1', 'alice@example.org'), 'correct horse');
    await store.delete('a1', 'alice@example.org');
    assert.equal(blobs.rows.get('a1'), null);
  });

  test('refuses to store anything when encryption is unavailable', async () => {
    const { safeStorage } = fakeSafeStorage({ available: false });
    const blobs = memoryBlobs();
    const store = new SafeStorageSecretStore(safeStorage, blobs, 'linux');
    await assert.rejects(store.set('a1', 'alice@example.org', 'pw'), (error: unknown) => {
      assert.ok(error instanceof SafeStorageError);
      assert.equal(error.code, 'secret-store-unavailable');
      assert.match(error.message, /keyring/);
      return true;
    });
    assert.equal(blobs.rows.get('a1'), null);
  });

  test("refuses Linux's basic_text backend (a hard-coded key is plaintext in disguise)", async () => {
    const { safeStorage, state } = fakeSafeStorage({ backend: 'basic_text' });
    const blobs = memoryBlobs();
    await assert.rejects(new SafeStorageSecretStore(safeStorage, blobs, 'linux').set('a1', 'a@b.example', 'pw'), {
      code: 'secret-store-unavailable',
    });
    assert.equal(state.encrypted, 0);
    // The backend query is Linux-only; elsewhere the availability check decides.
    await new SafeStorageSecretStore(safeStorage, blobs, 'darwin').set('a1', 'a@b.example', 'pw');
    assert.notEqual(blobs.rows.get('a1'), null);
  });

  test('re-encrypts when the keyring says the key changed', async () => {
    const { safeStorage, state } = fakeSafeStorage();
    const blobs = memoryBlobs();
    const store = new SafeStorageSecretStore(safeStorage, blobs, 'linux');
    await store.set('a1', 'a@b.example', 'pw');
    state.generation = 2;
    assert.equal(await store.get('a1', 'a@b.example'), 'pw');
    assert.equal(blobs.rows.get('a1')?.[0], 2);
  });

  test('an account that is gone has no password and nothing to delete', async () => {
    const { safeStorage } = fakeSafeStorage();
    const store = new SafeStorageSecretStore(safeStorage, memoryBlobs(), 'linux');
    assert.equal(await store.get('gone', 'a@b.example'), null);
    await store.delete('gone', 'a@b.example');
    await assert.rejects(store.set('gone', 'a@b.example', 'pw'), { code: 'account-not-found' });
  });
});

describe('adding an account with safeStorage', () => {
  test('the ciphertext is written by the INSERT itself: the new account reads its password back', async () => {
    const storage = openStorage(':memory:');
    const store = new SafeStorageSecretStore(fakeSafeStorage().safeStorage, storage, 'linux');
    const row = await addAccountWithSecret(storage, store, 'id-1', 'Alice@Example.org', 'hunter2', SETTINGS);
    assert.equal(row.id, 'id-1');
    assert.notEqual(storage.getPasswordBlob('id-1'), null);
    assert.equal(await store.get('id-1', row.jid), 'hunter2');
    storage.close();
  });

  test('no keyring: no account either, and the message says what to do', async () => {
    const storage = openStorage(':memory:');
    const store = new SafeStorageSecretStore(fakeSafeStorage({ available: false }).safeStorage, storage, 'linux');
    await assert.rejects(addAccountWithSecret(storage, store, 'id-1', 'alice@example.org', 'pw', SETTINGS), {
      code: 'secret-store-unavailable',
    });
    assert.deepEqual(storage.listAccounts(), []);
    storage.close();
  });
});

describe('adding an account with a store outside the database', () => {
  test('the secret is written before the row; a failed write leaves no account', async () => {
    const storage = openStorage(':memory:');
    const order: string[] = [];
    const failing = {
      kind: 'file',
      get: async () => null,
      set: async () => {
        order.push(`set, accounts: ${storage.listAccounts().length}`);
        throw new Error('disk full');
      },
      delete: async () => undefined,
    };
    await assert.rejects(
      addAccountWithSecret(storage, failing, 'id-1', 'alice@example.org', 'pw', SETTINGS),
      /disk full/,
    );
    assert.deepEqual(order, ['set, accounts: 0']);
    assert.deepEqual(storage.listAccounts(), []);
    storage.close();
  });

  test('a duplicate JID is refused before its password is written over the existing one', async () => {
    const storage = openStorage(':memory:');
    const written: string[] = [];
    const store = {
      kind: 'file',
      get: async () => null,
      set: async (id: string) => void written.push(id),
      delete: async () => undefined,
    };
    await addAccountWithSecret(storage, store, 'id-1', 'alice@example.org', 'pw', SETTINGS);
    await assert.rejects(addAccountWithSecret(storage, store, 'id-2', 'ALICE@example.org', 'other', SETTINGS), {
      code: 'account-exists',
    });
    assert.deepEqual(written, ['id-1']);
    storage.close();
  });
});
