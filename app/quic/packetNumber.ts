/** RFC 9000 §17.1 and Appendix A.2/A.3: packet number encoding length and decoding. */

/** RFC 9000 Appendix A.2: the number of bytes needed to encode `fullPn` given the largest acknowledged (-1 when none). */
export function packetNumberLength(fullPn: number, largestAcked: number): number {
  const numUnacked = largestAcked < 0 ? fullPn + 1 : fullPn - largestAcked;
  const minBits = Math.log2(Math.max(numUnacked, 1)) + 1;
  return Math.min(4, Math.max(1, Math.ceil(minBits / 8)));
}

/** RFC 9000 Appendix A.3: recovers the full packet number from its truncated form. */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnNbits: number): number {
  const expectedPn = largestPn + 1;
  const pnWin = 2 ** pnNbits;
  const pnHwin = pnWin / 2;
  // candidate_pn = (expected_pn & ~pn_mask) | truncated_pn, in arithmetic that stays exact up to
  // 2^53: JavaScript's bitwise operators work on signed 32-bit integers, so a 32-bit truncated
  // number at or above 2^31 would turn negative under `&`.
  const candidatePn = expectedPn - (expectedPn % pnWin) + (truncatedPn % pnWin);
  if (candidatePn <= expectedPn - pnHwin && candidatePn < 2 ** 62 - pnWin) return candidatePn + pnWin;
  if (candidatePn > expectedPn + pnHwin && candidatePn >= pnWin) return candidatePn - pnWin;
  return candidatePn;
}
