/**
 * Merging messages into the held window of a chat (oldest first). Pure: returns a new array and
 * never changes its inputs or the messages in them.
 */
import type { MessageView } from '../../../app/contract/viewModels.ts';

/** Time order, ties broken by id (`byId`): the order of the chat view and of storage. */
export const byTime = (a: MessageView, b: MessageView): number => a.at - b.at || byId(a.id, b.id);

const DECIMAL = /^\d+$/;

/**
 * Ids as storage orders them: its ids are decimal row numbers, compared as numbers ('9' before
 * '10'; by length, then digits, so no precision is lost); ids that are not both decimal (a fake
 * core's 'm-12') compare as strings.
 */
export function byId(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length !== b.length && DECIMAL.test(a) && DECIMAL.test(b) && a[0] !== '0' && b[0] !== '0')
    return a.length - b.length;
  return a < b ? -1 : 1;
}

/** How `mergeMessages` treats a message older than the first held one. */
export interface MergeOptions {
  /**
   * 'held': leave it out. The first held message is the cursor older pages load from, so one put
   * before it (a receipt or an archive message for a message far above the window) would hide
   * every message between. For live events while older messages are stored (`hasOlder`).
   * Default: add it (a history page older than the window).
   */
  from?: 'held';
}

/**
 * `held` with `incoming` merged in, in time order: a message already held (same id) is replaced
 * in place, the others are added. A history page (in order, wholly before or after what is held)
 * is concatenated, with no index of the held messages and no sort: on a 100,000-message scroll a
 * page lands every few frames. Returns `held` itself when nothing was added or replaced.
 */
export function mergeMessages(
  held: readonly MessageView[],
  incoming: readonly MessageView[],
  options: MergeOptions = {},
): MessageView[] {
  if (incoming.length === 0) return held as MessageView[];
  const first = held[0];
  const last = held[held.length - 1];
  if (!first || !last) return isOrdered(incoming) ? incoming.slice() : incoming.toSorted(byTime);
  const dropOlder = options.from === 'held';
  if (isOrdered(incoming)) {
    if (byTime(incoming[incoming.length - 1]!, first) < 0)
      return dropOlder ? (held as MessageView[]) : incoming.concat(held);
    if (byTime(last, incoming[0]!) < 0) return held.concat(incoming);
  }
  const known = new Map(held.map((m, i) => [m.id, i]));
  let appendOnly = true;
  let changed = false;
  const next = held.slice();
  for (const message of incoming) {
    const at = known.get(message.id);
    if (at !== undefined) {
      next[at] = message;
      changed = true;
      continue;
    }
    if (dropOlder && byTime(message, first) < 0) continue;
    changed = true;
    const end = next[next.length - 1];
    if (end && byTime(end, message) > 0) appendOnly = false;
    known.set(message.id, next.length);
    next.push(message);
  }
  if (!changed) return held as MessageView[];
  if (!appendOnly) next.sort(byTime);
  return next;
}

/** True when each message is strictly after the one before it (by `byTime`). */
function isOrdered(messages: readonly MessageView[]): boolean {
  for (let i = 1; i < messages.length; i++) if (byTime(messages[i - 1]!, messages[i]!) >= 0) return false;
  return true;
}
