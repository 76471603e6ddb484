/**
 * XEP-0203 Delayed Delivery: when a stanza was originally sent, from its <delay/> stamp, read with
 * the XEP-0082 DateTime profile. Pure: no clock; garbage is reported as null, never thrown.
 */
import type { Element } from 'ltx';
import { NS_DELAY } from './namespaces.ts';

/**
 * XEP-0082 §3.3 DateTime: `CCYY-MM-DDThh:mm:ss[.sss]TZD`, TZD being `Z` or `(+|-)hh:mm`; the
 * fraction may have any number of digits (only milliseconds are kept).
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A XEP-0082 DateTime as milliseconds since the epoch (UTC), or null when `text` is not one (a
 * date alone, a missing time zone, day 31 of a 30-day month, a 25th hour ...). A leap second (:60)
 * is read as the last millisecond of its minute, so order is kept.
 */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Date.UTC maps the years 0..99 to 1900..1999; no XMPP stanza was sent before the year 1000.
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const millis = second === 60 ? 999 : Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), millis) - offsetMinutes * 60_000;
}

/** XEP-0082 §3.3: `ms` (since the epoch) as a UTC DateTime with milliseconds, e.g. 2026-12-06T16:50:00.000Z. */
export function formatDateTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatDateTime(): ${ms} is not a time`);
  return new Date(ms).toISOString();
}

/**
 * The earliest valid <delay xmlns='urn:xmpp:delay' stamp=.../> among the children of `parent` (a
 * message, or a XEP-0297 <forwarded/>), in ms since the epoch; null when there is none. A stamp to
 * the second is read as that second's last millisecond (`wholeSecond` 'last', for what comes on the
 * stream) or its first ('first', for archive results, which the catch-up places in the archive's
 * order).
 *
 * XEP-0203 §3: "The 'stamp' attribute ... MUST contain the time at which the XML stanza was
 * originally sent. The format MUST adhere to the dateTime format specified in XEP-0082 and MUST be
 * expressed in UTC." Several entities may each add one (a MUC and then the server holding the
 * message offline): the earliest is the closest to when it was sent. A stamp that does not parse
 * is ignored, as if absent.
 */
export function parseDelay(parent: Element, wholeSecond: 'last' | 'first' = 'last'): number | null {
  let earliest: number | null = null;
  for (const child of parent.getChildElements()) {
    if (child.getName() !== 'delay' || child.getNS() !== NS_DELAY) continue;
    const stamp = child.attrs.stamp;
    const parsed = typeof stamp === 'string' ? parseDateTime(stamp) : null;
    // A stamp to the second ("…:07Z", as Prosody writes them) says "within that second". On the
    // stream it is read as that second's last millisecond: a server stamps a message it held
    // (offline, or queued for a session that did not come back) when it stored it, after those of
    // that second that went out live; read so, it sorts after them, not before (and never after
    // what comes next: history times are capped at now). An archive result is read as the second's
    // first: the catch-up keeps it after what preceded it in the archive, and the first millisecond
    // cannot put it after a message of that second that came live and follows it in the archive.
    const whole = parsed !== null && !/\.\d/.test(stamp as string);
    const at = whole && wholeSecond === 'last' ? parsed + 999 : parsed;
    if (at !== null && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest;
}
