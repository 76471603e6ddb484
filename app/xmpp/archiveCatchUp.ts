/**
 * XEP-0313 catch-up: the pages to ask for, one after the other, to fetch everything the archive
 * holds since the last message we know (or since a time, at the first login). Pure: the caller
 * sends each query (`queryArchive`) and feeds back what the stream reports.
 *
 * Obligations of the caller: `next()` gives the query to send (null while one is in flight or when
 * done); pass the queryid the machine returned to `sent`; feed the 'archive-page' and
 * 'archive-failed' events of that queryid to `page` and `failed`; persist `position` (the archive id
 * of the newest message fetched) once the messages of a page are stored.
 */
import type { ArchiveQuery } from './archive.ts';

/** XEP-0313 §4.3: the server limits pages anyway; 50 keeps one page small enough to store at once. */
export const ARCHIVE_PAGE_SIZE = 50;

/** A bound on pages per catch-up: a server that never says complete cannot keep us paging forever. */
export const MAX_ARCHIVE_PAGES = 1000;

export type CatchUpState = 'ready' | 'waiting' | 'done' | 'failed';

export class ArchiveCatchUp {
  readonly #pageSize: number;
  /** The fallback start time (ms) when there is no known position, or the archive no longer has it. */
  readonly #start: number | null;
  #after: string | null;
  /** Whether the current run pages from `#after` (false: from `#start`, or from the beginning). */
  #fromPosition: boolean;
  #inFlight: string | null = null;
  #state: CatchUpState = 'ready';
  #pages = 0;
  #failure: string | null = null;

  /**
   * @param from `after`: the archive id (stanza-id) of the newest message already stored, or null;
   *   `start`: without one (first login), fetch from this time (ms); both null: the whole archive.
   */
  constructor(from: { after: string | null; start: number | null }, pageSize = ARCHIVE_PAGE_SIZE) {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`ArchiveCatchUp: bad page size ${pageSize}`);
    this.#pageSize = pageSize;
    this.#after = from.after !== null && from.after !== '' ? from.after : null;
    this.#fromPosition = this.#after !== null;
    this.#start = from.start;
  }

  get state(): CatchUpState {
    return this.#state;
  }

  /** The archive id of the newest message fetched so far (or the one given), null when none. */
  get position(): string | null {
    return this.#after;
  }

  /** Why the catch-up failed (a stanza error condition or a protocol problem), once 'failed'. */
  get failure(): string | null {
    return this.#failure;
  }

  /** The query to send now, or null while one is in flight, when done or failed. */
  next(): ArchiveQuery | null {
    if (this.#state !== 'ready') return null;
    // RSM paging (XEP-0059 §2.2) keeps the same filter and moves <after/> to the last id received.
    return this.#fromPosition
      ? { after: this.#after, max: this.#pageSize }
      : { after: this.#after, start: this.#start, max: this.#pageSize };
  }

  /** The query `next()` gave was sent under `queryId`. */
  sent(queryId: string): void {
    if (this.#state !== 'ready') throw new Error(`ArchiveCatchUp.sent() in state ${this.#state}`);
    this.#inFlight = queryId;
    this.#state = 'waiting';
  }

  /** The query `queryId` ended with this page (an 'archive-page' event). Other queryids are ignored. */
  page(queryId: string, fin: { complete: boolean; last: string | null }): void {
    if (this.#state !== 'waiting' || queryId !== this.#inFlight) return;
    this.#inFlight = null;
    this.#pages++;
    if (fin.last !== null) {
      if (fin.last === this.#after && !fin.complete) return this.#fail('the archive sent the same page again');
      this.#after = fin.last;
    }
    if (fin.complete) {
      this.#state = 'done';
      return;
    }
    // XEP-0313 §4.3: an incomplete page without a <last/> gives nothing to page on.
    if (fin.last === null) return this.#fail('the archive said more pages follow but named no last message');
    if (this.#pages >= MAX_ARCHIVE_PAGES)
      return this.#fail(`the archive still had more after ${MAX_ARCHIVE_PAGES} pages`);
    this.#state = 'ready';
  }

  /**
   * The query `queryId` failed with `condition` (an 'archive-failed' event). XEP-0313 §4.3: "If the
   * UID contained within an <after> or <before> element is not present in the archive, the server
   * MUST return an item-not-found error": the position we had is gone (expired from the archive),
   * so the catch-up starts over from the fallback start time, once. Returns what became of it:
   * 'restarted' from that time (what comes may be older than the position), 'failed', or
   * 'ignored' (not the query in flight).
   */
  failed(queryId: string, condition: string): 'restarted' | 'failed' | 'ignored' {
    if (this.#state !== 'waiting' || queryId !== this.#inFlight) return 'ignored';
    this.#inFlight = null;
    if (condition === 'item-not-found' && this.#fromPosition && this.#pages === 0) {
      this.#fromPosition = false;
      this.#after = null;
      this.#state = 'ready';
      return 'restarted';
    }
    this.#fail(condition);
    return 'failed';
  }

  #fail(reason: string): void {
    this.#state = 'failed';
    this.#failure = reason;
  }
}
