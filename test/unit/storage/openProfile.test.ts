import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProfile, PROFILE_DATABASE } from '../../../app/storage/openProfile.ts';

test('openProfile creates the data directory for its owner only and opens quiver.db in it', (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'quiver-profile-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'nested', 'quiver');

  const first = openProfile(dataDir);
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(PROFILE_DATABASE, 'quiver.db');
  assert.ok(existsSync(join(dataDir, 'quiver.db')));
  const id = first.addAccount({ jid: 'alice@alpha.test' }).id;
  first.close();

  // The same directory opened again (as the CLI does after the app) is the same profile.
  const second = openProfile(dataDir);
  t.after(() => second.close());
  assert.equal(second.getAccountByJid('alice@alpha.test')?.id, id);
});
