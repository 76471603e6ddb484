/**
 * The hardened main window and the session policy it runs under. Each setting cites its item of
 * the Electron security checklist (https://www.electronjs.org/docs/latest/tutorial/security).
 * Takes the Electron APIs as parameters so tests can pass fakes.
 */
import { readFile, stat } from 'node:fs/promises';
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../app/host/contentSecurityPolicy.ts';
import { contentTypeFor, resolveStaticPath } from '../app/host/staticFiles.ts';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, originOf } from './appOrigin.ts';

/** What we need of a cancellable Electron event. */
export interface PreventableEvent {
  preventDefault(): void;
}

/** The part of `WebContents` the window policy uses. */
export interface PolicedContents {
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-attach-webview',
    listener: (event: PreventableEvent, url: string) => void,
  ): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

export interface HardenedWindow {
  readonly webContents: PolicedContents;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
}

export interface WindowElectron {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => HardenedWindow;
  shell: { openExternal(url: string): Promise<void> };
}

export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details?: { requestingUrl?: string },
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (webContents: unknown, permission: string, requestingOrigin?: string) => boolean,
  ): void;
  readonly webRequest: {
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[]>; cancel?: boolean }) => void,
      ) => void,
    ): void;
    onBeforeRequest(
      listener: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void,
    ): void;
  };
}

/** The UI's CSP (checklist #7). In development the dev server's HMR socket is allowed too. */
export function windowContentSecurityPolicy(devServerUrl?: string): string {
  if (devServerUrl === undefined) return contentSecurityPolicy();
  const origin = originOf(devServerUrl);
  if (origin === null) throw new TypeError(`not a URL: ${devServerUrl}`);
  return contentSecurityPolicy([origin.replace(/^http/, 'ws')]);
}

/** The renderer's webPreferences; nothing here may be loosened without a security review. */
export function hardenedWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    // #2: no Node.js integration for content, nor in workers or subframes.
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    // #3: the preload's world is isolated from the page's.
    contextIsolation: true,
    // #4: the renderer runs in Chromium's OS-level sandbox.
    sandbox: true,
    // #6: keep the same-origin policy.
    webSecurity: true,
    // #8: no http content inside the app.
    allowRunningInsecureContent: false,
    // #9: no experimental Chromium features; #10: no enableBlinkFeatures (left unset on purpose).
    experimentalFeatures: false,
    // #11/#12: no <webview> at all.
    webviewTag: false,
    // #13: dropping a file or link on the window must not navigate it.
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

/**
 * #15: the only URLs Quiver hands to the desktop: http(s) with a host and no credentials. Anything
 * else (file:, javascript:, custom handlers, smb:) could run or open local things.
 */
