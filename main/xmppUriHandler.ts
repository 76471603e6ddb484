/**
 * The shell's `xmpp:` URI handler (RFC 5122). The operating system hands Quiver a URI in three
 * ways: on the command line of the first instance, in the argv of a second instance that the
 * single-instance lock turns away (Windows, Linux: `second-instance`), and as `open-url` (macOS).
 * Each is parsed (app/contract/xmppUri.ts: hostile input is refused and logged, never passed on)
 * and pushed to the window as the core events are (`uri.opened` on EVENT_CHANNEL). A URI that
 * arrives before the window has loaded is held and delivered once it has.
 */
import type { EventEnvelope } from '../app/contract/events.ts';
import { parseXmppUri } from '../app/contract/xmppUri.ts';
import { EVENT_CHANNEL, type IpcWindowContents } from './ipc.ts';

/** The protocol Quiver registers itself for (`app.setAsDefaultProtocolClient`). */
export const XMPP_PROTOCOL = 'xmpp';
/** At most this many URIs wait for the window: a flood from a script cannot grow without bound. */
export const MAX_HELD_URIS = 16;

/** The first `xmpp:` argument of a command line, or null (Chromium switches and paths are skipped). */
export function xmppUriInArgv(argv: readonly string[]): string | null {
  return argv.find((arg) => /^xmpp:/i.test(arg)) ?? null;
}

/**
 * Holds parsed URIs until a window can take them. Call `attach(contents)` once the window has
 * loaded (`did-finish-load`: the page has subscribed to events by then) and `detach()` when it
 * closes; `open(uri)` at any time.
 */
export class XmppUriInbox {
  readonly #log: (message: string, detail?: unknown) => void;
  #contents: IpcWindowContents | null = null;
  readonly #held: EventEnvelope[] = [];

  constructor(log: (message: string, detail?: unknown) => void) {
    this.#log = log;
  }

  /** Parses `uri` and delivers it now, or once a window is attached. Returns whether it was valid. */
  open(uri: string): boolean {
    const parsed = parseXmppUri(uri);
    if (!parsed.ok) {
      // The URI itself goes to the log cut short: it came from outside and may be huge.
      this.#log(`ignored an xmpp: link that ${parsed.reason}`, uri.slice(0, 200));
      return false;
    }
    const event: EventEnvelope = { name: 'uri.opened', payload: { target: parsed.target } };
    if (this.#contents !== null && !this.#contents.isDestroyed()) {
      this.#contents.send(EVENT_CHANNEL, event);
    } else if (this.#held.length < MAX_HELD_URIS) {
      this.#held.push(event);
    } else {
      this.#log('ignored an xmpp: link: too many are waiting for the window', uri.slice(0, 200));
    }
    return true;
  }

  /** The window has loaded: deliver what was held, then everything as it comes. */
  attach(contents: IpcWindowContents): void {
    this.#contents = contents;
    for (const event of this.#held.splice(0)) contents.send(EVENT_CHANNEL, event);
  }

  /** The window is gone: hold URIs again until the next one loads. */
  detach(contents: IpcWindowContents): void {
    if (this.#contents === contents) this.#contents = null;
  }
}
