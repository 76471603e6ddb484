/**
 * An account's default label depends on the other listed accounts (storage/accountLabel.ts), so
 * adding or removing one can change the labels of others: alice@alpha.test reads 'alpha.test'
 * alone and 'alice' once bob@alpha.test is added.
 *
 * Obligation of callers (core.ts: account.add, account.remove): take `labelSnapshot` before the
 * change and call `announceLabelChanges` with it after, so every account whose label changed is
 * announced again (account.changed), and the conversations of a removed account whose label
 * changed (their `removedAccount.label`) too.
 */
import type { AccountView, EventEnvelope } from '../contract/index.ts';
import { accountLabel } from '../storage/accountLabel.ts';
import type { AccountRow, Storage } from '../storage/storage.ts';

export interface LabelSnapshot {
  /** Listed account id → label. */
  listed: Map<string, string>;
  /** Removed (kept for history) account id → label. */
  removed: Map<string, string>;
}

type LabelStorage = Pick<Storage, 'listAccounts' | 'listRemovedAccounts' | 'conversationPeers'>;

export function labelSnapshot(storage: LabelStorage): LabelSnapshot {
  const rows = storage.listAccounts();
  const jids = rows.map((row) => row.jid);
  const labels = (list: AccountRow[]) => new Map(list.map((row) => [row.id, accountLabel(row, jids)]));
  return { listed: labels(rows), removed: labels(storage.listRemovedAccounts()) };
}

export function announceLabelChanges(
  before: LabelSnapshot,
  deps: {
    storage: LabelStorage;
    view(row: AccountRow): AccountView;
    emit(event: EventEnvelope): void;
    /** A conversation changed (ConversationNotifier.touched). */
    touched(accountId: string, peer: string): void;
  },
): void {
  const after = labelSnapshot(deps.storage);
  for (const row of deps.storage.listAccounts()) {
    const old = before.listed.get(row.id);
    if (old !== undefined && old !== after.listed.get(row.id))
      deps.emit({ name: 'account.changed', payload: { account: deps.view(row) } });
  }
  for (const [accountId, label] of after.removed) {
    const old = before.removed.get(accountId);
    if (old === undefined || old === label) continue;
    for (const peer of deps.storage.conversationPeers(accountId)) deps.touched(accountId, peer);
  }
}
