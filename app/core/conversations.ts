/**
 * Tells the UI when conversations change (`conversation.changed`, with the full view). Changes are
 * collected and sent once per conversation when the current batch ends (`schedule`, by default
 * the next macrotask): the 50 results of an archive page, parsed from one read, give one event per
 * conversation, not 50.
 *
 * Obligations of callers: call `touched` after storing anything that changes a conversation (a
 * message in or out, start, markRead, draft); call `rosterChanged(accountId, jids)` after the
 * roster of an account changed for those JIDs (a name, an item added or removed: `name` and
 * `stranger` follow), and `blockChanged` likewise for the block list; the CONTACTS code calls both.
 */
import type { ConversationView, EventEnvelope } from '../contract/index.ts';
import type { Storage } from '../storage/storage.ts';

export interface ConversationsDeps {
  storage: Pick<Storage, 'getConversation' | 'conversationPeers'>;
  emit(event: EventEnvelope): void;
  /** Runs `flush` once the current batch of work is done; default setTimeout(flush, 0). */
  schedule?(flush: () => void): void;
}

export class ConversationNotifier {
  readonly #deps: ConversationsDeps;
  /** account id → peers changed in this batch. */
  readonly #dirty = new Map<string, Set<string>>();
  #scheduled = false;
  #closed = false;

  constructor(deps: ConversationsDeps) {
    this.#deps = deps;
  }

  /** The conversation (account, bare `peer` in stored form) changed; announced at the batch's end. */
  touched(accountId: string, peer: string): void {
    if (this.#closed) return;
    let peers = this.#dirty.get(accountId);
    if (!peers) this.#dirty.set(accountId, (peers = new Set()));
    peers.add(peer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    (this.#deps.schedule ?? ((flush) => void setTimeout(flush, 0)))(() => this.flush());
  }

  /** Roster items of `jids` changed: their conversations' name and stranger flag follow. */
  rosterChanged(accountId: string, jids: readonly string[]): void {
    const known = new Set(this.#deps.storage.conversationPeers(accountId));
    for (const jid of jids) {
      const bare = jid.toLowerCase();
      if (known.has(bare)) this.touched(accountId, bare);
    }
  }

  /** The block list changed for `jids`: their conversations' blocked flag follows. */
  blockChanged(accountId: string, jids: readonly string[]): void {
    this.rosterChanged(accountId, jids);
  }

  /** Sends what changed now (tests and `close` call it; otherwise the scheduler does). */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const batch = [...this.#dirty];
    this.#dirty.clear();
    for (const [accountId, peers] of batch) {
      for (const peer of peers) {
        const conversation: ConversationView | null = this.#deps.storage.getConversation(accountId, peer);
        if (conversation) this.#deps.emit({ name: 'conversation.changed', payload: { conversation } });
      }
    }
  }

  /**
   * Sends what is pending, then nothing more: call before the database closes (a flush scheduled
   * earlier then finds nothing to read).
   */
  close(): void {
    this.flush();
    this.#closed = true;
    this.#dirty.clear();
  }

  /** Drops pending changes of an account whose conversations were deleted. */
  forget(accountId: string): void {
    this.#dirty.delete(accountId);
  }
}
