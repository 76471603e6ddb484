/**
 * The time a conversation row shows for its last activity, as desktop messengers do: the time of
 * day for today, the weekday within the last week, else the date. `now` comes from the caller;
 * days are local calendar days, counted as the chat's day separators count them (chat/days.ts).
 */
import { daysBefore } from '../../chat/days.ts';

export function activityTime(at: number, now: number, locale?: string): string {
  const days = daysBefore(at, now);
  if (days <= 0) return new Date(at).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (days < 7) return new Date(at).toLocaleDateString(locale, { weekday: 'short' });
  return new Date(at).toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** The full date and time, for the tooltip. */
export function fullTime(at: number, locale?: string): string {
  return new Date(at).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' });
}
