/**
 * StreamDriver with a scripted machine: events that arrive with `online` wait for the next owner,
 * and a handler that throws closes the stream instead of escaping into the socket callback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamDriver } from '../../../app/connect/streamDriver.ts';
import { createMemoryPair } from '../../../app/transport/memoryPair.ts';
import type { ClientStreamMachine, StreamEvent } from '../../../app/xmpp/streamMachine.ts';

/** Just enough of ClientStreamMachine: a queue of events, no bytes. */
function scriptedMachine(events: StreamEvent[]) {
  const machine = {
    state: 'idle' as string,
    closed: 0,
    start() {},
    handleBytes() {},
    handleTransportClosed() {},
    handleTimeout() {},
    pollTransmit: () => undefined,
    pollTimeout: () => undefined,
    pollEvent(): StreamEvent | undefined {
      const event = events.shift();
      if (event?.type === 'online') machine.state = 'online';
      return event;
    },
    close() {
      machine.closed++;
      machine.state = 'closing';
    },
  };
  return machine;
}

const message = (body: string): StreamEvent =>
  ({
    type: 'message',
    from: 'bob@example.org/x',
    to: 'alice@example.org/y',
    id: body,
    messageType: 'chat',
    body,
  }) as StreamEvent;

test('events after online are held for the next owner, in order', () => {
  const machine = scriptedMachine([
    { type: 'online', jid: 'alice@example.org/y', features: [] },
    message('one'),
    message('two'),
  ]);
  const [a] = createMemoryPair();
  const first: string[] = [];
  const driver = new StreamDriver(machine as unknown as ClientStreamMachine, a, (e) => first.push(e.type));
  driver.start();
  assert.deepEqual(first, ['online']);
  const second: string[] = [];
  driver.setEventHandler((e) => second.push(e.type === 'message' ? (e.body ?? '') : e.type));
  assert.deepEqual(second, ['one', 'two']);
});

test('a handler that throws is reported and the stream is closed, not the process', () => {
  const machine = scriptedMachine([message('bad')]);
  const [a] = createMemoryPair();
  const faults: unknown[] = [];
  const driver = new StreamDriver(
    machine as unknown as ClientStreamMachine,
    a,
    () => {
      throw new Error('cannot store that');
    },
    (fault) => faults.push(fault),
  );
  assert.doesNotThrow(() => driver.start());
  assert.equal(faults.length, 1);
  assert.equal(machine.closed, 1);
});

test('commands flush by themselves: what the machine queued is written without a separate pump', async () => {
  const machine = scriptedMachine([{ type: 'online', jid: 'alice@example.org/y', features: [] }]);
  const queued: Uint8Array[] = [];
  const commands: string[] = [];
  const command = (name: string) => () => {
    commands.push(name);
    queued.push(new TextEncoder().encode(`<${name}/>`));
    return name;
  };
  Object.assign(machine, {
    pollTransmit: () => queued.shift(),
    sendMessage: command('message'),
    sendPresence: command('presence'),
    requestRoster: command('iq'),
  });
  const [a, b] = createMemoryPair();
  const written: string[] = [];
  b.setHandlers({ onData: (chunk) => written.push(new TextDecoder().decode(chunk)), onClose: () => undefined });
  const driver = new StreamDriver(machine as unknown as ClientStreamMachine, a, () => undefined);
  driver.start();
  assert.equal(driver.state, 'online');
  assert.equal(driver.sendMessage({ to: 'bob@example.org', body: 'hi' }), 'message');
  driver.sendPresence();
  assert.equal(driver.requestRoster(), 'iq');
  driver.close();
  assert.deepEqual(queued, [], 'every command was flushed at once');
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.deepEqual(written, ['<message/>', '<presence/>', '<iq/>']);
  assert.deepEqual(commands, ['message', 'presence', 'iq']);
  assert.equal(machine.closed, 1);
  assert.equal(driver.state, 'closing');
});

test('what the machine queues while handing out its last events (an <a h/> of XEP-0198) is written after they were handled, in the same pump', async () => {
  const machine = scriptedMachine([message('one'), message('two')]);
  const queued: Uint8Array[] = [];
  const handled: string[] = [];
  const pollEvent = machine.pollEvent;
  Object.assign(machine, {
    pollTransmit: () => queued.shift(),
    pollEvent(): StreamEvent | undefined {
      const event = pollEvent();
      // The real machine answers an <r/> read after the messages once they were handed out.
      if (event === undefined && queued.length === 0 && handled.length === 2 && !handled.includes('acked')) {
        handled.push('acked');
        queued.push(new TextEncoder().encode(`<a h='2'/>`));
      }
      return event;
    },
  });
  const [a, b] = createMemoryPair();
  const written: string[] = [];
  b.setHandlers({ onData: (chunk) => written.push(new TextDecoder().decode(chunk)), onClose: () => undefined });
  const driver = new StreamDriver(machine as unknown as ClientStreamMachine, a, (e) =>
    handled.push(e.type === 'message' ? (e.body ?? '') : e.type),
  );
  driver.start();
  assert.deepEqual(handled, ['one', 'two', 'acked']);
  assert.deepEqual(queued, [], 'written in the same pump, not left for the next read');
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.deepEqual(written, [`<a h='2'/>`]);
});
