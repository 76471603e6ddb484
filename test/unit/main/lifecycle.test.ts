import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CoreOptions } from '../../../app/core.ts';
import { runMain, type MainElectron, type MainOptions } from '../../../main/lifecycle.ts';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../../main/ipc.ts';
import type { EventEnvelope } from '../../../app/contract/events.ts';
import { createFakeCore, type FakeCore } from '../../e2e/ui/fakeCore.ts';
import {
  FakeBrowserWindow,
  FakeContents,
  FakeEmitter,
  FakeEvent,
  FakeIpcMain,
  FakeSession,
  FakeShell,
} from './fakeElectron.ts';

class FakeApp extends FakeEmitter {
  isPackaged = true;
  lock = true;
  quitCalls = 0;
  exited = false;
  readonly order: string[] = [];
  readonly protocols: string[] = [];
  readonly badges: number[] = [];
  setAsDefaultProtocolClient(protocol: string): boolean {
    this.protocols.push(protocol);
    return true;
  }
  setBadgeCount(count = 0): boolean {
    this.badges.push(count);
    return true;
  }
  requestSingleInstanceLock(): boolean {
    this.order.push('lock');
    return this.lock;
  }
  async whenReady(): Promise<void> {
    this.order.push('ready');
  }
  getPath(name: 'userData'): string {
    assert.equal(name, 'userData');
    return '/home/u/.config/Quiver';
  }
  /** Like Electron: emits before-quit; the app exits unless a listener prevented it. */
  quit(): void {
    this.quitCalls++;
    const event = new FakeEvent();
    this.fire('before-quit', event);
    if (!event.prevented) this.exited = true;
  }
}

function setUp(lock = true) {
  FakeBrowserWindow.created = [];
  const app = new FakeApp();
  app.lock = lock;
  const schemes: string[] = [];
  const handled: string[] = [];
  const electron = {
    app,
    protocol: {
      registerSchemesAsPrivileged: (list: Array<{ scheme: string }>) => {
        app.order.push('registerSchemes');
        schemes.push(...list.map((s) => s.scheme));
      },
      handle: (scheme: string) => void handled.push(scheme),
    },
    session: { defaultSession: new FakeSession() },
    ipcMain: new FakeIpcMain(),
    safeStorage: {
      isAsyncEncryptionAvailable: async () => true,
      encryptStringAsync: async (s: string) => Buffer.from(s),
      decryptStringAsync: async (b: Buffer) => ({ result: b.toString(), shouldReEncrypt: false }),
    },
    shell: new FakeShell(),
    BrowserWindow: FakeBrowserWindow,
  } satisfies MainElectron;
  let core: FakeCore | null = null;
  let coreOptions: CoreOptions | null = null;
  const options: MainOptions = {
    async createCore(o) {
      app.order.push('createCore');
      coreOptions = o;
      core = createFakeCore();
      return core;
    },
    preloadPath: '/out/preload/preload.cjs',
    rendererDir: '/out/renderer',
    platform: 'linux',
    log: () => undefined,
  };
  return {
    app,
    electron,
    options,
    schemes,
    handled,
    core: () => core,
    coreOptions: () => coreOptions,
  };
}

