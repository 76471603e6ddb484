/**
 * The assembled core over a profile the test prepared, with no network: the accounts are added
 * disabled, so no session starts. Every event is recorded; the core is closed and the profile
 * removed after the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '../../app/contract/index.ts';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { openProfile } from '../../app/storage/openProfile.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import type { Storage } from '../../app/storage/storage.ts';

/** `prepare` fills the profile before the core opens it; what it returns comes back with the core. */
export async function openOfflineCore<T>(
  t: { after(fn: () => Promise<void> | void): void },
  prepare: (profile: Storage) => T,
): Promise<T & { core: QuiverCore; events: EventEnvelope[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-offline-core-'));
  const profile = openProfile(dataDir);
  let prepared: T;
  try {
    prepared = prepare(profile);
  } finally {
    profile.close();
  }
  const core = await createCore({
    dataDir,
    secrets: new FileSecretStore(join(dataDir, 'secrets.json')),
    autoConnect: false,
    watchNetwork: false,
  });
  const events: EventEnvelope[] = [];
  core.subscribe((e) => events.push(e));
  t.after(async () => {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...prepared, core, events };
}
