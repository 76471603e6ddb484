/**
 * `quiver connect` long runs against the lab's Prosody (alpha.test, mod_smacks): alice sends a
 * 20-line file with --send-file and exits 0 once the server acknowledged every line; bob with
 * --expect receives each exactly once, in order; a rerun of alice with the same --db enqueues
 * nothing new.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labFromEnv } from '../support/lab.ts';
import { labCliOptions } from '../support/labCli.ts';
import { runQuiver } from '../support/cli.ts';
import { openStorage } from '../../app/storage/storage.ts';

const lab = labFromEnv();
const labOptions = labCliOptions(lab, 'quiver-longrun-');
const pw = (jid: string) => ({ LAB_PASSWORD: lab.users[jid]! });

test('alice sends a 20-line file, bob expects 20: each once, in order; a rerun of alice enqueues nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-longrun-dbs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tag = `run-${Date.now()}`;
  const bodies = Array.from({ length: 20 }, (_, i) => `${tag} line ${i + 1}`);
  const file = join(dir, 'lines.txt');
  writeFileSync(file, `${bodies.join('\n')}\n`);
  const common = () => [...labOptions(), '--password-env', 'LAB_PASSWORD', '--json', '--wait-message', '60'];
  const aliceArgs = () => [
    'connect',
    'alice@alpha.test',
    '--db',
    join(dir, 'alice.db'),
    '--send-file',
    file,
    '--to',
    'bob@alpha.test',
    ...common(),
  ];

  // Bob waits while Alice sends (which starts first does not matter: Prosody keeps messages for an
  // offline bob). Messages to bob from earlier tests of the same lab may be stored first and count
  // toward --expect: then bob runs again with the same --db, expecting as many more as are missing,
  // and prints only the new ones (bounded: at most 3 runs).
  const bobRun = (expect: number) =>
    runQuiver(
      ['connect', 'bob@alpha.test', '--db', join(dir, 'bob.db'), '--expect', String(expect), ...common()],
      pw('bob@alpha.test'),
      90_000,
    );
  const firstBob = bobRun(20);
  const alice = await runQuiver(aliceArgs(), pw('alice@alpha.test'), 90_000);
  assert.equal(alice.code, 0, alice.stderr);
  assert.deepEqual(
    alice.json.find((l) => l.type === 'job'),
    { type: 'job', to: 'bob@alpha.test', messages: 20, enqueued: 20 },
  );
  const aliceSummary = alice.json.at(-1)!;
  assert.equal(aliceSummary.type, 'summary');
  assert.equal(aliceSummary.acked, 20);
  assert.ok(alice.json.some((l) => l.boundJid !== undefined && String(l.boundJid).startsWith('alice@alpha.test/')));

  const seen: string[] = [];
  let bob = await firstBob;
  for (let runs = 1; ; runs++) {
    assert.equal(bob.code, 0, bob.stderr);
    for (const line of bob.json)
      if (line.type === 'message' && String(line.body).startsWith(tag)) {
        assert.match(String(line.from), /^alice@alpha\.test(\/|$)/);
        seen.push(String(line.body));
      }
    const received = Number(bob.json.at(-1)!.received);
    if (seen.length >= 20 || runs === 3) break;
    bob = await bobRun(received + (20 - seen.length));
  }
  assert.deepEqual(seen, bodies, 'each line once, in order');

  // The same file to the same JID with the same --db: nothing new is queued, and it is done.
  const again = await runQuiver(aliceArgs(), pw('alice@alpha.test'), 90_000);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    again.json.find((l) => l.type === 'job'),
    { type: 'job', to: 'bob@alpha.test', messages: 20, enqueued: 0 },
  );
  const storage = openStorage(join(dir, 'alice.db'));
  try {
    const account = storage.getAccountByJid('alice@alpha.test')!;
    const stored = storage.history(account.id, 'bob@alpha.test', { limit: 100 });
    assert.deepEqual(
      stored.map((m) => m.body),
      bodies,
    );
    assert.ok(
      stored.every((m) => ['acked', 'delivered'].includes(m.state)),
      stored.map((m) => m.state).join(','),
    );
  } finally {
    storage.close();
  }
});
