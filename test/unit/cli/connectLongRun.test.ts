/**
 * `quiver connect --db ... [--send-file FILE --to JID] [--expect COUNT]`: argument handling, the
 * once-only enqueue of a file, the exit codes and the lines printed. The live accounts are
 * scripted (a LiveAccounts-like object over the run's real SQLite database): they emit the events
 * the app's LiveAccounts emits and move messages in storage as the app's sessions do. The lab test
 * (test/integration/connectLongRun.test.ts) runs the real sessions against Prosody.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConnect } from '../../../app/cli/connect.ts';
import { UsageError } from '../../../app/cli/args.ts';
import type { CliIo } from '../../../app/cli/cliIo.ts';
import type { LongRunEnv, StopSignal } from '../../../app/cli/connectLongRun.ts';
import type { LiveSessions, SessionDeps } from '../../../app/cli/liveSessions.ts';
import type { AccountStatus, UserError } from '../../../app/contract/viewModels.ts';
import { openStorage, type AccountRow } from '../../../app/storage/storage.ts';
import { securityRecord } from '../storage/fixtures.ts';

/** What the scripted sessions do when an account is started. */
type Script = (fake: FakeSessions, row: AccountRow) => void;

class FakeSessions implements LiveSessions {
  readonly deps: SessionDeps;
  readonly script: Script;
  readonly started: AccountRow[] = [];
  stopped = false;
  #records = 0;

  constructor(deps: SessionDeps, script: Script) {
    this.deps = deps;
    this.script = script;
  }

  start(row: AccountRow): void {
    this.started.push(row);
    queueMicrotask(() => this.script(this, row));
  }

  stopAll(): Promise<void> {
    this.stopped = true;
    for (const row of this.started) this.status(row, 'offline');
    return Promise.resolve();
  }

  status(row: AccountRow, status: AccountStatus, error: UserError | null = null): void {
    this.deps.emit({
      name: 'account.changed',
      payload: {
        account: {
          id: row.id,
          jid: row.jid,
          enabled: true,
          status,
          statusText: status,
          boundJid: status === 'online' ? `${row.jid}/cli` : null,
          error,
          settings: row.settings,
          label: 'cli',
          color: '#2f6fdf',
          order: 0,
          presence: { show: 'available', status: null },
          canBlock: false,
        },
      },
    });
  }

  /** Logs in: the record is saved before and after binding (printed once), then the account is online. */
  online(row: AccountRow): void {
    const record = securityRecord({ id: `conn-${++this.#records}`, accountId: row.id, jid: row.jid, boundJid: null });
    this.deps.emit({ name: 'connection.recorded', payload: { record } });
    this.deps.emit({ name: 'connection.recorded', payload: { record: { ...record, boundJid: `${row.jid}/cli` } } });
    this.status(row, 'online');
  }

  /** Writes up to `limit` queued messages and has the server acknowledge them (XEP-0198). */
  sendAndAck(row: AccountRow, limit = Infinity): void {
    const { storage, emit } = this.deps;
    for (const m of storage.queuedMessages(row.id).slice(0, limit)) {
      emit({ name: 'message.updated', payload: { message: storage.setMessageState(m.id, 'sent') } });
      const acked = storage.setStateByStanzaId(row.id, m.stanzaId, 'acked');
      if (acked) emit({ name: 'message.updated', payload: { message: acked } });
    }
  }

  /** An incoming message, stored as LiveAccounts stores it (a redelivery is stored once, no event). */
  deliver(row: AccountRow, from: string, body: string, serverId: string): void {
    const { message, inserted } = this.deps.storage.insertMessage({
      accountId: row.id,
      peer: from,
      sender: `${from}/phone`,
      direction: 'in',
      body,
      stanzaId: null,
      serverId,
      at: Date.now(),
      state: 'received',
    });
    if (inserted) this.deps.emit({ name: 'message.added', payload: { message } });
  }
}

