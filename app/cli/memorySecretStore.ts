/**
 * The passwords of one `quiver connect` run, held in memory only: the long run's LiveAccounts read
 * them through the SecretStore interface, and nothing is written to the database or to disk.
 * Keyed by bare JID, since the accounts' ids are made (or found) in the database after the
 * passwords are read.
 */
import type { SecretStore } from '../storage/secretStore.ts';
import { normalizeBareJid } from '../storage/normalizeJid.ts';

export class MemorySecretStore implements SecretStore {
  readonly kind = 'memory';
  readonly #byJid = new Map<string, string>();

  /** `passwords`: bare JID -> password. */
  constructor(passwords: Iterable<[jid: string, password: string]>) {
    for (const [jid, password] of passwords) this.#byJid.set(normalizeBareJid(jid), password);
  }

  get(_accountId: string, jid: string): Promise<string | null> {
    return Promise.resolve(this.#byJid.get(normalizeBareJid(jid)) ?? null);
  }

  set(_accountId: string, jid: string, password: string): Promise<void> {
    this.#byJid.set(normalizeBareJid(jid), password);
    return Promise.resolve();
  }

  delete(_accountId: string, jid: string): Promise<void> {
    this.#byJid.delete(normalizeBareJid(jid));
    return Promise.resolve();
  }
}
