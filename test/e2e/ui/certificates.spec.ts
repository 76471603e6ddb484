/**
 * The certificate decision dialog and pinned keys (issue 3, "Pins") against the browser host and a fake core:
 * "a server nothing above can prove (self-signed, private CA) is never accepted silently. The user
 * sees the certificate (subject, SANs, issuer, validity, SHA-256 fingerprints) and what was tried,
 * and chooses: refuse, accept once, or pin the key for this account and domain. A pinned server
 * whose key changes is refused with an alert that shows the old and new keys."
 *
 * Run with `node_modules/.bin/node test/e2e/ui/run.ts` (with the other UI specs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { FakeCore } from './fakeCore.ts';
import { openUi, row, shoot, useUiSuite } from './harness.ts';
import { openSecurity } from './openSecurity.ts';
import { account, keyChangedDecision, pin, securityRecord, unprovenDecision } from './fixtures.ts';

useUiSuite();

const decideCalls = (core: FakeCore) => core.calls.filter((c) => c.name === 'certificate.decide').map((c) => c.args);
const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
const dialogOf = (page: Page, decisionId: string) =>
  page.locator(`[data-testid="cert-dialog"][data-decision-id="${decisionId}"]`);

describe('Certificate decisions and pinned keys', () => {
  it('asks about an unproven server, shows what it knows, and sends each of the three choices', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@selfhosted.example')],
      decisions: [unprovenDecision('d1', 'a1', 'alice@selfhosted.example')],
    });
    const dialog = page.getByRole('dialog', { name: 'Quiver could not prove that this server is selfhosted.example' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('data-testid'), 'cert-dialog');
    assert.equal(await dialog.getAttribute('data-kind'), 'unproven');
    assert.equal(await focusedTestId(page), 'cert-refuse', 'Refuse has the focus first');

    assert.equal(
      await dialog.getByTestId('cert-dialog-reason').innerText(),
      'selfhosted.example presented a self-signed certificate and neither DANE nor POSH vouches for it.',
    );
    const tried = dialog.getByTestId('cert-dialog-tried');
    assert.equal(await tried.locator('li').count(), 3);
    assert.match(
      await tried.locator('li[data-prooftype="pkix"]').innerText(),
      /PKIX\s+did not hold:\s+the certificate is self-signed/,
    );
    assert.match(
      await tried.locator('li[data-prooftype="posh"]').innerText(),
      /POSH.*no POSH document at https:\/\/selfhosted\.example/s,
    );
    assert.equal(await dialog.getByTestId('cert-dialog-subject').innerText(), 'CN=chat.selfhosted.example');
    assert.match(
      await dialog.getByTestId('cert-dialog-sans').innerText(),
      /^chat\.selfhosted\.example\s+selfhosted\.example \(XMPP address\)$/,
    );
    assert.match(
      await dialog.getByTestId('cert-dialog-issuer').innerText(),
      /CN=chat\.selfhosted\.example\s+self-signed/,
    );
    const validity = dialog.getByTestId('cert-dialog-validity');
    assert.equal(await validity.getAttribute('data-validity'), 'expired');
    assert.match(await validity.innerText(), /2024.*2025.*Expired/s);
    assert.equal(await dialog.getByTestId('cert-dialog-sha256').innerText(), '5e'.repeat(32));
    assert.equal(await dialog.getByTestId('cert-dialog-spki').innerText(), 'c4'.repeat(32));
    assert.match(await dialog.getByTestId('cert-dialog-chain').innerText(), /without a chain/);
    assert.equal(await dialog.getByTestId('cert-dialog-old-keys').count(), 0);
    assert.match(await dialog.getByTestId('cert-pin-help').innerText(), /pins this server key for selfhosted\.example/);
    assert.equal(await dialog.getByTestId('cert-pin').innerText(), 'Trust this key for selfhosted.example from now on');
    // The rest of the window is inert behind the modal dialog.
    assert.equal(await page.evaluate(() => document.querySelector('dialog')?.matches(':modal')), true);
    await row(page, 'alice@selfhosted.example').getByTestId('account-needs-decision').waitFor();
    await shoot(page, 'ui-cert-dialog');

    // A refused command keeps the dialog and says why.
    core.failNext('certificate.decide', 'storage-failed', 'Quiver could not save your decision: the disk is full.');
    await dialog.getByTestId('cert-accept-once').click();
    assert.match(await dialog.getByTestId('cert-dialog-error').innerText(), /the disk is full/);

    await dialog.getByTestId('cert-accept-once').click();
    await dialogOf(page, 'd1').waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core).at(-1), { decisionId: 'd1', choice: 'accept-once' });
    await row(page, 'alice@selfhosted.example').getByTestId('account-needs-decision').waitFor({ state: 'detached' });

    core.needDecision(unprovenDecision('d2', 'a1', 'alice@selfhosted.example'));
    await dialogOf(page, 'd2').getByTestId('cert-pin').click();
    await dialogOf(page, 'd2').waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core).at(-1), { decisionId: 'd2', choice: 'pin' });
    assert.deepEqual(
      core.data.pins.map((p) => [p.domain, p.spkiSha256]),
      [['selfhosted.example', 'c4'.repeat(32)]],
    );

    core.needDecision(unprovenDecision('d3', 'a1', 'alice@selfhosted.example'));
    await dialogOf(page, 'd3').getByTestId('cert-refuse').click();
    await dialogOf(page, 'd3').waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core), [
      { decisionId: 'd1', choice: 'accept-once' },
      { decisionId: 'd1', choice: 'accept-once' },
      { decisionId: 'd2', choice: 'pin' },
      { decisionId: 'd3', choice: 'refuse' },
    ]);
    assert.equal(await page.getByTestId('cert-dialog').count(), 0);
  });

  it('alerts when a pinned key changed, with the old and new keys side by side, and replaces the pin', async () => {
    const oldKeys = ['aa'.repeat(32), 'ab'.repeat(32)];
    const { page, core } = await openUi({
      accounts: [
        account('a1', 'alice@example.org', {
          status: 'error',
          error: { code: 'pin-mismatch', message: 'example.org presented a key that differs from the one you pinned.' },
        }),
      ],
      pins: oldKeys.map((key, i) => pin('a1', 'example.org', key, Date.now() - (i + 1) * 86_400_000)),
      decisions: [keyChangedDecision('d1', 'a1', 'alice@example.org', oldKeys)],
    });
    const dialog = page.getByRole('alertdialog', { name: 'Warning: the key of example.org changed' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('data-kind'), 'key-changed');
    assert.equal(await focusedTestId(page), 'cert-refuse');
    const old = dialog.getByTestId('cert-dialog-old-keys').locator('li');
    assert.deepEqual(await old.evaluateAll((items) => items.map((li) => li.getAttribute('data-value'))), oldKeys);
    assert.equal(await dialog.getByTestId('cert-dialog-spki').innerText(), 'e7'.repeat(32));
    assert.equal(
      await dialog.getByTestId('cert-dialog-spki').count(),
      1,
      'the new key is shown once, beside the old ones',
    );
    assert.match(await dialog.getByTestId('cert-dialog-reason').innerText(), /differs from the one you pinned/);
    assert.match(await dialog.innerText(), /can mean someone is intercepting the connection/);
    assert.equal(await dialog.getByTestId('cert-dialog-issuer').innerText(), 'CN=Unknown Intermediate CA');
    assert.equal(await dialog.getByTestId('cert-dialog-validity').getAttribute('data-validity'), 'valid');
    await dialog.getByTestId('cert-dialog-chain').locator('summary').click();
    assert.equal(await dialog.getByTestId('cert-dialog-chain').locator('li').count(), 2);
    assert.equal(await dialog.getByTestId('cert-pin').innerText(), 'Trust the new key for example.org from now on');
    assert.match(
      await row(page, 'alice@example.org').getByTestId('account-needs-decision').innerText(),
      /key of example\.org changed/,
    );
    await shoot(page, 'ui-key-changed');

    await dialog.getByTestId('cert-pin').click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core), [{ decisionId: 'd1', choice: 'pin' }]);
    assert.deepEqual(
      core.data.pins.map((p) => p.spkiSha256),
      ['e7'.repeat(32)],
      'the new key replaced both old ones',
    );
  });

  it('lists the pinned keys in the Security view, removes one after confirmation, and names each prooftype', async () => {
    const now = Date.now();
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      pins: [
        pin('a1', 'example.org', 'c4'.repeat(32), now - 86_400_000),
        pin('a1', 'example.org', 'd5'.repeat(32), now - 3_600_000, null),
      ],
      records: [
        securityRecord('r1', 'a1', now - 7_200_000, {
          endedAt: now - 3_600_000,
          endReason: 'Signed off',
          verification: {
            trusted: true,
            prooftype: 'posh',
            identity: 'dns-id:hosting.example.net',
            delegation: 'posh:https://example.org/.well-known/posh/xmpp-client.json',
            dnssec: 'insecure',
            tried: [
              { prooftype: 'pkix', ok: false, detail: 'the certificate names hosting.example.net, not example.org' },
              {
                prooftype: 'posh',
                ok: true,
                detail: 'fingerprint sha-256 matches https://example.org/.well-known/posh/xmpp-client.json',
              },
            ],
            error: null,
            decision: null,
          },
        }),
        securityRecord('r2', 'a1', now, {
          verification: {
            trusted: true,
            prooftype: 'pin',
            identity: null,
            delegation: null,
            dnssec: 'insecure',
            tried: [{ prooftype: 'pin', ok: true, detail: 'the key matches the one you pinned' }],
            error: null,
            decision: null,
          },
        }),
      ],
    });
    await openSecurity(page, 'alice@example.org');
    const items = page.getByTestId('pins-list').getByTestId('pin-item');
    await items.nth(1).waitFor();
    assert.equal(await items.count(), 2);
    assert.match(
      await items.first().innerText(),
      /example\.org[\s\S]*c4c4[\s\S]*CN=chat\.selfhosted\.example \(self-signed\)[\s\S]*Expired/,
    );

    await shoot(page, 'ui-pins');

    const pinned = page.locator('[data-testid="security-record"][data-record-id="r2"]');
    assert.equal(await pinned.getByTestId('security-verdict').innerText(), 'Pinned by you');
    const posh = page.locator('[data-testid="security-record"][data-record-id="r1"]');
    await posh.locator('summary').first().click();
    await pinned.locator('summary').first().click();
    assert.equal(
      await posh.getByTestId('security-prooftype').innerText(),
      'POSH delegation from example.org to xmpp.example.org',
    );
    assert.equal(
      await posh.getByTestId('security-delegation').innerText(),
      'example.org delegates to this server by its POSH document (https://example.org/.well-known/posh/xmpp-client.json)',
    );
    assert.equal(await pinned.getByTestId('security-prooftype').innerText(), 'you decided to trust this key');
    assert.equal(await pinned.getByTestId('security-delegation').innerText(), '—');

    const first = items.first();
    await first.getByTestId('pin-remove').click();
    await first.getByTestId('pin-remove-cancel').click();
    await first.getByTestId('pin-remove').click();
    await first.getByTestId('pin-remove-confirm').click();
    await page.locator('[data-testid="pin-item"][data-spki="' + 'c4'.repeat(32) + '"]').waitFor({ state: 'detached' });
    assert.equal(await items.count(), 1);
    assert.deepEqual(
      core.calls.filter((c) => c.name === 'pin.remove').map((c) => c.args),
      [{ accountId: 'a1', domain: 'example.org', spkiSha256: 'c4'.repeat(32) }],
    );

    // Pinned or removed in another window: the host announces the whole list.
    core.emit({ name: 'pin.changed', payload: { accountId: 'a1', pins: [] } });
    await page.getByTestId('pins-empty').waitFor();
  });

  it('shows one decision at a time, queues the rest, and lets the account row bring a put-off one back', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@selfhosted.example'), account('a2', 'bob@other.example')],
      decisions: [
        unprovenDecision('d2', 'a2', 'bob@other.example', { at: 2_000 }),
        unprovenDecision('d1', 'a1', 'alice@selfhosted.example', { at: 1_000 }),
      ],
    });
    await dialogOf(page, 'd1').waitFor();
    assert.equal(await page.getByTestId('cert-dialog').count(), 1, 'one dialog at a time, oldest first');
    assert.equal(await page.getByTestId('cert-dialog-queue').innerText(), '1 more decision waits');
    await dialogOf(page, 'd1').getByTestId('cert-refuse').click();
    await dialogOf(page, 'd2').waitFor();
    assert.equal(await page.getByTestId('cert-dialog-queue').count(), 0);
    assert.equal(await focusedTestId(page), 'cert-refuse', 'the next dialog starts with Refuse focused');

    core.needDecision(unprovenDecision('d3', 'a1', 'alice@selfhosted.example'));
    await page.getByTestId('cert-dialog-queue').waitFor();
    assert.equal(await dialogOf(page, 'd2').count(), 1, 'a new decision waits behind the one shown');

    await dialogOf(page, 'd2').getByTestId('cert-later').click();
    await dialogOf(page, 'd3').getByTestId('cert-later').click();
    await page.getByTestId('cert-dialog').waitFor({ state: 'detached' });
    const bobNeeds = row(page, 'bob@other.example').getByTestId('account-needs-decision');
    assert.equal(
      await row(page, 'alice@selfhosted.example')
        .getByTestId('account-needs-decision')
        .getAttribute('data-decision-id'),
      'd3',
    );
    assert.match(await bobNeeds.innerText(), /Needs your decision/);

    await bobNeeds.click();
    await dialogOf(page, 'd2').waitFor();
    // Decided in another window: the dialog goes, and the put-off one stays put off.
    core.data.decisions = core.data.decisions.filter((d) => d.id !== 'd2');
    core.emit({ name: 'certificate.decisionResolved', payload: { decisionId: 'd2' } });
    await page.getByTestId('cert-dialog').waitFor({ state: 'detached' });
    await bobNeeds.waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core), [{ decisionId: 'd1', choice: 'refuse' }]);
  });

  it('is keyboard operable: Tab stays inside the dialog, Escape puts it off, Enter takes the focused choice', async () => {
    const { page, core } = await openUi({ accounts: [account('a1', 'alice@selfhosted.example')] });
    // A form that closes on Escape is open underneath: Escape must answer the dialog only.
    await page.getByTestId('add-account').click();
    await page.getByTestId('account-form').waitFor();
    core.needDecision(unprovenDecision('d1', 'a1', 'alice@selfhosted.example'));
    await dialogOf(page, 'd1').waitFor();
    assert.equal(await focusedTestId(page), 'cert-refuse');

    const insideDialog = () => page.evaluate(() => !!document.activeElement?.closest('[data-testid="cert-dialog"]'));
    const stops = await dialogOf(page, 'd1').locator('button, summary').count();
    for (let i = 0; i < stops + 2; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await insideDialog(), `focus left the dialog after ${i + 1} Tab presses`);
    }
    for (let i = 0; i < stops + 2; i++) {
      await page.keyboard.press('Shift+Tab');
      assert.ok(await insideDialog(), `focus left the dialog after ${i + 1} Shift+Tab presses`);
    }

    // Escape answers nothing: the dialog closes and the decision waits on the account row.
    await page.keyboard.press('Escape');
    await dialogOf(page, 'd1').waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core), []);
    await row(page, 'alice@selfhosted.example').getByTestId('account-needs-decision').waitFor();
    assert.equal(await page.getByTestId('account-form').count(), 1, 'Escape did not reach the form underneath');

    core.needDecision(unprovenDecision('d2', 'a1', 'alice@selfhosted.example'));
    await dialogOf(page, 'd2').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focusedTestId(page), 'cert-accept-once');
    await page.keyboard.press('Enter');
    await dialogOf(page, 'd2').waitFor({ state: 'detached' });
    assert.deepEqual(decideCalls(core).at(-1), { decisionId: 'd2', choice: 'accept-once' });
  });
});
