/**
 * The send jobs of `quiver connect --send-file` (app/storage/sendJobs.ts, migration 0011): a job is
 * enqueued once per database, all of it or nothing, and its messages are followed in file order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { bindStorage } from '../../../app/storage/storage.ts';
import { migrate } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { parseSendFile, readSendFile } from '../../../app/cli/sendFile.ts';

const SHA = 'ab'.repeat(32);

function setup() {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  const storage = bindStorage(db);
  const alice = storage.addAccount({ jid: 'alice@example.org' });
  return { db, storage, alice };
}

test('a job is enqueued once: the same file to the same JID again adds nothing', () => {
  const { storage, alice } = setup();
  const job = { accountId: alice.id, to: 'Bob@Example.org/phone', fileSha256: SHA, bodies: ['1', '2', '3'], now: 5 };
  const first = storage.enqueueSendJob(job);
  assert.equal(first.created, true);
  assert.equal(first.count, 3);
  const again = storage.enqueueSendJob({ ...job, to: 'bob@example.org' });
  assert.deepEqual(again, { jobId: first.jobId, created: false, count: 3 });
  const queued = storage.queuedMessages(alice.id);
  assert.deepEqual(
    queued.map((m) => [m.peer, m.body, m.state]),
    [
      ['bob@example.org', '1', 'queued'],
      ['bob@example.org', '2', 'queued'],
      ['bob@example.org', '3', 'queued'],
    ],
  );
  assert.equal(new Set(queued.map((m) => m.stanzaId)).size, 3, 'a fresh stanza id each');
  assert.deepEqual(
    storage.sendJobMessages(first.jobId).map((m) => m.messageId),
    queued.map((m) => m.id),
  );
  // Another recipient is another job.
  assert.equal(storage.enqueueSendJob({ ...job, to: 'carol@example.org' }).created, true);
});

test("the job's states follow its messages, with a failed one's reason", () => {
  const { storage, alice } = setup();
  const { jobId } = storage.enqueueSendJob({
    accountId: alice.id,
    to: 'bob@example.org',
    fileSha256: SHA,
    bodies: ['a', 'b'],
    now: 1,
  });
  const [a, b] = storage.queuedMessages(alice.id);
  storage.setMessageState(a!.id, 'acked');
  storage.setMessageState(b!.id, 'failed', 'refused');
  assert.deepEqual(storage.sendJobMessages(jobId), [
    { messageId: a!.id, state: 'acked', error: null },
    { messageId: b!.id, state: 'failed', error: 'refused' },
  ]);
});

test('all or nothing: a message that cannot be stored leaves no job row and no message', () => {
  const { db, storage, alice } = setup();
  db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.body = 'boom'
           BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  assert.throws(
    () =>
      storage.enqueueSendJob({
        accountId: alice.id,
        to: 'bob@example.org',
        fileSha256: SHA,
        bodies: ['ok', 'boom'],
        now: 1,
      }),
    /disk full/,
  );
  assert.equal(storage.queuedMessages(alice.id).length, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM cli_send_jobs').get() as { n: number }).n, 0);
});

test('incomingMessageCount counts what the account stored, each message once', () => {
  const { storage, alice } = setup();
  const incoming = {
    accountId: alice.id,
    peer: 'bob@example.org',
    direction: 'in' as const,
    body: 'hi',
    stanzaId: null,
    at: 1,
    state: 'received' as const,
    serverId: 's1',
  };
  storage.insertMessage(incoming);
  storage.insertMessage(incoming);
  storage.insertMessage({ ...incoming, serverId: 's2' });
  storage.insertMessage({ ...incoming, direction: 'out', state: 'queued', serverId: null });
  assert.equal(storage.incomingMessageCount(alice.id), 2);
});

test('removing the account removes its jobs (cascade)', () => {
  const { db, storage, alice } = setup();
  storage.enqueueSendJob({ accountId: alice.id, to: 'bob@example.org', fileSha256: SHA, bodies: ['x'], now: 1 });
  storage.removeAccount(alice.id);
  assert.equal((db.prepare('SELECT count(*) AS n FROM cli_send_jobs').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM cli_send_job_messages').get() as { n: number }).n, 0);
});

test('migration 0011 adds the job tables to a database of the previous version, rows intact', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 10));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('a1', 'alice@example.org', 1, 0)`).run();
  assert.deepEqual(migrate(db, migrations.slice(0, 11)), [11]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM cli_send_jobs').get() as { n: number }).n, 0);
  // The storage binds statements of every later migration too: bring the database to the end first.
  migrate(db, migrations);
  const storage = bindStorage(db);
  assert.equal(storage.getAccount('a1')?.jid, 'alice@example.org');
  assert.equal(
    storage.enqueueSendJob({ accountId: 'a1', to: 'b@example.org', fileSha256: SHA, bodies: ['x'], now: 1 }).count,
    1,
  );
  assert.throws(() => db.prepare(`UPDATE cli_send_jobs SET file_sha256 = 'XYZ'`).run(), /CHECK/);
});

test('the send file: LF or CRLF, blank lines skipped, the hash is of the bytes', () => {
  const file = parseSendFile('f', new TextEncoder().encode('first\r\n\r\n\tsecond with tab\n\n'));
  assert.deepEqual(file.bodies, ['first', '\tsecond with tab']);
  assert.equal(file.sha256, parseSendFile('g', new TextEncoder().encode('first\r\n\r\n\tsecond with tab\n\n')).sha256);
  assert.notEqual(file.sha256, parseSendFile('h', new TextEncoder().encode('first\nsecond with tab\n')).sha256);
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
});

test('a --send-file that never ends (/dev/zero) is refused after the limit, not read whole', () => {
  assert.throws(() => readSendFile('/dev/zero'), /larger than 16 MiB/);
  assert.throws(() => readSendFile('/'), /cannot read the --send-file/);
});
