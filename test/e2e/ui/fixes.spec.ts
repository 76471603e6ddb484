/**
 * Renderer defects found by the end-to-end run and the reviews (issue 13, W3-UI): drafts lost on
 * reload or brought back stale, contacts shown "Available" while the link is down, an accepted-once
 * certificate drawn as proved, the account chip repeating a waiting decision, focus lost after a
 * removal, and keys a dialog should not give away. Fake core behind the real browser host; every
 * wait is on what the page shows or what the core received.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { conversationRow, openUi, row, useUiSuite } from './harness.ts';
import { account, contact, conversation, keyChangedDecision, message, unprovenDecision } from './fixtures.ts';
import { acceptedOnceRecord } from './securityFixtures.ts';
import { openSecurity } from './openSecurity.ts';

useUiSuite();

const HOUR = 3_600_000;

function seed() {
  const now = Date.now();
  const m1 = message('m1', 'a1', 'carol@home.example', 'in', 'See you at dinner', now - 3 * HOUR);
  const m2 = message('m2', 'a1', 'dave@home.example', 'in', 'Got the tickets', now - HOUR);
  return {
    accounts: [account('a1', 'alice@home.example', { label: 'home', color: '#15803d', order: 0, status: 'online' })],
    rosters: {
      a1: [contact('carol@home.example', 'Carol', 'available'), contact('dave@home.example', 'Dave', 'available')],
    },
    messages: [m1, m2],
    conversations: [
      conversation('a1', 'carol@home.example', m1, { name: 'Carol' }),
      conversation('a1', 'dave@home.example', m2, { name: 'Dave' }),
    ],
  };
}

const draftOf = (ui: { core: { data: { conversations: { peer: string; draft: string }[] } } }, peer: string) =>
  ui.core.data.conversations.find((c) => c.peer === peer)?.draft;

describe('W3-UI fixes', () => {
  it('keeps a draft typed just before the page is reloaded', async () => {
    const ui = await openUi(seed());
    const { page } = ui;
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByTestId('chat-composer').fill('typed right before closing');
    // No pause: the draft waits for its 500 ms timer when the page goes.
    await page.reload();
    await page.getByTestId('account-list').waitFor();
    assert.equal(draftOf(ui, 'carol@home.example'), 'typed right before closing');
    await conversationRow(page, 'a1', 'carol@home.example').getByTestId('conversation-draft').waitFor();
  });

  it('saves the draft at once when the window is hidden', async () => {
    const ui = await openUi(seed());
    const { page, core } = ui;
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByTestId('chat-composer').fill('before switching away');
    const before = core.calls.length;
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    // Well before the 500 ms timer could have fired on its own.
    await page.waitForFunction(() => true);
    const saved = core.calls.slice(before).find((c) => c.name === 'conversation.setDraft');
    assert.ok(saved, 'the draft was saved when the window was hidden');
    assert.equal((saved.args as { draft: string }).draft, 'before switching away');
  });

  it('brings back what was typed when the chat is reopened before the list caught up', async () => {
    const ui = await openUi(seed());
    const { page, core } = ui;
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByTestId('chat-composer').fill('for Carol');
    // The save on leaving never answers, so the list still holds Carol's old (empty) draft.
    core.holdNext('conversation.setDraft');
    await conversationRow(page, 'a1', 'dave@home.example').click();
    await page.locator('[data-testid="chat-pane"][data-peer="dave@home.example"]').waitFor();
    await core.waitForHeld();
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.locator('[data-testid="chat-pane"][data-peer="carol@home.example"]').waitFor();
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="chat-composer"]') as HTMLTextAreaElement | null)?.value === 'for Carol',
    );
  });

  it('shows contacts’ presence as unknown while the link to Quiver is down', async () => {
    const ui = await openUi(seed());
    const { page, host } = ui;
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByTestId('peer-presence').filter({ hasText: 'available' }).waitFor();
    await host.dropConnections();
    await page.getByTestId('connection-banner').waitFor();
    await page.getByTestId('peer-presence').filter({ hasText: 'unknown' }).waitFor();
    await host.resume();
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 15_000 });

    await row(page, 'alice@home.example').getByTestId('account-open').click();
    const status = page.locator(
      '[data-testid="contact-row"][data-jid="carol@home.example"] [data-testid="roster-status"]',
    );
    await status.filter({ hasText: 'Available' }).waitFor();
    await host.dropConnections();
    await page.getByTestId('connection-banner').waitFor();
    await status.filter({ hasText: /unknown/i }).waitFor();
    assert.doesNotMatch((await status.textContent())!, /Available/);
    await host.resume();
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 15_000 });
    await status.filter({ hasText: 'Available' }).waitFor();
  });

  it('draws a certificate accepted once with the warning accent, not the proved one', async () => {
    const { page } = await openUi({
      accounts: [account('a1', 'alice@alpha.test', { status: 'online' })],
      records: [acceptedOnceRecord('r1', 'a1', Date.now() - HOUR)],
    });
    await openSecurity(page, 'alice@alpha.test');
    const card = page.locator('[data-testid="security-record"][data-record-id="r1"]');
    await card.waitFor();
    const classes = (await card.getAttribute('class')) ?? '';
    assert.match(classes, /accent-warn/);
    assert.doesNotMatch(classes, /accent-ok/);
  });

  it('keeps the account chip short while a key-change decision waits', async () => {
    const long =
      'The key of alpha.test changed since you pinned it; Quiver will not sign in until you decide. Needs your decision.';
    const { page } = await openUi({
      accounts: [
        account('a1', 'alice@alpha.test', {
          status: 'error',
          statusText: 'needs your decision',
          error: { code: 'key-changed', message: long },
        }),
      ],
      decisions: [keyChangedDecision('d1', 'a1', 'alice@alpha.test', [])],
    });
    const chip = row(page, 'alice@alpha.test');
    await chip.getByTestId('account-needs-decision').waitFor();
    // The key-change alert opens by itself; "Decide later" (Esc) leaves the chip's button.
    await page.getByTestId('cert-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('cert-dialog').waitFor({ state: 'detached' });
    assert.equal(await chip.getByTestId('account-error').count(), 0, 'the long error is not in the chip');
    assert.equal(await chip.getByText(/Needs your decision/).count(), 1);
    // The full text stays in the account's panel.
    await chip.getByTestId('account-open').click();
    await page.getByText(long).first().waitFor();
  });

  it('moves the focus to the next account after removing one', async () => {
    const { page } = await openUi({
      accounts: [
        account('a1', 'alice@home.example', { label: 'home', order: 0 }),
        account('a2', 'alice@work.example', { label: 'work', order: 1 }),
      ],
    });
    await row(page, 'alice@home.example').getByTestId('account-open').click();
    await page.getByTestId('account-remove').click();
    await page.getByTestId('remove-account-confirm').click();
    await row(page, 'alice@home.example').waitFor({ state: 'detached' });
    await page.waitForFunction(
      () =>
        document.activeElement?.closest('[data-testid="account-row"]')?.getAttribute('data-jid') ===
        'alice@work.example',
    );
  });

  it('moves the focus to the next contact after removing one, and to the heading after the last', async () => {
    const { page } = await openUi(seed());
    await row(page, 'alice@home.example').getByTestId('account-open').click();
    const contactRow = (jid: string) => page.locator(`[data-testid="contact-row"][data-jid="${jid}"]`);
    await contactRow('carol@home.example').getByTestId('contact-remove').click();
    await contactRow('carol@home.example').getByTestId('contact-remove-confirm').click();
    await contactRow('carol@home.example').waitFor({ state: 'detached' });
    await page.waitForFunction(
      () =>
        document.activeElement?.closest('[data-testid="contact-row"]')?.getAttribute('data-jid') ===
        'dave@home.example',
    );
    await contactRow('dave@home.example').getByTestId('contact-remove').click();
    await contactRow('dave@home.example').getByTestId('contact-remove-confirm').click();
    await contactRow('dave@home.example').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.id === 'contacts-title');
  });

  for (const action of ['roster', 'subscribe'] as const) {
    it(`opens Add contact, filled in, for an xmpp:?${action} link`, async () => {
      const { page, core } = await openUi({
        accounts: [
          account('a1', 'alice@example.org', { status: 'online', order: 0 }),
          account('a2', 'alice@work.example', { status: 'online', order: 1, label: 'work' }),
        ],
      });
      core.emit({
        name: 'uri.opened',
        payload: {
          target: {
            jid: 'bob@work.example',
            account: null,
            action,
            body: null,
            name: action === 'roster' ? 'Bob' : null,
          },
        },
      });
      const dialog = page.getByTestId('add-contact-dialog');
      await dialog.waitFor();
      assert.equal(await page.locator('[data-testid="account-panel"]').getAttribute('data-account-id'), 'a2');
      assert.equal(await page.getByTestId('add-contact-jid').inputValue(), 'bob@work.example');
      assert.equal(await page.getByTestId('add-contact-name').inputValue(), action === 'roster' ? 'Bob' : '');
      assert.equal(await page.getByTestId('chat-pane').count(), 0, 'no chat opened instead');
      assert.equal(
        core.calls.some((c) => c.name === 'contact.add'),
        false,
        'a link adds nobody by itself',
      );
    });
  }

  /**
   * Dispatches Escape in the certificate dialog (on what has the focus there, else the dialog: a
   * disabled button loses it) and waits for the page to render what it did.
   */
  const escapeAndRender = (page: Page, isComposing: boolean) =>
    page.evaluate(async (composing) => {
      const dialog = document.querySelector('[data-testid="cert-dialog"]')!;
      const target = dialog.contains(document.activeElement) ? document.activeElement! : dialog;
      target.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Escape', isComposing: composing, bubbles: true, cancelable: true }),
      );
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    }, isComposing);

  it('keeps the certificate dialog open on Esc while an input method composes', async () => {
    const { page } = await openUi({
      accounts: [account('a1', 'alice@selfhosted.example')],
      decisions: [unprovenDecision('d1', 'a1', 'alice@selfhosted.example')],
    });
    await page.getByTestId('cert-dialog').waitFor();
    await escapeAndRender(page, true);
    assert.equal(await page.getByTestId('cert-dialog').count(), 1, 'the composition’s Esc is not the dialog’s');
    await escapeAndRender(page, false);
    await page.getByTestId('cert-dialog').waitFor({ state: 'detached' });
  });

  it('keeps the certificate dialog open on Esc while the answer is being sent', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@selfhosted.example')],
      decisions: [unprovenDecision('d1', 'a1', 'alice@selfhosted.example')],
    });
    await page.getByTestId('cert-dialog').waitFor();
    core.holdNext('certificate.decide');
    await page.getByTestId('cert-accept-once').click();
    await core.waitForHeld();
    await escapeAndRender(page, false);
    assert.equal(await page.getByTestId('cert-dialog').count(), 1, 'Esc does not put off an answer on its way');
  });

  it('does not open the help sheet on ? while another keyboard dialog has the focus on a button', async () => {
    const { page } = await openUi(seed());
    await page.keyboard.press('Control+n');
    const dialog = page.getByTestId('new-chat-dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).focus();
    await page.keyboard.press('?');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.equal(await page.getByTestId('shortcut-help').count(), 0);
    assert.equal(await dialog.count(), 1, 'the new chat dialog stays');
  });

  it('sends label null, back to the default, when the label field is emptied', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@home.example', { label: 'Family' })],
    });
    await row(page, 'alice@home.example').getByTestId('account-open').click();
    await page.getByTestId('account-settings').click();
    await page.getByTestId('account-label').fill('');
    await page.getByTestId('account-submit').click();
    await page.getByTestId('account-label').waitFor({ state: 'detached' });
    const update = core.calls.find((c) => c.name === 'account.update');
    assert.ok(update, 'the form saved');
    assert.equal((update.args as { label?: string | null }).label, null);
  });
});
