/**
 * The IPC boundary of the main process: ONE `handle()` wrapper around `ipcMain.handle`, which
 * checks the sender (Electron security checklist #17) before anything else, and the one channel
 * the contract uses. Arguments are validated by `dispatch` (app/contract/commands.ts), so an
 * unknown command or a malformed argument never reaches a handler.
 */
import { dispatch, type EventEnvelope, type Result } from '../app/contract/index.ts';
import type { QuiverCore } from '../app/core.ts';
import { originOf } from './appOrigin.ts';

/** renderer -> main: `invoke(name, args)`; the preload uses the same literal. */
export const INVOKE_CHANNEL = 'quiver:invoke';
/** main -> renderer: one core event per message. */
export const EVENT_CHANNEL = 'quiver:event';

export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/** What we read of an `IpcMainInvokeEvent`. */
export interface InvokeEvent {
  readonly sender: unknown;
  readonly senderFrame: SenderFrame | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcWindowContents {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

/**
 * #17: a message is ours only if it comes from our window's WebContents, from its top-level frame
 * (not an iframe), and that frame shows our app origin right now.
 */
export function isTrustedSender(event: InvokeEvent, contents: IpcWindowContents, appOrigin: string): boolean {
  const frame = event.senderFrame;
  // senderFrame is null once the frame navigated away or was destroyed: nothing to trust.
  if (frame === null) return false;
  if (event.sender !== contents) return false;
  if (frame.parent !== null) return false;
  return originOf(frame.url) === appOrigin;
}

const refused: Result<never> = {
  ok: false,
  error: { code: 'forbidden-sender', message: 'This request did not come from the Quiver window and was refused.' },
};

/**
 * The only way main registers an IPC handler. The listener runs only for trusted senders; others
 * get a `forbidden-sender` result and a log line. Returns the function that unregisters it.
 */
export function handle(
  ipcMain: IpcMainLike,
  channel: string,
  trusted: (event: InvokeEvent) => boolean,
  listener: (...args: unknown[]) => Promise<Result<unknown>>,
  log: (message: string, detail?: unknown) => void,
): () => void {
  ipcMain.handle(channel, async (event, ...args) => {
    if (!trusted(event)) {
      log(`refused ${channel} from an untrusted sender`, event.senderFrame?.url ?? null);
      return refused;
    }
    return listener(...args);
  });
  return () => ipcMain.removeHandler(channel);
}

export interface ConnectCoreOptions {
  ipcMain: IpcMainLike;
  /** The main window's WebContents: the only trusted sender and where events go. */
  contents: IpcWindowContents;
  core: Pick<QuiverCore, 'handlers' | 'subscribe'>;
  /** `app://quiver`, or the dev server's origin in development. */
  appOrigin: string;
  log: (message: string, detail?: unknown) => void;
}

/**
 * Serves the contract to the window: commands through `dispatch`, core events forwarded with
 * `webContents.send(EVENT_CHANNEL, envelope)`. Returns the function that disconnects both.
 */
export function connectCore(options: ConnectCoreOptions): () => void {
  const { contents, core, log } = options;
  const unhandle = handle(
    options.ipcMain,
    INVOKE_CHANNEL,
    (event) => isTrustedSender(event, contents, options.appOrigin),
    (name, args) => dispatch(core.handlers, name, args, (error) => log(`command ${String(name)} failed`, error)),
    log,
  );
  const unsubscribe = core.subscribe((event: EventEnvelope) => {
    if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, event);
  });
  return () => {
    unhandle();
    unsubscribe();
  };
}
