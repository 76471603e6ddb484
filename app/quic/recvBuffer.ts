/**
 * The receiving half of a stream's (or a CRYPTO epoch's) data: out-of-order segments reassembled
 * into an in-order byte stream (RFC 9000 §2.2: "Data that has already been received can be
 * discarded").
 *
 * RFC 9000 §21.7: "An adversarial sender might intentionally not send portions of the stream
 * data, causing the receiver to commit resources for the unsent data. [...] QUIC deployments
 * SHOULD provide mitigations for stream fragmentation attacks. Mitigations could consist of
 * avoiding overcommitting memory, limiting the size of tracking data structures [...]". So:
 *
 * - each byte is held once: a segment is trimmed to the bytes not yet held, and those are copied
 *   into pages, so `buffered` never exceeds `highest - readOffset` (at most the window the caller
 *   enforced) and no received packet is kept alive by a view of a few of its bytes;
 * - pages are allocated only where bytes are held, small at first, so memory stays
 *   within the window plus two pages;
 * - the held bytes form at most `maxRanges` separate ranges; a segment that would make more is
 *   refused (`insert` returns false) and the caller closes the connection. That bounds the
 *   per-segment work (a binary search and one splice of at most `2 * maxRanges` numbers).
 */
import { RangeSet } from './rangeSet.ts';

/** Bytes per page: pages are freed as soon as the reader passes their end. */
export const RECV_PAGE_SIZE = 16 * 1024;
/** Smallest allocation for a page (see `pageCovering`). */
const MIN_PAGE_ALLOCATION = 256;

export class RecvBuffer {
  /** Page index (offset / RECV_PAGE_SIZE) to its bytes, which cover the page from its start. */
  private readonly pages = new Map<number, Uint8Array>();
  /** The offsets at or above `readOffset` whose bytes are held. */
  private readonly held = new RangeSet();
  /** The most separate ranges of held bytes (see the file comment). */
  readonly maxRanges: number;
  /** Next offset the application will read. */
  readOffset = 0;
  /** Highest offset + 1 accepted. */
  highest = 0;
  /** Bytes held for reading: each offset counted once. */
  buffered = 0;
  /** Bytes allocated for pages: at most `highest - readOffset` plus two pages. */
  allocated = 0;

  constructor(maxRanges: number) {
    if (!(maxRanges >= 1)) throw new Error('RecvBuffer needs room for at least one range');
    this.maxRanges = maxRanges;
  }

  /** Separate ranges of held bytes (gaps + 1 when something is held). */
  get ranges(): number {
    return this.held.size;
  }

  /**
   * Stores the bytes of `data` (at stream offset `offset`) that are neither read nor held yet.
   * The caller must have checked `offset + data.length` against its limit (flow control, the
   * CRYPTO cap): the buffer holds whatever it is given below that. Returns false, storing nothing,
   * when the bytes would leave more than `maxRanges` separate ranges: the peer is fragmenting on
   * purpose and the caller closes the connection.
   */
  insert(offset: number, data: Uint8Array): boolean {
    const end = offset + data.length;
    const lo = Math.max(offset, this.readOffset);
    if (lo < end) {
      if (this.held.sizeAfterInsert(lo, end) > this.maxRanges) return false;
      this.held.forEachGap(lo, end, (a, b) => this.copyIn(a, data.subarray(a - offset, b - offset)));
      this.held.insert(lo, end);
    }
    this.highest = Math.max(this.highest, end);
    return true;
  }

  /** Whether bytes at `readOffset` are available. */
  get readable(): boolean {
    return this.held.min() === this.readOffset;
  }

  /**
   * Returns the next in-order bytes at `readOffset` (at most `max`, and never across a page end),
   * or null when none are available. Call until null. The view stays valid: a page is never
   * written below the read offset, and a page the reader has passed is dropped, not reused.
   */
  read(max = Infinity): Uint8Array | null {
    const first = this.held.first();
    if (first === undefined || first[0] > this.readOffset || max <= 0) return null;
    const index = Math.floor(this.readOffset / RECV_PAGE_SIZE);
    const pageStart = index * RECV_PAGE_SIZE;
    const n = Math.min(first[1], pageStart + RECV_PAGE_SIZE, this.readOffset + max) - this.readOffset;
    const page = this.pages.get(index)!;
    const view = page.subarray(this.readOffset - pageStart, this.readOffset - pageStart + n);
    this.readOffset += n;
    this.buffered -= n;
    this.held.removeBelow(this.readOffset);
    if (this.readOffset === pageStart + RECV_PAGE_SIZE) this.dropPage(index);
    return view;
  }

  /** Consumes every in-order byte available (discarding it). */
  skipReadable(): void {
    while (this.read() !== null) continue;
  }

  /** Forgets every held byte (a reset stream, a discarded epoch). */
  clear(): void {
    this.pages.clear();
    this.held.clear();
    this.buffered = 0;
    this.allocated = 0;
  }

  private copyIn(offset: number, bytes: Uint8Array): void {
    this.buffered += bytes.length;
    let done = 0;
    while (done < bytes.length) {
      const at = offset + done;
      const index = Math.floor(at / RECV_PAGE_SIZE);
      const inPage = at - index * RECV_PAGE_SIZE;
      const n = Math.min(bytes.length - done, RECV_PAGE_SIZE - inPage);
      this.pageCovering(index, inPage + n).set(bytes.subarray(done, done + n), inPage);
      done += n;
    }
  }

  /**
   * The page's bytes, covering at least its first `need` bytes. A page starts small (most streams
   * carry a few stanzas; a half-open connection a ClientHello) and, once it has to grow, takes its
   * full size at once: allocations, not copies, are what cost when data streams in.
   */
  private pageCovering(index: number, need: number): Uint8Array {
    const page = this.pages.get(index);
    if (page !== undefined && page.length >= need) return page;
    let size = RECV_PAGE_SIZE;
    if (page === undefined) {
      size = MIN_PAGE_ALLOCATION;
      while (size < need) size *= 2;
    }
    const grown = new Uint8Array(Math.min(size, RECV_PAGE_SIZE));
    if (page !== undefined) grown.set(page);
    this.allocated += grown.length - (page?.length ?? 0);
    this.pages.set(index, grown);
    return grown;
  }

  private dropPage(index: number): void {
    const page = this.pages.get(index);
    if (page === undefined) return;
    this.allocated -= page.length;
    this.pages.delete(index);
  }
}
