/**
 * Issue 12: "the database is consistent after `kill -9` at any moment". WAL with synchronous
 * NORMAL (openDatabase.ts) loses nothing a process crash can reach: a transaction that returned
 * is in the WAL file, which the OS keeps after the process dies. A child stores and marks sent a
 * burst of outbox messages (fixtures/outboxBurstChild.ts) and is SIGKILLed mid-burst; the database
 * must then open, pass integrity_check and hold every message the child reported committed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage, openStorage } from '../../../app/storage/storage.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'outboxBurstChild.ts');

/** Runs the child until it reports `count` committed messages, SIGKILLs it; returns what it reported. */
async function burstThenKill(dbPath: string, accountId: string, count: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, [CHILD, dbPath, accountId], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const committed = new Map<string, number>();
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') continue;
    const [id, seq] = line.split(' ');
    committed.set(id!, Number(seq));
    if (committed.size >= count) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
  }
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.ok(killed && signal === 'SIGKILL', `the child ended on its own (code ${code}): ${stderr}`);
  return committed;
}

test('SIGKILL in the middle of an outbox burst leaves a sound database holding every committed message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-outbox-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'quiver.db');
  const setup = openStorage(dbPath);
  const accountId = setup.addAccount({ jid: 'alice@example.org' }).id;
  setup.close();

  const first = await burstThenKill(dbPath, accountId, 300);
  const second = await burstThenKill(dbPath, accountId, 200);

  const db = openDatabase(dbPath);
  const storage = bindStorage(db);
  t.after(() => storage.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  const rows = new Map(
    (db.prepare('SELECT id, state, sm_seq FROM messages').all() as { id: number; state: string; sm_seq: number }[]).map(
      (r) => [String(r.id), r],
    ),
  );
  const missing: string[] = [];
  for (const committed of [first, second]) {
    for (const [id, seq] of committed) {
      const row = rows.get(id);
      if (!row || row.state !== 'sent' || row.sm_seq !== seq) missing.push(id);
    }
  }
  assert.deepEqual(missing, [], `${missing.length} committed messages lost or not marked sent`);
  // Every row is whole: at most the one message in flight at each kill is still 'queued'.
  const queued = [...rows.values()].filter((r) => r.state === 'queued').length;
  assert.ok(queued <= 2, `${queued} messages left queued`);
  // What the outbox resumes with after the crash: the queued one(s) and every 'sent' one.
  assert.equal(storage.pendingMessages(accountId).length, rows.size);
});
