import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { APP_ENTRY_URL } from '../../../main/appOrigin.ts';
import {
  appProtocolHandler,
  createMainWindow,
  installSessionPolicy,
  isAllowedExternalUrl,
  policeContents,
  windowContentSecurityPolicy,
} from '../../../main/window.ts';
import { FakeBrowserWindow, FakeContents, FakeEvent, FakeSession, FakeShell } from './fakeElectron.ts';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

describe('createMainWindow', () => {
  let shell: FakeShell;
  let logged: string[];
  let window: FakeBrowserWindow;

  beforeEach(() => {
    shell = new FakeShell();
    logged = [];
    window = createMainWindow(
      { BrowserWindow: FakeBrowserWindow, shell },
      { preloadPath: '/app/out/preload/preload.cjs', url: APP_ENTRY_URL, log: (message) => logged.push(message) },
    );
  });

  test('webPreferences are hardened (checklist #2 #3 #4 #6 #8 #9 #11)', () => {
    const prefs = window.options.webPreferences;
    assert.ok(prefs);
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.experimentalFeatures, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.enableBlinkFeatures, undefined);
    assert.equal(prefs.preload, '/app/out/preload/preload.cjs');
  });

  test('loads the app entry and shows the window once painted', () => {
    assert.equal(window.loaded, 'app://quiver/index.html');
    assert.equal(window.shown, false);
    window.fire('ready-to-show');
    assert.equal(window.shown, true);
  });

  test('navigation is denied; an http(s) link goes to the browser instead (#13)', () => {
    for (const url of [
      'https://example.org/page',
      'app://quiver/other.html',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      const event = new FakeEvent();
      window.webContents.fire('will-navigate', event, url);
      assert.equal(event.prevented, true, url);
    }
    const redirect = new FakeEvent();
    window.webContents.fire('will-redirect', redirect, 'https://evil.example/');
    assert.equal(redirect.prevented, true);
    assert.deepEqual(shell.opened, ['https://example.org/page']);
  });

  test('new windows are denied; only allow-listed URLs reach openExternal (#14 #15)', () => {
    const handler = window.webContents.windowOpenHandler;
    assert.ok(handler);
    for (const url of [
      'https://xmpp.org/',
      'file:///etc/passwd',
      'smb://host/share',
      'http://user:pw@host/',
      'about:blank',
    ]) {
      assert.deepEqual(handler({ url }), { action: 'deny' }, url);
    }
    assert.deepEqual(shell.opened, ['https://xmpp.org/']);
    assert.equal(logged.filter((line) => line.startsWith('refused to open')).length, 4);
  });

  test('<webview> attachment is denied (#12)', () => {
    const event = new FakeEvent();
    window.webContents.fire('will-attach-webview', event, {}, {});
    assert.equal(event.prevented, true);
  });

  test('policing the same contents twice does not open a link twice', () => {
    policeContents(
      window.webContents,
      (url) => shell.openExternal(url),
      () => undefined,
    );
    window.webContents.fire('will-navigate', new FakeEvent(), 'https://example.org/');
    assert.deepEqual(shell.opened, ['https://example.org/']);
    const other = new FakeContents();
    policeContents(
      other,
      (url) => shell.openExternal(url),
      () => undefined,
    );
    assert.deepEqual(other.windowOpenHandler?.({ url: 'https://a.example/' }), { action: 'deny' });
  });
});

describe('isAllowedExternalUrl', () => {
  test('allows http(s) with a host and no credentials only', () => {
    assert.equal(isAllowedExternalUrl('https://example.org/x?y#z'), true);
    assert.equal(isAllowedExternalUrl('http://example.org'), true);
    for (const url of [
      'file:///x',
      'javascript:alert(1)',
      'xmpp:a@b',
      'https://u:p@example.org/',
      'not a url',
      'data:text/html,x',
      'vbscript:x',
    ]) {
      assert.equal(isAllowedExternalUrl(url), false, url);
    }
  });
});