function harness(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-longrun-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'run.db');
  let stdout: string[] = [];
  let stderr: string[] = [];
  const io: CliIo = {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    env: { QUIVER_PASSWORD: 'secret' },
  };
  let signal: ((s: StopSignal) => void) | null = null;
  let fake: FakeSessions | null = null;
  let closed = 0;
  const run = (args: string[], script: Script) => {
    stdout = [];
    stderr = [];
    fake = null;
    const env: LongRunEnv = {
      openSessions: (deps) => {
        fake = new FakeSessions(deps, script);
        return Promise.resolve({ sessions: fake, close: () => Promise.resolve(void closed++) });
      },
      onSignal: (handler) => {
        signal = handler;
        return () => (signal = null);
      },
    };
    return runConnect([...args, '--db', db], io, undefined, env);
  };
  const file = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return {
    db,
    run,
    file,
    out: () => stdout,
    err: () => stderr,
    json: () => stdout.map((l) => JSON.parse(l) as Record<string, unknown>),
    fake: () => fake,
    signal: (s: StopSignal) => signal!(s),
    hasSignalHandler: () => signal !== null,
    closed: () => closed,
    /** The database after the run: the messages of the first account, oldest first. */
    stored: () => {
      const storage = openStorage(db);
      try {
        const account = storage.getAccountByJid('alice@example.org')!;
        return storage.history(account.id, 'bob@example.org', { limit: 500 });
      } finally {
        storage.close();
      }
    },
  };
}

const online: Script = (fake, row) => fake.online(row);
const onlineAndAck: Script = (fake, row) => {
  fake.online(row);
  fake.sendAndAck(row);
};

test('--send-file: each non-blank line is one message in order; exit 0 once the server stored all; the db is 0600', async (t) => {
  const h = harness(t);
  const file = h.file('lines.txt', 'one\r\n\ntwo\n  \nthree\n');
  const code = await h.run(
    ['alice@example.org', '--send-file', file, '--to', 'bob@example.org', '--json'],
    onlineAndAck,
  );
  assert.equal(code, 0, h.err().join('\n'));
  const lines = h.json();
  assert.deepEqual(lines[0], { type: 'job', to: 'bob@example.org', messages: 3, enqueued: 3 });
  assert.equal(lines.filter((l) => l.transport === 'tls').length, 1, 'the connection record, once');
  assert.deepEqual(lines.at(-1), { type: 'summary', sent: 3, acked: 3, received: 0, reconnects: 0 });
  assert.deepEqual(
    h.stored().map((m) => [m.body, m.state, m.direction]),
    [
      ['one', 'acked', 'out'],
      ['two', 'acked', 'out'],
      ['three', 'acked', 'out'],
    ],
  );
  assert.equal(h.fake()!.stopped, true);
  assert.equal(h.closed(), 1);
  assert.equal(h.hasSignalHandler(), false, 'the signal handlers are removed');
  if (process.platform !== 'win32') assert.equal(statSync(h.db).mode & 0o777, 0o600);
});

test('--send-file: a rerun with the same --db after a kill enqueues nothing again and sends what is left', async (t) => {
  const h = harness(t);
  const file = h.file('lines.txt', 'a\nb\nc\nd\n');
  const args = ['alice@example.org', '--send-file', file, '--to', 'bob@example.org', '--json'];
  // The first run gets two messages acknowledged, then is stopped (as a kill would stop it).
  const first = h.run(args, (fake, row) => {
    fake.online(row);
    fake.sendAndAck(row, 2);
    h.signal('SIGTERM');
  });
  assert.equal(await first, 143);
  assert.deepEqual(h.json().at(-2), { type: 'summary', sent: 2, acked: 2, received: 0, reconnects: 0 });
  assert.equal(h.json().at(-1)!.code, 'interrupted');
  assert.match(h.err().join('\n'), /stopped by SIGTERM/);

  assert.equal(await h.run(args, onlineAndAck), 0, h.err().join('\n'));
  assert.deepEqual(h.json()[0], { type: 'job', to: 'bob@example.org', messages: 4, enqueued: 0 });
  assert.deepEqual(h.json().at(-1), { type: 'summary', sent: 4, acked: 4, received: 0, reconnects: 0 });
  assert.deepEqual(
    h.stored().map((m) => m.body),
    ['a', 'b', 'c', 'd'],
    'each line stored once',
  );

  // Everything is stored by the server already: done without connecting.
  assert.equal(await h.run(args, onlineAndAck), 0);
  assert.equal(h.fake(), null, 'no session was opened');
  assert.equal(h.stored().length, 4);
});