describe('runMain', () => {
  test('a second instance quits without opening the database', async () => {
    const t = setUp(false);
    assert.equal(await runMain(t.electron, t.options), null);
    assert.equal(t.app.exited, true);
    assert.equal(t.core(), null);
    assert.deepEqual(t.app.order, ['registerSchemes', 'lock']);
  });

  test('starts: app:// registered before ready, core in userData with safeStorage, one hardened window', async () => {
    const t = setUp();
    const running = await runMain(t.electron, t.options);
    assert.ok(running);
    assert.deepEqual(t.app.order, ['registerSchemes', 'lock', 'ready', 'createCore']);
    assert.deepEqual(t.schemes, ['app']);
    assert.deepEqual(t.handled, ['app']);
    assert.equal(t.coreOptions()?.dataDir, '/home/u/.config/Quiver');
    const secrets = t.coreOptions()?.secrets;
    const blobs = { getPasswordBlob: () => null, setPasswordBlob: () => undefined };
    assert.equal(typeof secrets === 'function' ? secrets(blobs as never).kind : secrets?.kind, 'safeStorage');
    assert.equal(FakeBrowserWindow.created.length, 1);
    const window = FakeBrowserWindow.created[0]!;
    assert.equal(window.loaded, 'app://quiver/index.html');
    assert.equal(window.options.webPreferences?.sandbox, true);
    assert.ok(t.electron.ipcMain.handlers.has(INVOKE_CHANNEL));
    assert.ok(t.electron.session.defaultSession.headersListener);
  });

  test('every WebContents created later is policed too', async () => {
    const t = setUp();
    await runMain(t.electron, t.options);
    const stray = new FakeContents();
    t.app.fire('web-contents-created', {}, stray);
    assert.deepEqual(stray.windowOpenHandler?.({ url: 'https://example.org/' }), { action: 'deny' });
    const event = new FakeEvent();
    stray.fire('will-attach-webview', event);
    assert.equal(event.prevented, true);
  });

  test('a second launch focuses the existing window', async () => {
    const t = setUp();
    await runMain(t.electron, t.options);
    const window = FakeBrowserWindow.created[0]!;
    window.minimized = true;
    t.app.fire('second-instance', {}, ['/usr/bin/quiver']);
    assert.equal(window.minimized, false);
    assert.equal(window.focused, true);
  });

  test('quitting waits for the core to close, then quits once', async () => {
    const t = setUp();
    const running = await runMain(t.electron, t.options);
    assert.ok(running);
    t.app.fire('window-all-closed');
    assert.equal(t.app.exited, false, 'the first quit is held until the core closed');
    t.app.quit();
    await running.closed;
    assert.equal(t.core()?.closed, true);
    assert.equal(t.electron.ipcMain.handlers.size, 0);
    assert.equal(t.app.exited, true);
  });

  test('registers as the xmpp: handler; a link from argv, a second instance or open-url reaches the loaded window', async () => {
    const t = setUp();
    const logged: string[] = [];
    await runMain(t.electron, {
      ...t.options,
      argv: ['/usr/bin/quiver', '--no-sandbox', 'xmpp:romeo@montague.net?message;body=hi'],
      log: (message) => logged.push(message),
    });
    assert.deepEqual(t.app.protocols, ['xmpp']);
    const window = FakeBrowserWindow.created[0]!;
    const opened = () =>
      window.webContents.sent
        .filter((m) => m.channel === EVENT_CHANNEL && (m.args[0] as EventEnvelope).name === 'uri.opened')
        .map((m) => (m.args[0] as Extract<EventEnvelope, { name: 'uri.opened' }>).payload.target.jid);
    // Before the page has loaded it could not hear the event: held.
    const event = new FakeEvent();
    t.app.fire('open-url', event, 'xmpp:juliet@capulet.lit');
    assert.equal(event.prevented, true);
    assert.deepEqual(opened(), []);
    window.webContents.fire('did-finish-load');
    assert.deepEqual(opened(), ['romeo@montague.net', 'juliet@capulet.lit']);
    window.minimized = true;
    t.app.fire('second-instance', {}, ['/usr/bin/quiver', 'XMPP:nurse@capulet.lit/balcony']);
    assert.deepEqual(opened(), ['romeo@montague.net', 'juliet@capulet.lit', 'nurse@capulet.lit']);
    assert.equal(window.minimized, false);
    // Hostile input is logged and dropped; an xmpp: link the page tries to follow opens inside.
    t.app.fire('second-instance', {}, ['/usr/bin/quiver', 'xmpp:%00@x']);
    assert.ok(logged.some((line) => /ignored an xmpp: link/.test(line)));
    const navigation = new FakeEvent();
    window.webContents.fire('will-navigate', navigation, 'xmpp:tybalt@capulet.lit');
    assert.equal(navigation.prevented, true);
    assert.deepEqual(window.webContents.windowOpenHandler?.({ url: 'xmpp:mercutio@verona.lit' }), { action: 'deny' });
    assert.deepEqual(opened().slice(3), ['tybalt@capulet.lit', 'mercutio@verona.lit']);
    assert.deepEqual((t.electron.shell as FakeShell).opened, []);
  });

  test('the unread count in the title becomes the app badge', async () => {
    const t = setUp();
    await runMain(t.electron, t.options);
    const window = FakeBrowserWindow.created[0]!;
    for (const title of ['(3) Quiver', '(3) Quiver', '(12) Quiver', 'Quiver', '(99999999) Quiver', '(2) Evil'])
      window.fire('page-title-updated', new FakeEvent(), title);
    assert.deepEqual(t.app.badges, [3, 12, 0]);
  });

  test('an unpackaged (development) app does not register the bare Electron for xmpp: links', async () => {
    const t = setUp();
    t.app.isPackaged = false;
    await runMain(t.electron, t.options);
    assert.deepEqual(t.app.protocols, []);
  });

  test('the dev server URL is loaded and trusted in development', async () => {
    const t = setUp();
    await runMain(t.electron, { ...t.options, devServerUrl: 'http://localhost:5173/' });
    const window = FakeBrowserWindow.created[0]!;
    assert.equal(window.loaded, 'http://localhost:5173/');
    const result = await t.electron.ipcMain.invoke(
      INVOKE_CHANNEL,
      { sender: window.webContents, senderFrame: { url: 'http://localhost:5173/', parent: null } },
      'account.list',
      {},
    );
    assert.deepEqual(result, { ok: true, value: [] });
  });
});
