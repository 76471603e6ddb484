/**
 * The time a conversation row shows for its last activity, as desktop messengers do: the time of
 * day for today, the weekday within the last week, else the date. `now` comes from the caller.
 */
const DAY_MS = 86_400_000;

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function activityTime(at: number, now: number, locale?: string): string {
  const today = startOfDay(now);
  if (at >= today) return new Date(at).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (at >= today - 6 * DAY_MS) return new Date(at).toLocaleDateString(locale, { weekday: 'short' });
  return new Date(at).toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** The full date and time, for the tooltip. */
export function fullTime(at: number, locale?: string): string {
  return new Date(at).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' });
}
