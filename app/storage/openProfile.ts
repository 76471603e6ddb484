/**
 * A profile is a data directory holding `quiver.db`. The core (`createCore`) and the headless CLI
 * (`quiver connect`) open it through this one function, so both see the same accounts, pins, POSH
 * cache and security records, and a profile made by either is private to its owner.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../contract/quiverError.ts';
import { openStorage, type Storage } from './storage.ts';

/** The database's file name inside a data directory. */
export const PROFILE_DATABASE = 'quiver.db';

/** The data directory is reachable by other users, or is not a directory of ours. */
export class ProfileAccessError extends QuiverError<'data-dir-exposed'> {
  constructor(message: string) {
    super('data-dir-exposed', message);
  }
}

/**
 * Creates `dataDir` if missing, readable only by its owner (mode 0700: it holds the message history
 * and the security records), then opens (creating and migrating) its database, whose files are
 * 0600 (openDatabase.ts). Throws ProfileAccessError, before anything is created in it, when an
 * existing `dataDir` lets other users read or write it, or belongs to someone else: it is not
 * tightened behind the user's back, since they may have opened it on purpose. The caller owns
 * the returned storage and must `close()` it.
 */
export function openProfile(dataDir: string): Storage {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  checkPrivate(dataDir);
  return openStorage(join(dataDir, PROFILE_DATABASE));
}

function checkPrivate(dataDir: string): void {
  // Windows has no POSIX modes: its ACLs default to the user's profile.
  if (process.platform === 'win32') return;
  const info = statSync(dataDir);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new ProfileAccessError(
      `${dataDir} belongs to another user (uid ${info.uid}), so Quiver will not keep your messages and passwords ` +
        'there. Choose a data directory of your own (--data-dir or QUIVER_DATA_DIR).',
    );
  }
  const mode = info.mode & 0o777;
  // Read or write for the group or others exposes it; search (x) alone lists nothing, and every
  // file inside is 0600.
  if ((mode & 0o066) !== 0) {
    throw new ProfileAccessError(
      `${dataDir} can be read or changed by other users (mode ${mode.toString(8).padStart(4, '0')}); it holds your message ` +
        `history and security records. Run \`chmod 700 ${dataDir}\` or choose another data directory, then start ` +
        'Quiver again.',
    );
  }
}