test('--send-file: a message the server refused fails the run with its reason', async (t) => {
  const h = harness(t);
  const file = h.file('lines.txt', 'fine\nrefused\n');
  const code = await h.run(['alice@example.org', '--send-file', file, '--to', 'bob@example.org'], (fake, row) => {
    fake.online(row);
    const { storage, emit } = fake.deps;
    const [ok, bad] = storage.queuedMessages(row.id);
    emit({ name: 'message.updated', payload: { message: storage.setMessageState(ok!.id, 'acked') } });
    emit({
      name: 'message.updated',
      payload: { message: storage.setMessageState(bad!.id, 'failed', 'bob@example.org does not accept messages') },
    });
  });
  assert.equal(code, 1);
  assert.deepEqual(h.err(), [
    'quiver: the server refused message 2 of 2 to bob@example.org: bob@example.org does not accept messages',
  ]);
  assert.equal(h.out().at(-1), 'sent 1, stored by the server 1, received 0, reconnects 0');
});

test('--expect: waits for COUNT distinct messages, prints each once; earlier ones count and are not printed again', async (t) => {
  const h = harness(t);
  const code = await h.run(['alice@example.org', '--expect', '2', '--json'], (fake, row) => {
    fake.online(row);
    fake.deliver(row, 'bob@example.org', 'hello', 'arch-1');
    // The same message again (a redelivery after reconnect, or from the archive): stored once.
    fake.deliver(row, 'bob@example.org', 'hello', 'arch-1');
    fake.status(row, 'connecting', { code: 'closed', message: 'Connection lost: reset' });
    fake.online(row);
    fake.deliver(row, 'bob@example.org', 'again', 'arch-2');
  });
  assert.equal(code, 0, h.err().join('\n'));
  const messages = h.json().filter((l) => l.type === 'message');
  assert.deepEqual(messages, [
    { type: 'message', from: 'bob@example.org', body: 'hello' },
    { type: 'message', from: 'bob@example.org', body: 'again' },
  ]);
  assert.equal(h.json().filter((l) => l.transport === 'tls').length, 2, 'one record per connection');
  assert.deepEqual(h.json().at(-1), { type: 'summary', sent: 0, acked: 0, received: 2, reconnects: 1 });
  assert.deepEqual(h.err(), ['quiver: alice@example.org: Connection lost: reset (reconnecting)']);

  // A rerun expecting 3: the two stored count, only the new one is printed.
  assert.equal(
    await h.run(['alice@example.org', '--expect', '3', '--json'], (fake, row) => {
      fake.online(row);
      fake.deliver(row, 'bob@example.org', 'hello', 'arch-1');
      fake.deliver(row, 'bob@example.org', 'third', 'arch-3');
    }),
    0,
  );
  assert.deepEqual(
    h.json().filter((l) => l.type === 'message'),
    [{ type: 'message', from: 'bob@example.org', body: 'third' }],
  );
  assert.equal(h.json().at(-1)!.received, 3);
});

test('several accounts: messages name the account they came to; each account is started', async (t) => {
  const h = harness(t);
  const code = await h.run(['alice@example.org', 'carol@example.org', '--expect', '2', '--json'], (fake, row) => {
    fake.online(row);
    fake.deliver(row, 'bob@example.org', `to ${row.jid}`, `id-${row.jid}`);
  });
  assert.equal(code, 0, h.err().join('\n'));
  assert.deepEqual(
    h.fake()!.started.map((r) => r.jid),
    ['alice@example.org', 'carol@example.org'],
  );
  assert.deepEqual(
    h
      .json()
      .filter((l) => l.type === 'message')
      .map((l) => [l.to, l.body]),
    [
      ['alice@example.org/cli', 'to alice@example.org'],
      ['carol@example.org/cli', 'to carol@example.org'],
    ],
  );
});

