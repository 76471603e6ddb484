/**
 * Day separators and message grouping for the chat view. Pure: the caller passes `now`, and days
 * are the person's local calendar days.
 */

const fullDate = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' });

/** Messages closer than this, in the same direction and on the same day, form one group. */
export const GROUP_GAP_MS = 5 * 60_000;

/** The local calendar day of `ms`, as a number that is equal for equal days (YYYYMMDD). */
export function dayKey(ms: number): number {
  const d = new Date(ms);
  return d.getFullYear() * 10_000 + (d.getMonth() + 1) * 100 + d.getDate();
}

/** Whole local days from the day of `ms` to the day of `now` (0: the same day; DST-safe). */
export function daysBefore(ms: number, now: number): number {
  const a = new Date(ms);
  const b = new Date(now);
  const utcA = Date.UTC(a.getFullYear(), a.getMonth(), a.getDate());
  const utcB = Date.UTC(b.getFullYear(), b.getMonth(), b.getDate());
  return Math.round((utcB - utcA) / 86_400_000);
}

/**
 * Milliseconds from `now` to the next local midnight (the next day's start; DST-safe): a view
 * saying "Today" sets a timer for then, rather than polling the clock.
 */
export function msUntilNextDay(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() - now;
}

/** "Today", "Yesterday", the weekday within the last week, else the full date. */
export function dayLabel(ms: number, now: number): string {
  const days = daysBefore(ms, now);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return weekday.format(ms);
  return fullDate.format(ms);
}

/** The least a message needs to be grouped: when and which way. */
export interface Groupable {
  at: number;
  direction: 'in' | 'out';
}

/** A separator goes above `message` when it is the first one or the first of its day. */
export function startsDay(previous: Groupable | undefined, message: Groupable): boolean {
  return previous === undefined || dayKey(previous.at) !== dayKey(message.at);
}

/** `message` continues the group of `previous`: same sender, same day, within GROUP_GAP_MS. */
export function continuesGroup(previous: Groupable | undefined, message: Groupable): boolean {
  return (
    previous !== undefined &&
    previous.direction === message.direction &&
    !startsDay(previous, message) &&
    message.at - previous.at < GROUP_GAP_MS
  );
}
