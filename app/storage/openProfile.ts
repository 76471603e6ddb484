/**
 * A profile is a data directory holding `quiver.db`. The core (`createCore`) and the headless CLI
 * (`quiver connect`) open it through this one function, so both see the same accounts, pins, POSH
 * cache and security records, and a profile made by either is private to its owner.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage, type Storage } from './storage.ts';

/** The database's file name inside a data directory. */
export const PROFILE_DATABASE = 'quiver.db';

/**
 * Creates `dataDir` if missing, readable only by its owner (mode 0700: it holds the message history
 * and the security records), then opens (creating and migrating) its database. An
 * existing directory keeps its mode. The caller owns the returned storage and must `close()` it.
 */
export function openProfile(dataDir: string): Storage {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openStorage(join(dataDir, PROFILE_DATABASE));
}
