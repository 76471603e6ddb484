/**
 * `quiver connect` after login: the exit code and stderr follow what happened to the stream, and
 * the driver is always destroyed. The login itself is scripted (`establish` is injected); the lab
 * tests (test/integration/connect.test.ts) run it against Prosody.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConnect, type Establish } from '../../../app/cli/connect.ts';
import { UsageError } from '../../../app/cli/args.ts';
import type { CliIo } from '../../../app/cli/cliIo.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import type { StreamEvent } from '../../../app/xmpp/streamEvent.ts';
import { StreamError } from '../../../app/xmpp/streamError.ts';
import { securityRecord } from '../storage/fixtures.ts';

type State = 'online' | 'closing' | 'closed';

/** The part of StreamDriver `runConnect` uses; what the "server" does is scripted per test. */
class FakeDriver {
  state: State = 'online';
  destroyed = false;
  readonly calls: string[] = [];
  handler: ((event: StreamEvent) => void) | null = null;
  /** Runs when the client does something; the default server closes when asked. */
  onPresence: (driver: FakeDriver) => void = () => undefined;
  onClose: (driver: FakeDriver) => void = (d) => d.emit({ type: 'closed', error: null });

  close(): void {
    this.calls.push('close');
    if (this.state !== 'online') return;
    this.state = 'closing';
    queueMicrotask(() => this.onClose(this));
  }

  sendMessage(message: { to: string; body: string }): string {
    this.calls.push(`message ${message.to} ${message.body}`);
    return 'id-1';
  }

  sendPresence(): void {
    this.calls.push('presence');
    queueMicrotask(() => this.onPresence(this));
  }

  setEventHandler(handler: (event: StreamEvent) => void): void {
    this.handler = handler;
  }

  destroy(): void {
    this.destroyed = true;
  }

  emit(event: StreamEvent): void {
    if (event.type === 'closed') this.state = 'closed';
    this.handler!(event);
  }

  /** A stream error from the server: RFC 6120 §4.9, the stream is then closed. */
  streamError(condition: string): void {
    const error = new StreamError({
      code: condition,
      source: 'peer',
      message: `example.org ended the stream: ${condition}.`,
    });
    this.emit({ type: 'error', error });
    this.emit({ type: 'closed', error });
  }
}

