/**
 * What the storage unit tests share: a fresh in-memory profile with one account, closed after the
 * test, and an incoming message to bob@example.org with only what a test varies.
 */
import { openStorage } from '../../../app/storage/storage.ts';
import type { NewMessage, Storage } from '../../../app/storage/storage.ts';

/** An in-memory profile (every migration) with alice@example.org; `id` is her account id. */
export function setup(t: { after(fn: () => void): void }): { s: Storage; id: string } {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  return { s, id: s.addAccount({ jid: 'alice@example.org' }).id };
}

/** A received message from bob@example.org at `at`; `over` changes any field. */
export const msg = (accountId: string, body: string, at: number, over: Partial<NewMessage> = {}): NewMessage => ({
  accountId,
  peer: 'bob@example.org',
  direction: 'in',
  body,
  stanzaId: null,
  at,
  state: 'received',
  ...over,
});
