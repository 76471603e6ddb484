/**
 * The app's life: single instance, the privileged `app://` scheme, the session policy, the core,
 * the window and the IPC bridge, and a clean shutdown (the core closes its streams and the
 * database before the process ends). Takes Electron's APIs as a parameter so tests can drive it.
 */
import type { CoreOptions, QuiverCore } from '../app/core.ts';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, originOf } from './appOrigin.ts';
import { connectCore, type IpcMainLike, type IpcWindowContents } from './ipc.ts';
import { SafeStorageSecretStore, type PasswordBlobStore, type SafeStorageLike } from './safeStorageSecretStore.ts';
import {
  APP_SCHEME_PRIVILEGES,
  appProtocolHandler,
  createMainWindow,
  installSessionPolicy,
  policeContents,
  windowContentSecurityPolicy,
  type HardenedWindow,
  type PermissionSession,
  type PolicedContents,
  type PreventableEvent,
  type WindowElectron,
} from './window.ts';
import type { BrowserWindowConstructorOptions } from 'electron';
import { badgeFollowsTitle } from './badge.ts';
import { XMPP_PROTOCOL, XmppUriInbox, xmppUriInArgv } from './xmppUriHandler.ts';

export interface MainWindow extends HardenedWindow {
  readonly webContents: PolicedContents &
    IpcWindowContents & { once(event: 'did-finish-load', listener: () => void): unknown };
  isMinimized(): boolean;
  restore(): void;
  focus(): void;
  on(event: 'closed', listener: () => void): unknown;
  on(event: 'page-title-updated', listener: (event: unknown, title: string) => void): unknown;
}

/** The Electron APIs the main process uses; `import * as electron from 'electron'` satisfies it. */
export interface MainElectron {
  app: {
    readonly isPackaged: boolean;
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<unknown>;
    getPath(name: 'userData'): string;
    quit(): void;
    setAsDefaultProtocolClient(protocol: string): boolean;
    setBadgeCount(count?: number): boolean;
    on(event: 'window-all-closed' | 'activate', listener: () => void): unknown;
    on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): unknown;
    /** macOS: an `xmpp:` link was opened; may fire before `ready`. */
    on(event: 'open-url', listener: (event: PreventableEvent, url: string) => void): unknown;
    on(event: 'before-quit', listener: (event: PreventableEvent) => void): unknown;
    on(event: 'web-contents-created', listener: (event: unknown, contents: PolicedContents) => void): unknown;
  };
  protocol: {
    registerSchemesAsPrivileged(schemes: Array<typeof APP_SCHEME_PRIVILEGES>): void;
    handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
  };
  session: { readonly defaultSession: PermissionSession };
  ipcMain: IpcMainLike;
  safeStorage: SafeStorageLike;
  shell: WindowElectron['shell'];
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => MainWindow;
  /** 'resume' after sleep: NAT bindings and Wi-Fi are likely new, so every session checks its path. */
  powerMonitor?: { on(event: 'resume' | 'unlock-screen', listener: () => void): unknown };
}

export interface MainOptions {
  createCore(options: CoreOptions): Promise<QuiverCore>;
  /** The built preload (out/preload/preload.cjs). */
  preloadPath: string;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** electron-vite's dev server, only when not packaged. */
  devServerUrl?: string;
  platform?: NodeJS.Platform;
  /** The command line (defaults to process.argv): an `xmpp:` URI on it is opened. */
  argv?: readonly string[];
  log(message: string, detail?: unknown): void;
}

export interface RunningMain {
  /** Resolves once the core is closed after a quit. */
  readonly closed: Promise<void>;
}

/**
 * Starts Quiver's main process. Must be called before `ready` (the scheme registration requires
 * it). Resolves once the window is created; returns null when another instance already runs.
 */
