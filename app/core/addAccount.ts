/**
 * Adding an account stores two things, the row and its password, and a crash (`kill -9`, power
 * loss) between the two must never leave an account without its password. How depends on where
 * the store keeps secrets:
 *
 * - In the account's row (Electron safeStorage, `sealForNewAccount`): the ciphertext is computed
 *   first and written by the same INSERT, one SQLite transaction.
 * - Elsewhere (the 0600 secrets file): the secret is written first (the file store renames a
 *   synced temporary file, so it is all or nothing), then the row. A crash in between leaves an
 *   entry for an id no account has, which nothing reads; never the reverse.
 *
 * An account whose password is missing anyway (a secrets file restored from an older backup, an
 * older Quiver's crash) shows `no-password` when it connects (app/connect/accountSession.ts) and is
 * repaired by entering the password in its settings (`account.update`).
 */
import type { AccountSettings } from '../contract/viewModels.ts';
import type { SecretStore } from '../storage/secretStore.ts';
import type { AccountRow, Storage } from '../storage/storage.ts';

/** Stores the account and its password together or not at all; resolves with the new row. */
export async function addAccountWithSecret(
  storage: Storage,
  secrets: SecretStore,
  id: string,
  jid: string,
  password: string,
  settings: AccountSettings,
  look: { label?: string; color?: string } = {},
): Promise<AccountRow> {
  if (secrets.sealForNewAccount) {
    const passwordBlob = await secrets.sealForNewAccount(password);
    return storage.addAccount({ id, jid, settings, passwordBlob, ...look });
  }
  // Refuse a duplicate before writing anything, so its secret never lands in the store.
  storage.requireNoAccount(jid);
  await secrets.set(id, jid, password);
  try {
    return storage.addAccount({ id, jid, settings, ...look });
  } catch (error) {
    // The store's delete also drops entries for the same JID: if an account for it was added
    // meanwhile, that entry is its password, so leave ours (an id nothing reads) in place.
    if (storage.getAccountByJid(jid) === null) await secrets.delete(id, jid);
    throw error;
  }
}
