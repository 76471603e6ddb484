/**
 * The one modal primitive (renderer/src/components/dialogs/modal.ts) in the account dialogs: Tab
 * and Shift+Tab stay inside Add contact and Remove account (a radio group is one Tab stop), as they
 * do in the keyboard and certificate dialogs. Browser host over the fake core.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openUi, row, useUiSuite } from './harness.ts';
import { account } from './fixtures.ts';

useUiSuite();

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
const focusInside = (page: Page, testid: string) =>
  page.evaluate((id) => !!document.activeElement?.closest(`[data-testid="${id}"]`), testid);

const openPanel = async (page: Page) => {
  await row(page, 'alice@example.org').getByTestId('account-open').click();
  await page.locator('[data-testid="account-panel"]').waitFor();
};

describe('modal: Tab stays inside the account dialogs', () => {
  it('Remove account: Tab from the last button wraps to the radios, Shift+Tab back to the last', async () => {
    const { page } = await openUi({ accounts: [account('a1', 'alice@example.org', { status: 'online' })] });
    await openPanel(page);
    await page.getByTestId('account-remove').click();
    await page.getByTestId('remove-account-dialog').waitFor();
    await page.getByTestId('remove-account-confirm').focus();
    await page.keyboard.press('Tab');
    assert.equal(await focusedTestId(page), 'remove-keep-history');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedTestId(page), 'remove-delete-history');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focusedTestId(page), 'remove-account-confirm');
    assert.ok(await focusInside(page, 'remove-account-dialog'));
  });

  it('Add contact: Tab from the last button wraps to the address field, Shift+Tab back', async () => {
    const { page } = await openUi({ accounts: [account('a1', 'alice@example.org', { status: 'online' })] });
    await openPanel(page);
    await page.getByTestId('contact-add').click();
    await page.getByTestId('add-contact-dialog').waitFor();
    assert.equal(await focusedTestId(page), 'add-contact-jid');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focusedTestId(page), 'add-contact-submit');
    await page.keyboard.press('Tab');
    assert.equal(await focusedTestId(page), 'add-contact-jid');
  });
});
