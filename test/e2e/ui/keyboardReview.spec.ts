/**
 * Review of the keyboard (issue 13, "Desktop conventions"): keys that belong to someone else are
 * left to them. An input method's Enter and arrows belong to the composition, Alt+Down on a
 * `<select>` opens its list, and a modal dialog that is not one of the keyboard's (Remove account)
 * keeps the window's shortcuts from acting behind it. Fake core, real browser host.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openUi, row, useUiSuite } from './harness.ts';
import { message, workAndHome } from './fixtures.ts';

useUiSuite();

const T = Date.UTC(2026, 11, 6, 9, 0);
const seed = {
  accounts: workAndHome(),
  messages: [
    message('m1', 'a1', 'bob@work.example', 'in', 'Morning', T),
    message('m2', 'a2', 'carol@home.example', 'in', 'Dinner at 8?', T + 60_000),
  ],
};

async function listReady(page: Page): Promise<void> {
  await page.locator('[data-testid="conversation-row"][data-peer="bob@work.example"]').waitFor();
}

/**
 * Records, for each keydown, whether a handler took it (defaultPrevented), from a window listener
 * added after the app's, so it sees what the app's window handler did.
 */
async function watchKeys(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __taken: string[] };
    w.__taken = [];
    window.addEventListener('keydown', (event) => {
      if (event.defaultPrevented) w.__taken.push(event.key);
    });
  });
}
const taken = (page: Page) => page.evaluate(() => (window as unknown as { __taken: string[] }).__taken);

describe('keyboard review', () => {
  it('the quick switcher leaves Enter and the arrows to an input method that is composing', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Control+k');
    const input = page.getByTestId('quick-switcher-input');
    await input.waitFor();
    const prevented = await input.evaluate((el) =>
      ['ArrowDown', 'ArrowUp', 'Enter'].filter(
        (key) =>
          !el.dispatchEvent(new KeyboardEvent('keydown', { key, isComposing: true, bubbles: true, cancelable: true })),
      ),
    );
    assert.deepEqual(prevented, [], 'no key of the composition is taken');
    assert.equal(await page.getByTestId('quick-switcher').count(), 1, 'the switcher stays open');
    assert.equal(await page.getByTestId('chat-pane').count(), 0, 'no chat was opened');
  });

  it('Alt+Down on a drop-down list is left to the list: it does not switch the chat', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await page.keyboard.press('Control+n');
    const select = page.getByTestId('new-chat-dialog-account');
    await select.waitFor();
    await watchKeys(page);
    await select.focus();
    await page.keyboard.press('Alt+ArrowDown');
    assert.deepEqual(await taken(page), []);
    assert.equal(await page.getByTestId('chat-pane').count(), 0, 'no chat was opened behind the dialog');
  });

  it('no shortcut acts behind a modal dialog that is not the keyboard’s', async () => {
    const { page } = await openUi(seed);
    await listReady(page);
    await row(page, 'alice@work.example').getByTestId('account-open').click();
    await page.getByTestId('account-remove').click();
    await page.getByTestId('remove-account-dialog').waitFor();
    await watchKeys(page);
    for (const keys of ['Control+k', 'Control+n', 'Alt+ArrowDown', 'Control+,']) await page.keyboard.press(keys);
    assert.deepEqual(await taken(page), []);
    assert.equal(await page.getByTestId('quick-switcher').count(), 0);
    assert.equal(await page.getByTestId('new-chat-dialog').count(), 0);
    assert.equal(await page.getByTestId('chat-pane').count(), 0);
    assert.equal(await page.getByTestId('remove-account-dialog').count(), 1, 'the Remove account dialog stays');
  });
});