test('--wait-message bounds the run: at the deadline exit 1 saying what was missing', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = harness(t);
  let started!: () => void;
  const isStarted = new Promise<void>((resolve) => (started = resolve));
  const running = h.run(['alice@example.org', '--expect', '5', '--wait-message', '30'], (fake, row) => {
    fake.online(row);
    fake.deliver(row, 'bob@example.org', 'only one', 'x-1');
    started();
  });
  await isStarted;
  t.mock.timers.tick(29_999);
  t.mock.timers.tick(1);
  assert.equal(await running, 1);
  assert.deepEqual(h.err(), [
    'quiver: quiver connect stopped waiting after 30 s: 1 of 5 messages arrived. Run it again with the same --db to go on, or give a longer --wait-message.',
  ]);
  assert.equal(h.fake()!.stopped, true);
});

test('an account that cannot log in without the person (wrong password) fails the run at once', async (t) => {
  const h = harness(t);
  const code = await h.run(['alice@example.org', '--expect', '1'], (fake, row) => {
    fake.status(row, 'connecting');
    fake.status(row, 'error', { code: 'not-authorized', message: 'The server refused the password.' });
  });
  assert.equal(code, 1);
  assert.deepEqual(h.err(), ['quiver: alice@example.org: The server refused the password.']);
});

test('SIGINT stops the sessions, closes the database, exit 130', async (t) => {
  const h = harness(t);
  const code = await h.run(['alice@example.org', '--expect', '1'], (fake, row) => {
    fake.online(row);
    h.signal('SIGINT');
  });
  assert.equal(code, 130);
  assert.equal(h.fake()!.stopped, true);
  assert.equal(h.closed(), 1);
  // Closed: another connection may take the write lock at once.
  const storage = openStorage(h.db);
  storage.close();
});

test('--db alone: done once every account is online', async (t) => {
  const h = harness(t);
  assert.equal(await h.run(['alice@example.org', '--json'], online), 0);
  assert.equal(h.json()[0]!.transport, 'tls');
});

test('usage errors, found before the database is made', async (t) => {
  const h = harness(t);
  const file = h.file('lines.txt', 'x\n');
  const io: CliIo = { stdout: () => undefined, stderr: () => undefined, env: { QUIVER_PASSWORD: 'pw' } };
  const cases: [string[], RegExp][] = [
    [['--expect', '3'], /give --db PATH/],
    [['--send-file', file, '--to', 'bob@example.org'], /give --db PATH/],
    [['--db', h.db, '--send-file', file], /go together/],
    [['--db', h.db, '--to', 'bob@example.org'], /go together/],
    [['--db', h.db, '--send-file', file, '--to', 'bob@example.org/phone'], /bare JID/],
    [['--db', h.db, '--send-file', file, '--to', 'not a jid'], /bare JID/],
    [['--db', h.db, '--expect', '0'], /--expect takes a count/],
    [['--db', h.db, '--expect', '2x'], /--expect takes a count/],
    [['--db', h.db, '--send', 'bob@example.org', 'hi'], /--send-file/],
    [['--db', h.db, '--send-file', h.file('empty.txt', '\n \n'), '--to', 'b@example.org'], /no line to send/],
    [['--db', h.db, '--send-file', h.file('bin.txt', Buffer.from([0x61, 0xff, 0x0a])), '--to', 'b@x.org'], /not UTF-8/],
    [['--db', h.db, '--send-file', h.file('ctl.txt', 'ok\nbell\u0007\n'), '--to', 'b@x.org'], /line 2 .*control/],
    [['--db', h.db, '--send-file', join(h.db, '..', 'missing.txt'), '--to', 'b@x.org'], /cannot read/],
    [['--db', join(h.db, '..', 'no-dir', 'x.db'), '--expect', '1'], /cannot open the --db/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(runConnect(['alice@example.org', ...args], io), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(' ')}: ${String(error)}`);
      assert.match(error.message, message, args.join(' '));
      return true;
    });
  }
  assert.throws(() => statSync(h.db), /ENOENT/, 'no database was made');
});
