import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProfile, PROFILE_DATABASE, ProfileAccessError } from '../../../app/storage/openProfile.ts';

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

test('quiver.db and its -wal and -shm are created 0600 whatever the umask', (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'quiver-profile-'));
  const previous = process.umask(0o022);
  t.after(() => {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  });
  const dataDir = join(parent, 'quiver');
  const storage = openProfile(dataDir);
  t.after(() => storage.close());
  storage.addAccount({ jid: 'alice@alpha.test' });
  for (const name of ['quiver.db', 'quiver.db-wal', 'quiver.db-shm']) {
    assert.equal((statSync(join(dataDir, name)).mode & 0o777).toString(8), '600', name);
  }
});

test('files an older Quiver left 0644 are made 0600 when the profile is opened', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-profile-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  openProfile(dataDir).close();
  for (const name of ['quiver.db', 'quiver.db-wal', 'quiver.db-shm']) {
    if (existsSync(join(dataDir, name))) chmodSync(join(dataDir, name), 0o644);
  }
  writeFileSync(join(dataDir, 'quiver.db-wal'), '', { mode: 0o644 });
  openProfile(dataDir).close();
  for (const name of ['quiver.db', 'quiver.db-wal']) {
    if (existsSync(join(dataDir, name)))
      assert.equal((statSync(join(dataDir, name)).mode & 0o777).toString(8), '600', name);
  }
});

test('a data directory that others can read or write is refused with what to do, and nothing is created in it', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-profile-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  for (const mode of [0o755, 0o750, 0o704, 0o720]) {
    chmodSync(dataDir, mode);
    assert.throws(
      () => openProfile(dataDir).close(),
      (error: unknown) => {
        assert.ok(error instanceof ProfileAccessError, String(error));
        assert.equal(error.code, 'data-dir-exposed');
        assert.match(error.message, new RegExp(`${dataDir} can be read or changed by other users`));
        assert.match(error.message, new RegExp(`chmod 700 ${dataDir}`));
        return true;
      },
      mode.toString(8),
    );
    assert.ok(!existsSync(join(dataDir, 'quiver.db')));
  }
  // Search permission alone (x) lists nothing, and every file inside is 0600.
  chmodSync(dataDir, 0o711);
  openProfile(dataDir).close();
  chmodSync(dataDir, 0o700);
  openProfile(dataDir).close();
});