export function isAllowedExternalUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return (
    (parsed.protocol === 'https:' || parsed.protocol === 'http:') &&
    parsed.hostname !== '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

const policed = new WeakSet<PolicedContents>();

/**
 * Applies the navigation, new-window and webview policy to one WebContents. Used on our window and,
 * through `web-contents-created`, on any other WebContents that should ever appear.
 */
export function policeContents(
  contents: PolicedContents,
  openExternal: (url: string) => Promise<void>,
  log: (message: string, detail?: unknown) => void,
  openInside: (url: string) => void = () => undefined,
): void {
  // Our window's contents come through here twice (createMainWindow and web-contents-created);
  // twice-registered listeners would open an allowed link twice.
  if (policed.has(contents)) return;
  policed.add(contents);
  const openOutside = (url: string) => {
    // An xmpp: link is Quiver's own business (RFC 5122): the window opens the chat.
    if (/^xmpp:/i.test(url)) {
      openInside(url);
      return;
    }
    if (!isAllowedExternalUrl(url)) {
      log('refused to open a URL outside Quiver', url);
      return;
    }
    openExternal(url).catch((error: unknown) => log('could not open the link in the browser', error));
  };
  // #13: the window never navigates away from the app; an allowed link opens in the browser.
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    openOutside(url);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  // #14: no new windows; an allowed link opens in the browser (#15 via the allow-list).
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  // #12: refuse every <webview> (webviewTag is off too; this also covers a bug that turned it on).
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export interface MainWindowOptions {
  preloadPath: string;
  /** Where an xmpp: link the page tries to follow goes (main/xmppUriHandler.ts). */
  openInside?: (url: string) => void;
  /** APP_ENTRY_URL, or the dev server's URL in development. */
  url: string;
  log: (message: string, detail?: unknown) => void;
}

/** Creates the window, applies the policy, starts loading the UI and shows it once painted. */
export function createMainWindow<W extends HardenedWindow>(
  electron: { BrowserWindow: new (options: BrowserWindowConstructorOptions) => W; shell: WindowElectron['shell'] },
  options: MainWindowOptions,
): W {
  const window = new electron.BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 420,
    title: 'Quiver',
    show: false,
    autoHideMenuBar: true,
    webPreferences: hardenedWebPreferences(options.preloadPath),
  });
  policeContents(window.webContents, (url) => electron.shell.openExternal(url), options.log, options.openInside);
  window.once('ready-to-show', () => window.show());
  window.loadURL(options.url).catch((error: unknown) => options.log(`could not load ${options.url}`, error));
  return window;
}

/**
 * Permissions the app's own pages are given (#5: "deny by default, allow what the app needs"):
 * only desktop notifications for new messages (renderer/src/notifications.ts). Nothing else.
 */
export const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['notifications']);

/**
 * Session-wide policy: deny every permission but notifications for the app's own origins (#5),
 * send the CSP as a header on every response (#7), and load nothing but the app's own origins (#1).
 */
export function installSessionPolicy(
  session: PermissionSession,
  options: { csp: string; allowedOrigins: readonly string[]; log: (message: string, detail?: unknown) => void },
): void {
  // #5: Quiver needs no camera, geolocation, … from the page; only notifications, and only for
  // its own pages.
  const grants = (permission: string, url: string | undefined) => {
    const origin = url === undefined ? null : originOf(url);
    return GRANTED_PERMISSIONS.has(permission) && origin !== null && options.allowedOrigins.includes(origin);
  };
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const granted = grants(permission, details?.requestingUrl);
    if (!granted) options.log('denied a permission request', permission);
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => grants(permission, requestingOrigin));
  // #7: the CSP as a response header, replacing whatever a server sent.
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [options.csp];
    callback({ responseHeaders: headers });
  });
  // #1: only our own content loads; everything the UI needs comes from the core over IPC.
  const allowed = new Set(options.allowedOrigins);
  session.webRequest.onBeforeRequest((details, callback) => {
    const origin = originOf(details.url);
    const ok =
      details.url.startsWith('devtools://') ||
      details.url.startsWith('data:') ||
      (origin !== null && allowed.has(origin));
    if (!ok) options.log('blocked a request outside the app', details.url);
    callback(ok ? {} : { cancel: true });
  });
}

/** The privileges `app://` is registered with before `ready` (#18). */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
} as const;

/**
 * The `app://quiver/` handler: files from the built renderer only, with the CSP (#7) and the other
 * security headers on each response. Register with `protocol.handle(APP_SCHEME, handler)`.
 */
export function appProtocolHandler(rendererDir: string, csp: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const headers = { ...SECURITY_HEADERS, 'Content-Security-Policy': csp };
    if (`${url.protocol}//${url.host}` !== APP_ORIGIN || url.host !== APP_HOST || request.method !== 'GET') {
      return new Response('Not found', { status: 404, headers });
    }
    const file = await resolveStaticPath(rendererDir, url.pathname);
    if (file === null || !(await stat(file)).isFile()) return new Response('Not found', { status: 404, headers });
    const body = await readFile(file);
    return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': contentTypeFor(file) } });
  };
}
