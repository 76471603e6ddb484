/**
 * The quick switcher's matching: the typed letters must appear in order in the text (not
 * necessarily together), case-insensitively. A lower score is a better match: matches at the
 * start of the text or of a word, and letters close together, come first.
 */

/** The score of `query` against `text`, or null when it does not match. '' matches everything with 0. */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.trim().toLowerCase();
  if (q === '') return 0;
  const t = text.toLowerCase();
  const direct = t.indexOf(q);
  if (direct >= 0) return direct === 0 || /[\s@._-]/.test(t[direct - 1]!) ? 0 : 1;
  let score = 10;
  let from = 0;
  let last = -1;
  for (const ch of q) {
    const at = t.indexOf(ch, from);
    if (at < 0) return null;
    if (last >= 0) score += at - last - 1;
    last = at;
    from = at + 1;
  }
  return score;
}
