/**
 * Packet number decoding (RFC 9000 §17.1, Appendix A.3) with truncated numbers of every length,
 * including 32-bit ones at and above 2^31 where 32-bit bitwise operators would turn negative.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePacketNumber } from '../../../app/quic/packetNumber.ts';

/** The Appendix A.3 pseudocode with BigInt: exact for every 62-bit packet number. */
function reference(largest: number, truncated: number, bits: number): number {
  const expected = BigInt(largest) + 1n;
  const win = 1n << BigInt(bits);
  const hwin = win / 2n;
  const mask = win - 1n;
  const candidate = (expected & ~mask) | BigInt(truncated);
  if (candidate <= expected - hwin && candidate < (1n << 62n) - win) return Number(candidate + win);
  if (candidate > expected + hwin && candidate >= win) return Number(candidate - win);
  return Number(candidate);
}

describe('decodePacketNumber (RFC 9000 Appendix A.3)', () => {
  it('decodes the RFC example (16 bits)', () => {
    assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
  });

  it('decodes 32-bit truncated numbers at and above 2^31', () => {
    assert.equal(decodePacketNumber(0, 0xffffffff, 32), 0xffffffff);
    assert.equal(decodePacketNumber(0x8000_0000, 0xffff_fff0, 32), 0xffff_fff0);
    assert.equal(decodePacketNumber(-1, 0x80000000, 32), 0x80000000);
    assert.equal(decodePacketNumber(0x7fffffff, 0x80000000, 32), 0x80000000);
    assert.equal(decodePacketNumber(0xfffffffe, 0xffffffff, 32), 0xffffffff);
    assert.equal(decodePacketNumber(0xffffffff, 0x00000000, 32), 0x100000000);
    assert.equal(decodePacketNumber(0x1_8000_0000, 0x8000_0001, 32), 0x1_8000_0001);
  });

  it('agrees with exact arithmetic for large values of every length', () => {
    const largests = [0, 0x7fff_fffe, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 12345, 2 ** 53 - 2 ** 33];
    for (const bits of [8, 16, 24, 32]) {
      const win = 2 ** bits;
      for (const largest of largests) {
        for (const delta of [1, 2, win / 2 - 1, win / 2, win / 2 + 1, win - 1]) {
          const full = largest + delta;
          if (full > Number.MAX_SAFE_INTEGER) continue;
          const truncated = full % win;
          const got = decodePacketNumber(largest, truncated, bits);
          assert.equal(got, reference(largest, truncated, bits), `largest ${largest}, truncated ${truncated}/${bits}`);
          assert.ok(got >= 0);
        }
      }
    }
  });
});
