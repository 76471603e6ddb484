/**
 * The arithmetic of the virtualised message list: where each row starts (measured heights, an
 * estimate for rows not measured yet) and which rows a viewport needs. Pure.
 */

/** Height assumed for a row that has not been measured. */
export const ESTIMATED_ROW = 44;

/** Where row `i` starts (0 outside the array). */
export const offsetOf = (offsets: Float64Array, i: number): number => offsets[i] ?? 0;

/**
 * `offsets[i]` is where row i starts; `offsets[n]` is the total height. A row not in `heights`
 * counts as `estimate` (the caller may pass the mean of the rows it measured).
 */
export function rowOffsets(
  ids: readonly string[],
  heights: ReadonlyMap<string, number>,
  estimate = ESTIMATED_ROW,
): Float64Array {
  const offsets = new Float64Array(ids.length + 1);
  let top = 0;
  for (let i = 0; i < ids.length; i++) {
    top += heights.get(ids[i]!) ?? estimate;
    offsets[i + 1] = top;
  }
  return offsets;
}

/** The first row whose bottom is below `y` (binary search); `n` when `y` is past the end. */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsetOf(offsets, mid + 1) <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface VisibleRows {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Space above the first rendered row. */
  before: number;
  /** Space below the last rendered row. */
  after: number;
}

/** The rows that cover [top - overscan, top + height + overscan]. */
export function visibleRows(offsets: Float64Array, top: number, height: number, overscan: number): VisibleRows {
  const n = offsets.length - 1;
  const start = Math.min(rowAt(offsets, Math.max(0, top - overscan)), n);
  const end = Math.min(n, rowAt(offsets, top + height + overscan) + 1);
  return { start, end, before: offsetOf(offsets, start), after: offsetOf(offsets, n) - offsetOf(offsets, end) };
}
