import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { connectCore, EVENT_CHANNEL, INVOKE_CHANNEL, type InvokeEvent } from '../../../main/ipc.ts';
import { createFakeCore, type FakeCore } from '../../e2e/ui/fakeCore.ts';
import { FakeContents, FakeIpcMain } from './fakeElectron.ts';

describe('connectCore', () => {
  let ipcMain: FakeIpcMain;
  let contents: FakeContents;
  let core: FakeCore;
  let logged: string[];
  let disconnect: () => void;
  /** An invoke from our window's top-level frame showing the app. */
  let ours: InvokeEvent;

  beforeEach(() => {
    ipcMain = new FakeIpcMain();
    contents = new FakeContents();
    core = createFakeCore();
    logged = [];
    disconnect = connectCore({
      ipcMain,
      contents,
      core,
      appOrigin: 'app://quiver',
      log: (message) => logged.push(message),
    });
    ours = { sender: contents, senderFrame: contents.mainFrame };
  });

  test('a command from our window runs through dispatch', async () => {
    const result = await ipcMain.invoke(INVOKE_CHANNEL, ours, 'account.add', {
      jid: 'alice@example.org',
      password: 'pw',
    });
    // The fake core's AccountView (issue 13 added label, colour, order, presence, …): the fields
    // this test is about are the ones the handler had to produce from the arguments.
    assert.ok(result !== null && typeof result === 'object' && 'ok' in result && result.ok === true);
    const value = (result as unknown as { value: Record<string, unknown> }).value;
    assert.deepEqual(
      { id: value.id, jid: value.jid, enabled: value.enabled, status: value.status, settings: value.settings },
      {
        id: 'a1',
        jid: 'alice@example.org',
        enabled: true,
        status: 'offline',
        settings: { resolver: null, resolverValidates: false, extraCaPem: null, transport: 'auto' },
      },
    );
    assert.deepEqual(core.calls, [{ name: 'account.add', args: { jid: 'alice@example.org', password: 'pw' } }]);
  });

  test('IPC from a foreign frame, another WebContents or a gone frame is refused (#17)', async () => {
    const foreign: InvokeEvent[] = [
      { sender: contents, senderFrame: { url: 'app://quiver/index.html', parent: contents.mainFrame } },
      { sender: contents, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: contents, senderFrame: { url: 'file:///home/u/x.html', parent: null } },
      { sender: contents, senderFrame: { url: 'app://quiver.evil/index.html', parent: null } },
      { sender: new FakeContents(), senderFrame: { url: 'app://quiver/index.html', parent: null } },
      { sender: contents, senderFrame: null },
    ];
    for (const event of foreign) {
      const result = await ipcMain.invoke(INVOKE_CHANNEL, event, 'account.list', {});
      assert.equal(
        (result as { ok: boolean; error?: { code: string } }).error?.code,
        'forbidden-sender',
        JSON.stringify(event.senderFrame),
      );
    }
    assert.deepEqual(core.calls, []);
    assert.equal(logged.filter((line) => line.startsWith('refused quiver:invoke')).length, foreign.length);
  });

  test('invalid arguments are refused before any handler runs', async () => {
    for (const args of [
      { jid: 'no-at-sign', password: 'pw' },
      { jid: 'a@b.example' },
      null,
      'account',
      { jid: 'a@b.example', password: 'pw', extra: 1 },
    ]) {
      const result = (await ipcMain.invoke(INVOKE_CHANNEL, ours, 'account.add', args)) as {
        ok: boolean;
        error?: { code: string };
      };
      assert.equal(result.error?.code, 'invalid-argument', JSON.stringify(args));
    }
    assert.deepEqual(core.calls, []);
  });

  test('an unknown command is refused', async () => {
    for (const name of ['shell.openExternal', '__proto__', 'constructor', 42, undefined]) {
      const result = (await ipcMain.invoke(INVOKE_CHANNEL, ours, name, {})) as {
        ok: boolean;
        error?: { code: string };
      };
      assert.equal(result.error?.code, 'unknown-command', String(name));
    }
    assert.deepEqual(core.calls, []);
  });

  test('a handler error keeps its code; the window gets it as a result', async () => {
    const result = await ipcMain.invoke(INVOKE_CHANNEL, ours, 'account.setEnabled', { accountId: 'a9', enabled: true });
    assert.deepEqual(result, {
      ok: false,
      error: { code: 'not-found', message: 'No account with that id; reload the account list.' },
    });
  });

  test('core events are forwarded to the window, not after it is destroyed', () => {
    core.emit({ name: 'account.removed', payload: { accountId: 'a1' } });
    assert.deepEqual(contents.sent, [
      { channel: EVENT_CHANNEL, args: [{ name: 'account.removed', payload: { accountId: 'a1' } }] },
    ]);
    contents.destroyed = true;
    core.emit({ name: 'account.removed', payload: { accountId: 'a2' } });
    assert.equal(contents.sent.length, 1);
  });

  test('disconnect removes the handler and the subscription', () => {
    disconnect();
    assert.equal(ipcMain.handlers.size, 0);
    assert.equal(core.listenerCount(), 0);
  });
});
