/**
 * Review of the certificate dialog's words (issue 13: "Accept-once and pins are named as what they
 * are"). The core forgets a key accepted once as soon as the next connection attempt takes it
 * (TrustDecisions.takeAcceptedOnce), so the dialog must not promise more than one connection; and
 * a deferred decision is offered again from the account's chip, since account rows are gone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openUi, useUiSuite } from './harness.ts';
import { account, unprovenDecision } from './fixtures.ts';

useUiSuite();

describe('certificate dialog words', () => {
  it('says accept once covers this connection only, and where a deferred decision waits', async () => {
    const { page } = await openUi({
      accounts: [account('a1', 'alice@selfhosted.example')],
      decisions: [unprovenDecision('d1', 'a1', 'alice@selfhosted.example')],
    });
    const dialog = page.getByTestId('cert-dialog');
    await dialog.waitFor();
    const help = await dialog
      .getByRole('region', { name: 'What the choices mean' })
      .locator('p', { hasText: 'Accept once' })
      .innerText();
    assert.doesNotMatch(help, /restart/, 'a key accepted once is not kept until a restart');
    assert.match(help, /this connection only/);
    assert.match(help, /asks again the next time it connects/);

    const later = [
      await dialog.getByTestId('cert-dialog-esc-note').innerText(),
      (await dialog.getByTestId('cert-later').getAttribute('title')) ?? '',
    ];
    for (const text of later) {
      assert.doesNotMatch(text, /\brow\b/, `no account row any more: ${text}`);
      assert.match(text, /Needs your decision/, `names what the account's chip shows: ${text}`);
    }
    // And what it names is there once the dialog is put off.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.match(await page.getByTestId('account-needs-decision').innerText(), /Needs your decision/);
  });
});