describe('installSessionPolicy', () => {
  let session: FakeSession;
  let logged: string[];

  beforeEach(() => {
    session = new FakeSession();
    logged = [];
    installSessionPolicy(session, {
      csp: CSP,
      allowedOrigins: ['app://quiver'],
      log: (message) => logged.push(message),
    });
  });

  test('a permission request or check without the app origin is denied (#5)', () => {
    const answers: boolean[] = [];
    for (const permission of ['media', 'notifications', 'geolocation', 'openExternal', 'clipboard-read']) {
      session.requestHandler?.({}, permission, (granted) => answers.push(granted));
      assert.equal(session.checkHandler?.({}, permission), false);
    }
    assert.deepEqual(answers, [false, false, false, false, false]);
  });

  test('notifications, and nothing else, are granted to the app origin only (#5)', () => {
    const answers: boolean[] = [];
    const ask = (permission: string, url: string) =>
      session.requestHandler?.({}, permission, (granted) => answers.push(granted), { requestingUrl: url });
    ask('notifications', 'app://quiver/index.html');
    ask('notifications', 'https://evil.example/');
    ask('media', 'app://quiver/index.html');
    ask('geolocation', 'app://quiver/index.html');
    assert.deepEqual(answers, [true, false, false, false]);
    assert.equal(session.checkHandler?.({}, 'notifications', 'app://quiver'), true);
    assert.equal(session.checkHandler?.({}, 'notifications', 'https://evil.example'), false);
    assert.equal(session.checkHandler?.({}, 'clipboard-read', 'app://quiver'), false);
  });

  test('the CSP is set as a response header and replaces any other (#7)', () => {
    let response: { responseHeaders?: Record<string, string[]> } | undefined;
    session.headersListener?.(
      {
        url: 'app://quiver/index.html',
        responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] },
      },
      (r) => (response = r),
    );
    assert.deepEqual(response?.responseHeaders, { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CSP] });
  });

  test('requests outside the app origin are cancelled (#1)', () => {
    const answer = (url: string) => {
      let result: { cancel?: boolean } | undefined;
      session.beforeRequestListener?.({ url }, (r) => (result = r));
      return result?.cancel === true;
    };
    assert.equal(answer('app://quiver/assets/index.js'), false);
    assert.equal(answer('devtools://devtools/bundled/x.js'), false);
    assert.equal(answer('https://tracker.example/pixel.png'), true);
    assert.equal(answer('app://other/x'), true);
    assert.equal(answer('file:///etc/passwd'), true);
  });
});

describe('windowContentSecurityPolicy', () => {
  test('is the house CSP, with the dev server socket only in development', () => {
    assert.equal(windowContentSecurityPolicy(), CSP);
    assert.match(windowContentSecurityPolicy('http://localhost:5173/'), /connect-src 'self' ws:\/\/localhost:5173;/);
  });
});

describe('appProtocolHandler', () => {
  let dir: string;
  let handler: (request: Request) => Promise<Response>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quiver-protocol-'));
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html>');
    await writeFile(join(dir, 'renderer', 'assets', 'index.css'), 'body{}');
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await symlink(join(dir, 'secret.txt'), join(dir, 'renderer', 'link.txt'));
    handler = appProtocolHandler(join(dir, 'renderer'), CSP);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('serves the renderer with its content type, the CSP and nosniff', async () => {
    const response = await handler(new Request('app://quiver/assets/index.css'));
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'body{}');
    assert.equal(response.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(response.headers.get('content-security-policy'), CSP);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await handler(new Request('app://quiver/'))).status, 200);
  });

  test('refuses traversal, symlinks out, other hosts and directories', async () => {
    for (const url of [
      'app://quiver/%2e%2e/secret.txt',
      'app://quiver/..%2fsecret.txt',
      'app://quiver/link.txt',
      'app://evil/index.html',
      'app://quiver/assets',
    ]) {
      const response = await handler(new Request(url));
      assert.equal(response.status, 404, url);
      assert.doesNotMatch(await response.text(), /secret/, url);
    }
  });
});
