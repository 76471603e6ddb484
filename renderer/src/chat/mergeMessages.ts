/**
 * Merging messages into the held window of a chat (oldest first). Pure: returns a new array and
 * never changes its inputs or the messages in them.
 */
import type { MessageView } from '../../../app/contract/viewModels.ts';

/** Time order, ties broken by id: the order of the chat view. */
export const byTime = (a: MessageView, b: MessageView): number =>
  a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * `held` with `incoming` merged in, in time order: a message already held (same id) is replaced
 * in place, the others are added. A history page (in order, wholly before or after what is held)
 * is concatenated, with no index of the held messages and no sort: on a 100,000-message scroll a
 * page lands every few frames. Returns `held` itself only when `incoming` is empty.
 */
export function mergeMessages(held: readonly MessageView[], incoming: readonly MessageView[]): MessageView[] {
  if (incoming.length === 0) return held as MessageView[];
  const first = held[0];
  const last = held[held.length - 1];
  if (!first || !last) return isOrdered(incoming) ? incoming.slice() : incoming.toSorted(byTime);
  if (isOrdered(incoming)) {
    if (byTime(incoming[incoming.length - 1]!, first) < 0) return incoming.concat(held);
    if (byTime(last, incoming[0]!) < 0) return held.concat(incoming);
  }
  const known = new Map(held.map((m, i) => [m.id, i]));
  let appendOnly = true;
  const next = held.slice();
  for (const message of incoming) {
    const at = known.get(message.id);
    if (at !== undefined) {
      next[at] = message;
      continue;
    }
    const end = next[next.length - 1];
    if (end && byTime(end, message) > 0) appendOnly = false;
    known.set(message.id, next.length);
    next.push(message);
  }
  if (!appendOnly) next.sort(byTime);
  return next;
}

/** True when each message is strictly after the one before it (by `byTime`). */
function isOrdered(messages: readonly MessageView[]): boolean {
  for (let i = 1; i < messages.length; i++) if (byTime(messages[i - 1]!, messages[i]!) >= 0) return false;
  return true;
}
