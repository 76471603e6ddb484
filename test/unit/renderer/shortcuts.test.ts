/** The keymap's matching (renderer/src/shortcuts.ts): platforms, typing, input methods. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYMAP, comboLabel, isMacPlatform, shortcutFor, type KeyPress } from '../../../renderer/src/shortcuts.ts';
import { fuzzyScore } from '../../../renderer/src/fuzzy.ts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  isComposing: false,
  ...mods,
});

test('Ctrl on Linux and Windows, Cmd on macOS', () => {
  assert.equal(shortcutFor(press('k', { ctrlKey: true }), false, false), 'quick-switcher');
  assert.equal(shortcutFor(press('K', { ctrlKey: true }), false, true), 'quick-switcher', 'also while typing');
  assert.equal(shortcutFor(press('k', { metaKey: true }), false, false), null);
  assert.equal(shortcutFor(press('k', { metaKey: true }), true, false), 'quick-switcher');
  assert.equal(shortcutFor(press('k', { ctrlKey: true }), true, false), null);
  assert.equal(shortcutFor(press(',', { ctrlKey: true }), false, false), 'account-settings');
  assert.equal(shortcutFor(press('ArrowDown', { altKey: true }), false, true), 'next-chat');
  assert.equal(shortcutFor(press('ArrowDown', { altKey: true, shiftKey: true }), false, false), null);
  assert.ok(isMacPlatform('MacIntel'));
  assert.ok(!isMacPlatform('Linux x86_64'));
});

test('nothing fires while an input method composes; ? not while typing', () => {
  assert.equal(shortcutFor(press('k', { ctrlKey: true, isComposing: true }), false, false), null);
  assert.equal(shortcutFor(press('?', { shiftKey: true }), false, false), 'help');
  assert.equal(shortcutFor(press('?', { shiftKey: true }), false, true), null);
  assert.equal(shortcutFor(press('/', { ctrlKey: true }), false, true), 'help');
  assert.equal(shortcutFor(press('k'), false, false), null);
});

test('every action has a description and a label on both platforms', () => {
  assert.equal(new Set(KEYMAP.map((s) => s.action)).size, KEYMAP.length);
  assert.deepEqual(
    KEYMAP.find((s) => s.action === 'help')!.combos.map((c) => comboLabel(c, false)),
    ['Ctrl+/', '?'],
  );
  assert.equal(comboLabel({ key: 'k', mod: true }, true), '⌘K');
  assert.equal(comboLabel({ key: 'ArrowUp', alt: true }, false), 'Alt+↑');
});

test('fuzzy: letters in order, word starts first', () => {
  assert.equal(fuzzyScore('', 'anything'), 0);
  assert.equal(fuzzyScore('crl', 'carol@home.example'), 12);
  assert.equal(fuzzyScore('home', 'carol@home.example'), 0);
  assert.equal(fuzzyScore('ome', 'carol@home.example'), 1);
  assert.equal(fuzzyScore('xyz', 'carol@home.example'), null);
});
