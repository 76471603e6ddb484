/**
 * The keyboard (issue 13, "Desktop conventions"): Ctrl+K quick switcher across accounts and
 * conversations, Ctrl+N new chat, Ctrl+F search, Alt+Up/Down through the list, Esc closes dialogs
 * and gives the focus back, the help sheet lists the whole keymap; and the theme: light or dark as
 * the system says, or as the person chose (kept over a reload). Fake core, real browser host.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { KEYMAP } from '../../../renderer/src/shortcuts.ts';
import { openUi, shoot, useUiSuite } from './harness.ts';
import { message, workAndHome } from './fixtures.ts';

useUiSuite();

const T = Date.UTC(2026, 11, 6, 9, 0);
/** Two accounts; bob (work) spoke first, then carol (home), then dave (work): the list shows dave, carol, bob. */
const seed = {
  accounts: workAndHome(),
  messages: [
    message('m1', 'a1', 'bob@work.example', 'in', 'Morning', T),
    message('m2', 'a2', 'carol@home.example', 'in', 'Dinner at 8?', T + 60_000),
    message('m3', 'a1', 'dave@work.example', 'in', 'Build is green', T + 120_000),
  ],
};

const chat = (page: Page) => page.getByTestId('chat-pane');

async function expectChat(page: Page, accountId: string, peer: string): Promise<void> {
  await page.locator(`[data-testid="chat-pane"][data-peer="${peer}"][data-account-id="${accountId}"]`).waitFor();
}

/** Waits until the conversation list shows the seeded conversations, so shortcuts have something to walk. */
async function listReady(page: Page): Promise<void> {
  await page.locator('[data-testid="conversation-row"][data-peer="bob@work.example"]').waitFor();
}