export async function runMain(electron: MainElectron, options: MainOptions): Promise<RunningMain | null> {
  const { app } = electron;
  const { log } = options;
  // #18: app:// is a standard, secure scheme so it gets an origin, CSP and the fetch API.
  electron.protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  let window: MainWindow | null = null;
  let core: QuiverCore | null = null;
  let disconnect = () => undefined as void;
  let quitting: 'no' | 'closing' | 'done' = 'no';
  let markClosed = () => undefined as void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const openExternal = (url: string) => electron.shell.openExternal(url);
  // xmpp: URIs (RFC 5122) from the system or from a link in the page, held until the window loads.
  const uris = new XmppUriInbox(log);
  const openInside = (url: string) => void uris.open(url);
  // A packaged app registers its own binary; in development that would be the bare Electron.
  if (app.isPackaged && !app.setAsDefaultProtocolClient(XMPP_PROTOCOL)) {
    log('could not register Quiver as the handler of xmpp: links');
  }
  app.on('open-url', (event, url) => {
    event.preventDefault();
    uris.open(url);
  });
  const launchUri = xmppUriInArgv(options.argv ?? process.argv);
  if (launchUri !== null) uris.open(launchUri);

  // #12-#14 for every WebContents that could ever be created, not only our window's.
  app.on('web-contents-created', (_event, contents) => policeContents(contents, openExternal, log, openInside));
  // Windows and Linux start a second instance for a link; the lock turns it away with its argv.
  app.on('second-instance', (_event, argv) => {
    const uri = xmppUriInArgv(argv);
    if (uri !== null) uris.open(uri);
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => {
    if ((options.platform ?? process.platform) !== 'darwin') app.quit();
  });
  app.on('before-quit', (event) => {
    if (quitting === 'done') return;
    // Hold the quit until the core has closed its streams and the database.
    event.preventDefault();
    if (quitting === 'closing') return;
    quitting = 'closing';
    disconnect();
    void shutDown().finally(() => {
      quitting = 'done';
      markClosed();
      app.quit();
    });
  });

  async function shutDown(): Promise<void> {
    try {
      await core?.close();
    } catch (error) {
      log('the core did not close cleanly', error);
    }
  }

  await app.whenReady();

  const dataDir = app.getPath('userData');
  const devServerUrl = options.devServerUrl;
  const devOrigin = devServerUrl === undefined ? null : originOf(devServerUrl);
  if (devServerUrl !== undefined && devOrigin === null) throw new TypeError(`not a dev server URL: ${devServerUrl}`);
  const appOrigin = devOrigin ?? APP_ORIGIN;
  const csp = windowContentSecurityPolicy(devServerUrl);
  installSessionPolicy(electron.session.defaultSession, {
    csp,
    allowedOrigins: devOrigin === null ? [APP_ORIGIN] : [APP_ORIGIN, devOrigin, devOrigin.replace(/^http/, 'ws')],
    log,
  });
  electron.protocol.handle(APP_SCHEME, appProtocolHandler(options.rendererDir, csp));

  // The ciphertext lives in the core's own database, next to the account it belongs to.
  core = await options.createCore({
    dataDir,
    secrets: (blobs: PasswordBlobStore) => new SafeStorageSecretStore(electron.safeStorage, blobs, options.platform),
    log: (level, message, detail) => log(`[${level}] ${message}`, detail),
  });
  if (quitting !== 'no') return { closed };
  // The network monitor sees address and route changes itself; a resume from sleep it cannot see.
  electron.powerMonitor?.on('resume', () => core?.networkResumed('resume'));

  const createWindow = () => {
    const created = createMainWindow(electron, {
      preloadPath: options.preloadPath,
      url: devServerUrl ?? APP_ENTRY_URL,
      log,
      openInside,
    });
    disconnect = connectCore({ ipcMain: electron.ipcMain, contents: created.webContents, core: core!, appOrigin, log });
    // The page subscribes to events while its scripts run, before the load finishes.
    created.webContents.once('did-finish-load', () => uris.attach(created.webContents));
    created.on('page-title-updated', badgeFollowsTitle(app));
    created.on('closed', () => {
      uris.detach(created.webContents);
      disconnect();
      disconnect = () => undefined;
      if (window === created) window = null;
    });
    window = created;
  };
  createWindow();
  // macOS: clicking the dock icon with no window open makes a new one.
  app.on('activate', () => {
    if (window === null && quitting === 'no') createWindow();
  });
  return { closed };
}
