/**
 * The one conversation list across accounts (issue 13), as the core keeps it: loaded with
 * `conversation.list`, then kept current by `conversation.changed` / `conversation.removed`. The
 * core owns unread counts and drafts (stored in SQLite); this only mirrors them, so a reload
 * shows the same numbers.
 */
import type { ConversationView } from '../../../app/contract/viewModels.ts';

export const conversationKey = (accountId: string, peer: string): string => `${accountId}\n${peer}`;

/** Most recent activity first; ties by address so the order is stable. */
export function byActivity(a: ConversationView, b: ConversationView): number {
  return b.lastActivity - a.lastActivity || a.peer.localeCompare(b.peer) || a.accountId.localeCompare(b.accountId);
}

export class ConversationsState {
  items = $state<ConversationView[]>([]);
  /** The list's order: what the list shows, what Alt+Up/Down walk. */
  readonly inOrder = $derived(this.items.toSorted(byActivity));
  readonly totalUnread = $derived(this.items.reduce((sum, c) => sum + c.unread, 0));
  /**
   * The draft last typed per conversation in this window, until the list shows the same text: the
   * save (`conversation.setDraft`) and its `conversation.changed` may lag behind a quick A→B→A, and
   * the composer must start from what was typed, not from the list's older draft.
   */
  #typedDrafts = new Map<string, string>();

  find(accountId: string, peer: string): ConversationView | undefined {
    return this.items.find((c) => c.accountId === accountId && c.peer === peer);
  }

  /** The draft to start a composer with: what was typed here last, else the listed one. */
  draftOf(accountId: string, peer: string): string {
    return this.#typedDrafts.get(conversationKey(accountId, peer)) ?? this.find(accountId, peer)?.draft ?? '';
  }

  /** The person typed `text` in the conversation's composer (saved to the core separately). */
  rememberDraft(accountId: string, peer: string, text: string): void {
    this.#typedDrafts.set(conversationKey(accountId, peer), text);
  }

  /** Replaces the whole list (after `conversation.list`). */
  replace(items: ConversationView[]): void {
    this.items = items;
  }

  /** Applies `conversation.changed` (or a command's answer): inserts or replaces. */
  upsert(conversation: ConversationView): void {
    const key = conversationKey(conversation.accountId, conversation.peer);
    if (this.#typedDrafts.get(key) === conversation.draft) this.#typedDrafts.delete(key);
    const at = this.items.findIndex((c) => c.accountId === conversation.accountId && c.peer === conversation.peer);
    if (at < 0) this.items.push(conversation);
    else this.items[at] = conversation;
  }

  remove(accountId: string, peer: string): void {
    this.items = this.items.filter((c) => c.accountId !== accountId || c.peer !== peer);
  }

  /** Marks the conversation read here at once; the core's `conversation.changed` confirms it. */
  clearUnread(accountId: string, peer: string): void {
    const found = this.find(accountId, peer);
    if (found && found.unread > 0) found.unread = 0;
  }
}
