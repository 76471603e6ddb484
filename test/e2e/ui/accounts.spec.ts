/**
 * Issue 13, "Accounts": the accounts bar (chips in the person's order, status words, "unknown"
 * while the link is down, pending requests), the account panel (status in words and "Try now",
 * presence, contacts, subscription requests, blocking, removal) and the form's label and colour.
 * Browser host over the fake core; every wait is on what the page shows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openUi, row, shoot, useUiSuite } from './harness.ts';
import { account, contact } from './fixtures.ts';

useUiSuite();

const threeAccounts = () => [
  account('a1', 'alice@example.org', { label: 'Home', color: '#2f6fdf', order: 1, status: 'online' }),
  account('a2', 'alice@work.example', { label: 'Work', color: '#c2410c', order: 0, status: 'online' }),
  account('a3', 'old@example.net', { label: 'Old', color: '#15803d', order: 2 }),
];

const chipJids = (page: Page) =>
  page.getByTestId('account-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-jid')));

const openPanel = async (page: Page, jid: string) => {
  await row(page, jid).getByTestId('account-open').click();
  await page.locator(`[data-testid="account-panel"]`).waitFor();
};

describe('accounts: bar, panel, contacts and requests', () => {
  it('shows one chip per account in the person’s order, with colour and label', async () => {
    const { page } = await openUi({ accounts: threeAccounts() });
    await row(page, 'old@example.net').waitFor();
    assert.deepEqual(await chipJids(page), ['alice@work.example', 'alice@example.org', 'old@example.net']);
    const work = row(page, 'alice@work.example');
    assert.equal(await work.getByTestId('account-chip-label').innerText(), 'Work');
    assert.match((await work.getAttribute('style')) ?? '', /--account: #c2410c/);
    assert.equal(await work.getAttribute('data-status'), 'online');
    await shoot(page, 'accounts-bar');
  });

  it('moves an account down with the panel’s button and up with Alt+Shift+Up on its chip', async () => {
    const { page, core } = await openUi({ accounts: threeAccounts() });
    await openPanel(page, 'alice@work.example');
    await page.getByTestId('account-move-down').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="account-row"]')?.getAttribute('data-jid') === 'alice@example.org',
    );
    assert.deepEqual(core.calls.find((c) => c.name === 'account.reorder')?.args, { accountIds: ['a1', 'a2', 'a3'] });
    await row(page, 'old@example.net').getByTestId('account-open').focus();
    await page.keyboard.press('Alt+Shift+ArrowUp');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="account-row"]')[1]?.getAttribute('data-jid') === 'old@example.net',
    );
    assert.deepEqual(await chipJids(page), ['alice@example.org', 'old@example.net', 'alice@work.example']);
  });

  it('shows the status in words and "Try now" calls account.retry', async () => {
    const { page, core } = await openUi({
      accounts: [
        account('a1', 'alice@example.org', {
          status: 'offline',
          statusText: 'offline: wrong password',
          error: { code: 'auth-failed', message: 'The server refused the password. Enter it again in Settings.' },
        }),
      ],
    });
    await openPanel(page, 'alice@example.org');
    assert.equal(await page.getByTestId('account-status-text').innerText(), 'offline: wrong password');
    await shoot(page, 'accounts-panel');
    await page.getByTestId('account-retry').click();
    await row(page, 'alice@example.org').and(page.locator('[data-status="connecting"]')).waitFor();
    assert.ok(core.calls.some((c) => c.name === 'account.retry'));
    await page.getByTestId('account-retry').waitFor({ state: 'detached' });
  });

  it('shows every account as unknown, never online, while the link to the host is down', async () => {
    const ui = await openUi({ accounts: threeAccounts() });
    const { page, host } = ui;
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    await row(page, 'alice@example.org').and(page.locator('[data-status="online"]')).waitFor();
    await host.dropConnections();
    await row(page, 'alice@example.org').and(page.locator('[data-status="unknown"]')).waitFor();
    assert.equal(await page.locator('[data-testid="account-row"][data-status="online"]').count(), 0);
    assert.equal(await row(page, 'alice@example.org').getByTestId('account-status').innerText(), 'Unknown');
    await host.resume();
    await row(page, 'alice@example.org').and(page.locator('[data-status="online"]')).waitFor({ timeout: 15_000 });
  });

  it('sets the presence of one account, then of all', async () => {
    const { page, core } = await openUi({ accounts: threeAccounts() });
    await openPanel(page, 'alice@example.org');
    await page.getByTestId('presence-show').selectOption('dnd');
    await page.getByTestId('presence-status').fill('In a meeting');
    await page.getByTestId('presence-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.deepEqual(core.calls.findLast((c) => c.name === 'presence.set')?.args, {
      accountId: 'a1',
      show: 'dnd',
      status: 'In a meeting',
    });
    await page.getByTestId('presence-show').selectOption('away');
    await page.getByTestId('presence-status').fill('');
    await page.getByTestId('presence-all').check();
    await page.getByTestId('presence-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved for every account.' }).waitFor();
    assert.deepEqual(core.calls.findLast((c) => c.name === 'presence.set')?.args, { show: 'away', status: null });
    assert.ok(core.data.accounts.every((a) => a.presence.show === 'away'));
  });

  it('shows each account’s own presence when going from one panel to another', async () => {
    const accounts = threeAccounts();
    accounts[1]!.presence = { show: 'dnd', status: 'Focus time' };
    const { page } = await openUi({ accounts });
    await openPanel(page, 'alice@example.org');
    assert.equal(await page.getByTestId('presence-show').inputValue(), 'available');
    await row(page, 'alice@work.example').getByTestId('account-open').click();
    await page.locator('[data-testid="account-panel"][data-account-id="a2"]').waitFor();
    assert.equal(await page.getByTestId('presence-show').inputValue(), 'dnd');
    assert.equal(await page.getByTestId('presence-status').inputValue(), 'Focus time');
  });

  it('adds a contact through the dialog; Esc closes it', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
    });
    await openPanel(page, 'alice@example.org');
    await page.locator('[data-testid="contact-row"][data-jid="bob@example.org"]').waitFor();
    await page.getByTestId('contact-add').click();
    await page.getByTestId('add-contact-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('add-contact-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'contact-add');

    await page.getByTestId('contact-add').click();
    await page.getByTestId('add-contact-jid').fill('not an address');
    await page.getByTestId('add-contact-submit').click();
    await page.getByText('Enter an address like name@example.org.').waitFor();
    await page.getByTestId('add-contact-jid').fill('carol@example.org');
    await page.getByTestId('add-contact-name').fill('Carol');
    await page.getByTestId('add-contact-submit').click();
    await page.getByTestId('add-contact-dialog').waitFor({ state: 'detached' });
    const carol = page.locator('[data-testid="contact-row"][data-jid="carol@example.org"]');
    await carol.waitFor();
    assert.match(await carol.innerText(), /Waiting for them to accept your request/);
    assert.deepEqual(core.calls.find((c) => c.name === 'contact.add')?.args, {
      accountId: 'a1',
      jid: 'carol@example.org',
      name: 'Carol',
    });
  });

  it('accepts and refuses subscription requests, counted on the chip', async () => {
    const { page, core } = await openUi({ accounts: threeAccounts() });
    await row(page, 'alice@example.org').waitFor();
    for (const jid of ['dave@example.org', 'eve@example.org']) {
      const request = { accountId: 'a1', jid, message: null, at: Date.now() };
      core.data.requests.push(request);
      core.emit({ name: 'subscription.requested', payload: { request } });
    }
    const badge = row(page, 'alice@example.org').getByTestId('account-requests');
    await badge.filter({ hasText: /^2/ }).waitFor();
    await openPanel(page, 'alice@example.org');
    const dave = page.locator('[data-testid="request-row"][data-jid="dave@example.org"]');
    assert.match(await dave.innerText(), /dave@example\.org wants to see when you are online/);
    await dave.getByTestId('request-accept').click();
    await dave.waitFor({ state: 'detached' });
    await page.locator('[data-testid="contact-row"][data-jid="dave@example.org"]').waitFor();
    const eve = page.locator('[data-testid="request-row"][data-jid="eve@example.org"]');
    await eve.getByTestId('request-refuse').click();
    await eve.waitFor({ state: 'detached' });
    await badge.waitFor({ state: 'detached' });
    assert.deepEqual(
      core.calls.filter((c) => c.name === 'subscription.answer').map((c) => c.args),
      [
        { accountId: 'a1', jid: 'dave@example.org', approve: true },
        { accountId: 'a1', jid: 'eve@example.org', approve: false },
      ],
    );
    assert.equal(await page.locator('[data-testid="contact-row"][data-jid="eve@example.org"]').count(), 0);
  });

  it('blocks and unblocks a contact where the server offers blocking', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online', canBlock: true })],
      rosters: { a1: [contact('mallory@example.org', 'Mallory', 'available')] },
    });
    await openPanel(page, 'alice@example.org');
    const mallory = page.locator('[data-testid="contact-row"][data-jid="mallory@example.org"]');
    await mallory.getByTestId('contact-block').click();
    await mallory.and(page.locator('[data-blocked="true"]')).waitFor();
    assert.match(await mallory.getByTestId('roster-status').innerText(), /Blocked/);
    assert.deepEqual(core.data.blocks.a1, ['mallory@example.org']);
    await mallory.getByTestId('contact-block').click();
    await mallory.and(page.locator('[data-blocked="false"]')).waitFor();
    assert.deepEqual(core.data.blocks.a1, []);
  });

  it('renames and removes a contact', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
    });
    await openPanel(page, 'alice@example.org');
    const bob = page.locator('[data-testid="contact-row"][data-jid="bob@example.org"]');
    await bob.getByTestId('contact-rename').click();
    await bob.getByTestId('contact-rename-input').fill('Bobby');
    await bob.getByTestId('contact-rename-input').press('Enter');
    await bob.getByText('Bobby').waitFor();
    await bob.getByTestId('contact-remove').click();
    await bob.getByTestId('contact-remove-confirm').click();
    await bob.waitFor({ state: 'detached' });
    assert.deepEqual(
      core.calls.filter((c) => c.name.startsWith('contact.')).map((c) => c.name),
      ['contact.rename', 'contact.remove'],
    );
  });

  it('removes an account keeping its history; Esc cancels the dialog', async () => {
    const { page, core } = await openUi({ accounts: threeAccounts() });
    await openPanel(page, 'alice@example.org');
    await page.getByTestId('account-remove').click();
    await page.getByTestId('remove-account-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('remove-account-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'account-remove');
    await page.getByTestId('account-remove').click();
    assert.ok(await page.getByTestId('remove-keep-history').isChecked());
    await shoot(page, 'accounts-remove');
    await page.getByTestId('remove-account-confirm').click();
    await row(page, 'alice@example.org').waitFor({ state: 'detached' });
    assert.deepEqual(core.calls.find((c) => c.name === 'account.remove')?.args, {
      accountId: 'a1',
      keepHistory: true,
    });
  });

  it('gives a new account a label and a colour', async () => {
    const { page, core } = await openUi({ accounts: [] });
    await page.getByTestId('add-account').click();
    await page.getByTestId('account-jid').fill('carol@chat.example');
    await page.getByTestId('account-password').fill('secret');
    await page.getByTestId('account-label').fill('Chat');
    await page.getByRole('radio', { name: 'Purple' }).check();
    await page.getByTestId('account-submit').click();
    await page.getByTestId('account-form').waitFor({ state: 'detached' });
    const args = core.calls.find((c) => c.name === 'account.add')?.args as Record<string, unknown>;
    assert.equal(args.label, 'Chat');
    assert.equal(args.color, '#9d4edd');
  });
});
