/**
 * Desktop notifications for new messages (issue 13: "Notifications for new messages naming the
 * account (not while that chat is focused)"), through the web Notification API, which Electron
 * maps to the system's notifications and the browser host gets from the browser.
 *
 * Permission is asked once, on the person's first click in the window, never on load: browsers
 * ignore (or hold against the page) a request that no gesture started.
 */
import type { MessageView } from '../../app/contract/viewModels.ts';

/** How much of a message body a notification shows. */
export const NOTIFICATION_BODY_MAX = 140;

export interface NotifyContext {
  /** The account's label and JID; undefined for an account the window does not know. */
  account(accountId: string): { label: string; jid: string } | undefined;
  /** The contact's roster name, or null. */
  nameOf(accountId: string, peer: string): string | null;
  /** That chat is open AND the window has the focus and is visible: the person sees the message. */
  seesChat(accountId: string, peer: string): boolean;
  /** The person blocked the peer: no notification, so none of their text on the screen. */
  isBlocked(accountId: string, peer: string): boolean;
  /** Opens the chat (the notification was clicked); only called while `account` still knows the account. */
  open(accountId: string, peer: string): void;
}

/** The Notification API if this window has it (an old Electron or a locked-down browser may not). */
function api(): typeof Notification | null {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : null;
}

/** Shortens `text` to `max` characters, ending in an ellipsis when cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Shows a notification for an incoming message unless the person already sees that chat or blocked its sender. */
export function notifyIncoming(message: MessageView, context: NotifyContext): void {
  const Api = api();
  if (message.direction !== 'in' || !Api || Api.permission !== 'granted') return;
  if (context.seesChat(message.accountId, message.peer)) return;
  if (context.isBlocked(message.accountId, message.peer)) return;
  const account = context.account(message.accountId);
  const who = context.nameOf(message.accountId, message.peer) || message.peer;
  const title = account ? `${who} — ${account.label}` : who;
  const note = new Api(title, {
    body: clip(message.body, NOTIFICATION_BODY_MAX),
    // One notification per conversation: a newer message replaces the older one.
    tag: `quiver:${message.accountId}:${message.peer}`,
  });
  note.onclick = () => {
    note.close();
    // The account may have been removed since: its chat is gone, and opening it would only fail.
    if (context.account(message.accountId) === undefined) return;
    window.focus();
    context.open(message.accountId, message.peer);
  };
}

/**
 * Asks for permission on the first click anywhere in the window, once. Call at start-up; returns
 * a function that removes the listener.
 */
export function askPermissionOnFirstClick(
  target: Pick<Document, 'addEventListener' | 'removeEventListener'>,
): () => void {
  const onClick = () => {
    target.removeEventListener('click', onClick, true);
    const Api = api();
    if (!Api || Api.permission !== 'default') return;
    Api.requestPermission().catch((error: unknown) =>
      console.warn('Quiver could not ask to show notifications:', error),
    );
  };
  target.addEventListener('click', onClick, true);
  return () => target.removeEventListener('click', onClick, true);
}
