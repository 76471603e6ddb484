/**
 * The one keymap: which key does what. The window's key handler (components/dialogs/DialogHost)
 * and the help sheet (components/dialogs/HelpSheet) both read `KEYMAP`, so what the sheet lists is
 * what the keys do. Pure: no DOM access beyond the event fields it is handed.
 */

export type ShortcutAction =
  | 'quick-switcher'
  | 'new-chat'
  | 'search'
  | 'previous-chat'
  | 'next-chat'
  | 'close-dialog'
  | 'help'
  | 'account-settings';

/** One way to press a shortcut. */
export interface KeyCombo {
  /** `KeyboardEvent.key`, compared case-insensitively for letters. */
  key: string;
  /** Ctrl on Linux and Windows, Cmd on macOS. */
  mod?: boolean;
  alt?: boolean;
  /**
   * A key pressed on its own (`?`): it only counts when the person is not typing in a field, and
   * Shift does not matter (it is how `?` is typed).
   */
  bare?: boolean;
}

export interface Shortcut {
  action: ShortcutAction;
  /** What it does, for the help sheet. */
  description: string;
  combos: readonly KeyCombo[];
}

export const KEYMAP: readonly Shortcut[] = [
  { action: 'quick-switcher', description: 'Jump to an account or a conversation', combos: [{ key: 'k', mod: true }] },
  { action: 'new-chat', description: 'Start a new chat', combos: [{ key: 'n', mod: true }] },
  { action: 'search', description: 'Search conversations and messages', combos: [{ key: 'f', mod: true }] },
  {
    action: 'previous-chat',
    description: 'Previous conversation in the list',
    combos: [{ key: 'ArrowUp', alt: true }],
  },
  { action: 'next-chat', description: 'Next conversation in the list', combos: [{ key: 'ArrowDown', alt: true }] },
  { action: 'close-dialog', description: 'Close the dialog', combos: [{ key: 'Escape' }] },
  {
    action: 'help',
    description: 'Show these keyboard shortcuts',
    combos: [
      { key: '/', mod: true },
      { key: '?', bare: true },
    ],
  },
  { action: 'account-settings', description: 'Settings of the current account', combos: [{ key: ',', mod: true }] },
];

/** The fields of a `KeyboardEvent` a match needs (so tests can pass plain objects). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  isComposing: boolean;
}

/** macOS uses Cmd where Linux and Windows use Ctrl. */
export function isMacPlatform(platform: string): boolean {
  return /^Mac|^iP(hone|ad|od)/.test(platform);
}

function matches(combo: KeyCombo, press: KeyPress, mac: boolean, typing: boolean): boolean {
  const sameKey =
    combo.key.length === 1 ? combo.key.toLowerCase() === press.key.toLowerCase() : combo.key === press.key;
  if (!sameKey) return false;
  if (combo.bare) return !typing && !press.ctrlKey && !press.metaKey && !press.altKey;
  const modDown = mac ? press.metaKey && !press.ctrlKey : press.ctrlKey && !press.metaKey;
  const noMod = !press.ctrlKey && !press.metaKey;
  return (combo.mod ? modDown : noMod) && Boolean(combo.alt) === press.altKey && !press.shiftKey;
}

/**
 * The action a key press asks for, or null. Nothing fires while an input method composes (the keys
 * belong to the composition), and bare keys not while `typing` (focus in a text field).
 */
export function shortcutFor(press: KeyPress, mac: boolean, typing: boolean): ShortcutAction | null {
  if (press.isComposing) return null;
  for (const shortcut of KEYMAP) {
    if (shortcut.combos.some((combo) => matches(combo, press, mac, typing))) return shortcut.action;
  }
  return null;
}

const KEY_NAMES: Record<string, string> = { ArrowUp: '↑', ArrowDown: '↓', Escape: 'Esc' };

/** How a combo is written for a person: "Ctrl+K", "⌘K" on macOS, "Alt+↑", "?". */
export function comboLabel(combo: KeyCombo, mac: boolean): string {
  const key = KEY_NAMES[combo.key] ?? (combo.key.length === 1 ? combo.key.toUpperCase() : combo.key);
  const parts: string[] = [];
  if (combo.mod) parts.push(mac ? '⌘' : 'Ctrl');
  if (combo.alt) parts.push(mac ? '⌥' : 'Alt');
  parts.push(key);
  return parts.join(mac ? '' : '+');
}

/** Whether the focus is in a place where typing a character enters text. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
  }
  return false;
}
