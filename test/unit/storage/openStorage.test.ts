import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { openStorage } from '../../../app/storage/storage.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a file database is opened in WAL mode with foreign keys, busy timeout and synchronous=NORMAL', (t) => {
  const db = openDatabase(join(tempDir(t), 'quiver.db'));
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(db.pragma('synchronous', { simple: true }), 1); // 1 = NORMAL
  assert.equal(db.pragma('user_version', { simple: true }), migrations.length);
  db.close();
});

test(':memory: opens a private migrated database', () => {
  const storage = openStorage(':memory:');
  assert.deepEqual(storage.listAccounts(), []);
  storage.close();
});

test('data survives closing and reopening the file', (t) => {
  const path = join(tempDir(t), 'quiver.db');
  const first = openStorage(path);
  const account = first.addAccount({ jid: 'alice@example.org' });
  first.insertMessage({
    accountId: account.id,
    peer: 'bob@example.org',
    direction: 'out',
    body: 'hi',
    stanzaId: 's1',
    at: 1,
    state: 'queued',
  });
  first.setSetting('theme', 'dark');
  first.close();

  const second = openStorage(path);
  assert.deepEqual(second.listAccounts(), [account]);
  assert.deepEqual(
    second.queuedMessages(account.id).map((m) => m.body),
    ['hi'],
  );
  assert.equal(second.getSetting('theme'), 'dark');
  second.close();
});