describe('keyboard and theme', () => {
  it('Ctrl+K finds accounts and conversations across accounts; Enter opens the chat', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Control+k');
    const switcher = page.getByTestId('quick-switcher');
    await switcher.waitFor();
    const input = page.getByTestId('quick-switcher-input');
    assert.ok(await input.evaluate((el) => el === document.activeElement), 'the field has the focus');
    const items = page.getByTestId('quick-switcher-item');

    await input.fill('example');
    await items.nth(4).waitFor();
    // Three conversations and two accounts, each with its account's cue.
    assert.equal(await items.count(), 5);
    assert.deepEqual((await items.getByTestId('account-cue').allTextContents()).map((t) => t.trim()).sort(), [
      'Home',
      'Home',
      'Work',
      'Work',
      'Work',
    ]);

    await input.fill('crol');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="quick-switcher-item"]').length === 1);
    assert.match(await items.first().innerText(), /carol@home\.example[\s\S]*Home/);
    await shoot(page, 'keyboard-quick-switcher');
    await page.keyboard.press('Enter');
    await expectChat(page, 'a2', 'carol@home.example');
    await switcher.waitFor({ state: 'detached' });

    // An account result opens the account's panel; arrows choose.
    await page.keyboard.press('Control+k');
    await input.fill('alice@home');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="quick-switcher-item"]').length === 1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await switcher.waitFor({ state: 'detached' });
    await chat(page).waitFor({ state: 'detached' });
  });

  it('Ctrl+N starts a chat from the chosen account, after checking the address', async () => {
    const { page, core } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Control+n');
    const dialog = page.getByTestId('new-chat-dialog');
    await dialog.waitFor();
    // Nothing open: the first online account is the default.
    assert.equal(await page.getByTestId('new-chat-dialog-account').inputValue(), 'a1');
    await page.getByTestId('new-chat-dialog-account').selectOption('a2');
    await page.getByTestId('new-chat-dialog-jid').fill('eve@@home.example');
    await page.getByTestId('new-chat-dialog-start').click();
    await page.getByTestId('new-chat-dialog-error').waitFor();
    assert.match(await page.getByTestId('new-chat-dialog-error').innerText(), /name@example\.org/);

    await page.getByTestId('new-chat-dialog-jid').fill('eve@home.example');
    await page.keyboard.press('Enter');
    await expectChat(page, 'a2', 'eve@home.example');
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="conversation-row"][data-peer="eve@home.example"]'),
    );
    assert.ok(core.calls.some((c) => c.name === 'conversation.start'));

    // With a chat open, its account is the default.
    await page.keyboard.press('Control+n');
    assert.equal(await page.getByTestId('new-chat-dialog-account').inputValue(), 'a2');
  });

  it('Ctrl+F focuses the search field and selects what it holds', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    const search = page.getByTestId('search-input');
    await search.fill('din');
    await page.getByTestId('conversation-row').first().focus();
    await page.keyboard.press('Control+f');
    assert.ok(await search.evaluate((el) => el === document.activeElement));
    assert.deepEqual(await search.evaluate((el: HTMLInputElement) => [el.selectionStart, el.selectionEnd]), [0, 3]);
  });

  it('Alt+Down and Alt+Up walk the conversation list in its order', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Alt+ArrowDown');
    await expectChat(page, 'a1', 'dave@work.example');
    await page.keyboard.press('Alt+ArrowDown');
    await expectChat(page, 'a2', 'carol@home.example');
    await page.keyboard.press('Alt+ArrowDown');
    await expectChat(page, 'a1', 'bob@work.example');
    // The end of the list stays at the end.
    await page.keyboard.press('Alt+ArrowDown');
    await expectChat(page, 'a1', 'bob@work.example');
    await page.keyboard.press('Alt+ArrowUp');
    await expectChat(page, 'a2', 'carol@home.example');
  });

  it('Esc closes each dialog and the focus goes back where it was', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    const newChat = page.getByTestId('new-chat');
    for (const [keys, testid] of [
      ['Control+k', 'quick-switcher'],
      ['Control+n', 'new-chat-dialog'],
      ['Control+/', 'shortcut-help'],
      ['?', 'shortcut-help'],
    ] as const) {
      await newChat.focus();
      await page.keyboard.press(keys);
      await page.getByTestId(testid).waitFor();
      assert.ok(
        await page.getByTestId(testid).evaluate((el) => el.contains(document.activeElement)),
        `${testid}: the focus moved into the dialog`,
      );
      await page.keyboard.press('Escape');
      await page.getByTestId(testid).waitFor({ state: 'detached' });
      assert.ok(await newChat.evaluate((el) => el === document.activeElement), `${testid}: the focus came back`);
    }
  });

  it('the help sheet lists every shortcut of the keymap; ? only opens it when not typing', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.getByTestId('search-input').focus();
    await page.keyboard.type('?');
    assert.equal(await page.getByTestId('search-input').inputValue(), '?');
    assert.equal(await page.getByTestId('shortcut-help').count(), 0, '? typed in a field is text');

    await page.keyboard.press('Control+/');
    const items = page.getByTestId('shortcut-help-item');
    await items.first().waitFor();
    assert.deepEqual(
      await items.evaluateAll((els) => els.map((el) => el.getAttribute('data-action'))),
      KEYMAP.map((s) => s.action),
    );
    const text = await page.getByTestId('shortcut-help').innerText();
    for (const label of ['Ctrl+K', 'Ctrl+N', 'Ctrl+F', 'Alt+↑', 'Alt+↓', 'Esc', 'Ctrl+/', '?', 'Ctrl+,']) {
      assert.ok(text.includes(label), `the sheet shows ${label}`);
    }
    await shoot(page, 'keyboard-help');
  });

  it('Ctrl+, opens the settings of the current account', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Alt+ArrowDown');
    await page.keyboard.press('Alt+ArrowDown');
    await expectChat(page, 'a2', 'carol@home.example');
    await page.keyboard.press('Control+,');
    await chat(page).waitFor({ state: 'detached' });
    await page.getByTestId('account-form').waitFor();
  });

  it('the theme follows a choice that survives a reload, and the system otherwise', async () => {
    const { page } = await openUi(seed);
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    const bg = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    assert.equal(await theme(), 'light');
    const lightBg = await bg();
    await page.getByTestId('theme-toggle').getByText('Dark').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assert.notEqual(await bg(), lightBg);
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), 'dark');
    await shoot(page, 'keyboard-theme-dark');

    await page.reload();
    await page.getByTestId('theme-toggle').waitFor();
    assert.equal(await theme(), 'dark');
    assert.ok(await page.getByTestId('theme-dark').isChecked());

    // Back to the system's choice, which this browser says is light; and the radio group works by keys.
    await page.getByTestId('theme-dark').focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    assert.ok(await page.getByTestId('theme-system').isChecked());
    assert.equal(await page.evaluate(() => localStorage.getItem('quiver-theme')), null);
  });

  it('a browser in dark mode gets the dark theme by default, and follows a change', async () => {
    const { page } = await openUi(seed, 'dark');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()),
      '#15171b',
    );
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  });
});