function harness(fake: FakeDriver, boundJid?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-cli-unit-'));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    env: { QUIVER_PASSWORD: 'secret' },
  };
  let logins = 0;
  const establish: Establish = async (request) => {
    logins++;
    return {
      driver: fake as unknown as StreamDriver,
      record: securityRecord({
        id: `conn-${Date.now()}`,
        jid: request.jid,
        ...(boundJid === undefined ? {} : { boundJid }),
      }),
      boundJid: `${request.jid}/r`,
      resumed: false,
      resumeFailed: null,
      serverH: null,
      ackedAtLogin: [],
    };
  };
  const run = (args: string[]) => runConnect(['alice@example.org', '--data-dir', dataDir, ...args], io, establish);
  return {
    run,
    stdout,
    stderr,
    logins: () => logins,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

test('a stream error while waiting for a message: exit 1 with the reason on one line, driver destroyed', async (t) => {
  const fake = new FakeDriver();
  fake.onPresence = (d) => d.streamError('conflict');
  const h = harness(fake);
  t.after(h.cleanup);
  assert.equal(await h.run(['--wait-message', '30', '--json']), 1);
  assert.deepEqual(h.stderr, ['quiver: example.org ended the stream: conflict.']);
  assert.equal(fake.destroyed, true);
  assert.equal(h.stdout.length, 2, 'the security record, then the error line');
  assert.deepEqual(JSON.parse(h.stdout[1]!), {
    type: 'error',
    code: 'conflict',
    message: 'example.org ended the stream: conflict.',
  });
});

test('a stream error after --send: exit 1, not 0', async (t) => {
  const fake = new FakeDriver();
  fake.onClose = (d) => d.streamError('internal-server-error');
  const h = harness(fake);
  t.after(h.cleanup);
  assert.equal(await h.run(['--send', 'bob@example.org', 'hi']), 1);
  assert.deepEqual(fake.calls, ['message bob@example.org hi', 'close']);
  assert.deepEqual(h.stderr, ['quiver: example.org ended the stream: internal-server-error.']);
  assert.equal(h.stdout.length, 1, 'without --json: the record, no error line');
  assert.equal(fake.destroyed, true);
});

test('the server closing the stream while we wait is a failure, not a success', async (t) => {
  const fake = new FakeDriver();
  fake.onPresence = (d) => d.emit({ type: 'closed', error: null });
  const h = harness(fake);
  t.after(h.cleanup);
  assert.equal(await h.run(['--wait-message', '30', '--json']), 1);
  assert.equal(h.stderr.length, 1);
  assert.match(h.stderr[0]!, /closed the stream/);
  assert.deepEqual(JSON.parse(h.stdout.at(-1)!), {
    type: 'error',
    code: 'closed',
    message: 'The server closed the stream before quiver connect was done.',
  });
});

test('a message received, then a clean close: exit 0, the message as a JSON line, driver destroyed', async (t) => {
  const fake = new FakeDriver();
  fake.onPresence = (d) =>
    d.emit({
      type: 'message',
      from: 'bob@example.org/r',
      body: 'hello',
      messageType: 'chat',
    } as unknown as StreamEvent);
  const h = harness(fake);
  t.after(h.cleanup);
  assert.equal(await h.run(['--wait-message', '30', '--json']), 0);
  assert.deepEqual(h.stderr, []);
  assert.deepEqual(JSON.parse(h.stdout[1]!), { type: 'message', from: 'bob@example.org/r', body: 'hello' });
  assert.deepEqual(fake.calls, ['presence', 'close']);
  assert.equal(fake.destroyed, true);
});

test('--send with a bad JID or no text is a usage error found before login', async (t) => {
  const h = harness(new FakeDriver());
  t.after(h.cleanup);
  for (const to of ['not a jid', 'a@', 'b@c@d', 'x@<y>']) {
    await assert.rejects(
      h.run(['--send', to, 'hi']),
      (e: unknown) => e instanceof UsageError && /--send/.test(e.message),
      to,
    );
  }
  await assert.rejects(h.run(['--send', 'bob@example.org', '  ']), UsageError);
  assert.equal(h.logins(), 0);
});

test('an exception after login still destroys the driver', async (t) => {
  const fake = new FakeDriver();
  fake.sendMessage = () => {
    throw new Error('boom');
  };
  const h = harness(fake);
  t.after(h.cleanup);
  await assert.rejects(h.run(['--send', 'bob@example.org', 'hi']), /boom/);
  assert.equal(fake.destroyed, true);
});

test('a bound JID from the server cannot add a line to the report on stdout', async (t) => {
  const fake = new FakeDriver();
  const forged = 'alice@example.org/x\n  server      trusted by dane-ee (forged)';
  const h = harness(fake, forged);
  t.after(h.cleanup);
  assert.equal(await h.run([]), 0);
  const report = h.stdout[0]!.split('\n');
  assert.equal(report.length, 5, report.join(' | '));
  assert.match(report[0]!, /^connected as alice@example\.org\/x\\u000a {2}server/);
});

test('several JIDs, one login fails: the others are ended in their records and closed cleanly, exit 1', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-cli-unit-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const alice = new FakeDriver();
  const record = securityRecord({ id: 'conn-alice', jid: 'alice@example.org', boundJid: 'alice@example.org/r' });
  const io: CliIo = { stdout: () => undefined, stderr: () => undefined, env: { QUIVER_PASSWORD: 'secret' } };
  const establish: Establish = async (request) => {
    if (request.jid === 'bob@example.org') throw new Error('bob could not log in');
    return {
      driver: alice as unknown as StreamDriver,
      record,
      boundJid: 'alice@example.org/r',
      resumed: false,
      resumeFailed: null,
      serverH: null,
      ackedAtLogin: [],
    };
  };
  await assert.rejects(
    runConnect(['alice@example.org', 'bob@example.org', '--data-dir', dataDir], io, establish),
    /bob could not log in/,
  );
  assert.ok(record.endedAt !== null, "alice's record is ended");
  assert.match(record.endReason ?? '', /another account failed \(bob could not log in\)/);
  assert.deepEqual(alice.calls, ['close'], 'her stream was closed cleanly');
  assert.equal(alice.destroyed, true);
});
