/**
 * Which of the keyboard's dialogs is open (quick switcher, new chat, shortcut help): at most one at
 * a time, so it is also the topmost, the one Esc closes. One per window: `keyboard`. Anything may
 * open a dialog (the "New chat" button calls `keyboard.open('new-chat')`); DialogHost shows it.
 */

export type KeyboardDialog = 'quick-switcher' | 'new-chat' | 'help';

export class KeyboardState {
  dialog = $state<KeyboardDialog | null>(null);

  /** Opens `dialog`, replacing any other keyboard dialog. */
  open(dialog: KeyboardDialog): void {
    this.dialog = dialog;
  }

  close(): void {
    this.dialog = null;
  }
}

export const keyboard = new KeyboardState();
