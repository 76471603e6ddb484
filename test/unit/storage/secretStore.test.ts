import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chainSecretStores,
  EnvSecretStore,
  FileSecretStore,
  SecretStoreError,
} from '../../../app/storage/secretStore.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hasCode = (code: string) => (e: unknown) => e instanceof SecretStoreError && e.code === code;

test('FileSecretStore creates its file (and directory) with mode 0600 and reads it back', async (t) => {
  const path = join(tempDir(t), 'profile', 'secrets.json');
  const store = new FileSecretStore(path);
  assert.equal(store.kind, 'file');
  assert.equal(await store.get('acc-1', 'alice@example.org'), null, 'no file yet');
  await store.set('acc-1', 'Alice@example.org', 'correct horse');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  assert.equal(await store.get('acc-1', 'alice@example.org'), 'correct horse');
  assert.equal(await new FileSecretStore(path).get('acc-1', 'alice@example.org'), 'correct horse', 'persisted');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), {
    version: 1,
    accounts: { 'acc-1': { jid: 'alice@example.org', password: 'correct horse' } },
  });
});

test('FileSecretStore finds a hand-written entry by JID when the account id is new', async (t) => {
  const path = join(tempDir(t), 'secrets.json');
  writeFileSync(
    path,
    JSON.stringify({ version: 1, accounts: { 'written-by-hand': { jid: 'bob@example.org', password: 'pw' } } }),
    {
      mode: 0o600,
    },
  );
  const store = new FileSecretStore(path);
  assert.equal(await store.get('some-uuid', 'Bob@example.org'), 'pw');
  assert.equal(await store.get('some-uuid', 'carol@example.org'), null);
});

test('FileSecretStore refuses a file that group or others can read, saying how to fix it', async (t) => {
  const path = join(tempDir(t), 'secrets.json');
  writeFileSync(path, JSON.stringify({ version: 1, accounts: {} }));
  chmodSync(path, 0o644);
  const store = new FileSecretStore(path);
  await assert.rejects(
    store.get('acc', 'alice@example.org'),
    (e: unknown) =>
      hasCode('secret-file-permissions')(e) &&
      (e as Error).message.includes(`chmod 600 ${path}`) &&
      (e as Error).message.includes('0644'),
  );
  await assert.rejects(store.set('acc', 'alice@example.org', 'pw'), hasCode('secret-file-permissions'));
  assert.equal(statSync(path).mode & 0o777, 0o644, 'the file is not silently changed');
  chmodSync(path, 0o600);
  assert.equal(await store.get('acc', 'alice@example.org'), null);
});

test('FileSecretStore replaces the file atomically: a reader of the old file sees it whole', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'secrets.json');
  const store = new FileSecretStore(path);
  await store.set('acc-1', 'alice@example.org', 'old');
  const before = readFileSync(path, 'utf8');
  const inode = statSync(path).ino;
  const fd = openSync(path, 'r');
  t.after(() => closeSync(fd));

  await store.set('acc-1', 'alice@example.org', 'new and much longer password');

  // Written in place, the open descriptor would now see the new (or truncated) bytes.
  const buffer = Buffer.alloc(4096);
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  assert.equal(buffer.subarray(0, n).toString('utf8'), before);
  assert.notEqual(statSync(path).ino, inode, 'a new file was renamed into place');
  assert.equal(await store.get('acc-1', 'alice@example.org'), 'new and much longer password');
  assert.deepEqual(readdirSync(dir), ['secrets.json'], 'no temporary file is left behind');
});

test('FileSecretStore serializes concurrent writes so none is lost', async (t) => {
  const path = join(tempDir(t), 'secrets.json');
  const store = new FileSecretStore(path);
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(`acc-${i}`, `user${i}@example.org`, `pw${i}`)));
  for (let i = 0; i < 10; i++) assert.equal(await store.get(`acc-${i}`, `user${i}@example.org`), `pw${i}`);
});

test("FileSecretStore.delete removes the account's entry and other entries for its JID", async (t) => {
  const path = join(tempDir(t), 'secrets.json');
  const store = new FileSecretStore(path);
  await store.set('acc-1', 'alice@example.org', 'a');
  await store.set('old-id', 'alice@example.org', 'a-old');
  await store.set('acc-2', 'bob@example.org', 'b');
  await store.delete('acc-1', 'alice@example.org');
  assert.equal(await store.get('acc-1', 'alice@example.org'), null);
  assert.equal(await store.get('acc-2', 'bob@example.org'), 'b');
  await store.delete('acc-9', 'nobody@example.org');
});

test('FileSecretStore reports a file that is not its format', async (t) => {
  const dir = tempDir(t);
  for (const [name, text] of [
    ['a.json', '{not json'],
    ['b.json', '{"version":2,"accounts":{}}'],
    ['c.json', '{"version":1,"accounts":{"x":{"jid":1}}}'],
  ]) {
    const path = join(dir, name!);
    writeFileSync(path, text!, { mode: 0o600 });
    await assert.rejects(new FileSecretStore(path).get('x', 'alice@example.org'), hasCode('secret-file-invalid'), name);
  }
});

test('EnvSecretStore reads the per-JID variable, else QUIVER_PASSWORD, and is read-only', async () => {
  const env = { QUIVER_PASSWORD: 'default-pw', BOB_PW: 'bob-pw', EMPTY: '' };
  const store = new EnvSecretStore({ env, vars: { 'Bob@example.org': 'BOB_PW', 'carol@example.org': 'EMPTY' } });
  assert.equal(store.kind, 'env');
  assert.equal(await store.get('a', 'alice@example.org'), 'default-pw');
  assert.equal(await store.get('b', 'bob@example.org/phone'), 'bob-pw');
  assert.equal(await store.get('c', 'carol@example.org'), null, 'an empty variable is no password');
  assert.equal(await new EnvSecretStore({ env: {} }).get('a', 'alice@example.org'), null);
  await assert.rejects(
    store.set('b', 'bob@example.org', 'x'),
    (e: unknown) => hasCode('secret-store-read-only')(e) && (e as Error).message.includes('BOB_PW'),
  );
  await assert.rejects(store.delete('b', 'bob@example.org'), hasCode('secret-store-read-only'));
});

test('chainSecretStores reads in order and writes to the first store', async (t) => {
  const file = new FileSecretStore(join(tempDir(t), 'secrets.json'));
  const chain = chainSecretStores(file, new EnvSecretStore({ env: { QUIVER_PASSWORD: 'from-env' } }));
  assert.equal(chain.kind, 'file+env');
  assert.equal(await chain.get('acc', 'alice@example.org'), 'from-env');
  await chain.set('acc', 'alice@example.org', 'from-file');
  assert.equal(await chain.get('acc', 'alice@example.org'), 'from-file');
  await chain.delete('acc', 'alice@example.org');
  assert.equal(await chain.get('acc', 'alice@example.org'), 'from-env');
});
