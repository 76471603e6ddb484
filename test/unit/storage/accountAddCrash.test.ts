/**
 * `kill -9` in the middle of adding accounts must never leave an account without its password:
 * the account and its secret are stored together or not at all. A child process adds accounts in
 * a loop through the core (accountAddChild.ts); it is SIGKILLed after a random number of them,
 * while the next one is in flight, 20 times over the same data directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { openProfile } from '../../../app/storage/openProfile.ts';
import { FileSecretStore } from '../../../app/storage/secretStore.ts';

const CHILD = join(import.meta.dirname, 'accountAddChild.ts');
const ROUNDS = 20;

/** Starts the child, waits until it has added `count` accounts, SIGKILLs it; resolves how many it added. */
async function addThenKill(dataDir: string, prefix: string, count: number): Promise<number> {
  const child = spawn(process.execPath, [CHILD, dataDir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  let added = 0;
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line !== 'ready') added++;
    if (line === 'ready' ? count === 0 : added >= count) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
  }
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.ok(killed && signal === 'SIGKILL', `the child ended on its own (code ${code}): ${stderr}`);
  return added;
}

test('after SIGKILL at random points while adding accounts, every account has its password', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-add-crash-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let added = 0;
  for (let round = 0; round < ROUNDS; round++) {
    added += await addThenKill(dataDir, `r${round}`, Math.floor(Math.random() * 4));
  }
  const storage = openProfile(dataDir);
  t.after(() => storage.close());
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const accounts = storage.listAccounts();
  const withoutPassword: string[] = [];
  for (const row of accounts) if ((await secrets.get(row.id, row.jid)) === null) withoutPassword.push(row.jid);
  assert.ok(accounts.length >= added, `${accounts.length} accounts, ${added} reported added`);
  assert.deepEqual(withoutPassword, [], `${withoutPassword.length} of ${accounts.length} accounts have no password`);
});
