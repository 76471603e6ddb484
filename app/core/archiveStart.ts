/**
 * Where an account's XEP-0313 catch-up starts, from what its profile holds: after the stored
 * archive position, or, at the first login, from a time. And where in the history what it brings
 * goes: after the message at that position, so a chat keeps the archive's order (the server stamps
 * archived messages with its clock; live ones are placed by ours, which runs behind by the delivery).
 */
import type { CatchUpStart } from '../connect/sessionMessaging.ts';
import type { Storage } from '../storage/storage.ts';
import type { ArchivePosition } from '../storage/archivePositions.ts';

/**
 * The archive's clock is the server's: a fallback start time taken from ours reads this much
 * earlier (copies are recognised and dropped).
 */
export const CLOCK_MARGIN_MS = 5 * 60 * 1000;

/** How far back the first archive catch-up of an account reads, unless the caller says. */
export const FIRST_CATCH_UP_MS = 7 * 24 * 3600 * 1000;

/**
 * The catch-up start of `accountId`; `firstStart` (ms): how far back a first catch-up reads
 * (default a week before `now`).
 */
export function archiveStart(
  storage: Pick<Storage, 'archivePosition' | 'findMessageByServerId'>,
  accountId: string,
  now: number,
  firstStart: number = now - FIRST_CATCH_UP_MS,
): CatchUpStart {
  const position = storage.archivePosition(accountId);
  // Archives may keep whole seconds (Prosody stores os.time()): a start inside a second would
  // leave out what was archived earlier in that second. One second earlier, whole.
  const first = Math.floor(firstStart / 1000) * 1000 - 1000;
  if (!position) return { after: null, start: first, floor: null };
  return {
    after: position.lastId,
    // Should the archive no longer hold the stored position: from its time (or the first start).
    start: position.lastAt === null ? first : position.lastAt - CLOCK_MARGIN_MS,
    floor: positionHistoryAt(storage, accountId, position),
  };
}

/**
 * Where in the history the position stands: stored with it; for a position stored before
 * migration 0016, the time of the message there, found by its archive id; else, when that walk
 * reached the end of the archive, the time it did (every message stored then is at or before it).
 * A walk cut short says nothing about what it had not read yet: null.
 */
function positionHistoryAt(
  storage: Pick<Storage, 'findMessageByServerId'>,
  accountId: string,
  position: ArchivePosition,
): number | null {
  if (position.historyAt !== null) return position.historyAt;
  const there = storage.findMessageByServerId(accountId, position.lastId);
  if (there) return there.at;
  return position.complete ? position.lastAt : null;
}
