/**
 * The security details (issue 13, "Security details"): per account, every connection with "a
 * summary at a glance, details one click away", the prooftype and what it proved in words, SASL and
 * channel binding explained, "Accept-once and pins are named as what they are", no raw tokens, no
 * horizontal overflow at 900 px; and the certificate decision dialog that "names the actual problem
 * ... with advice that fits it, and the key-change alert shows old and new keys".
 *
 * Run with `node_modules/.bin/node test/e2e/ui/run.ts` (with the other UI specs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { CertificateProblem } from '../../../app/contract/viewModels.ts';
import { openUi, row, shoot, useUiSuite } from './harness.ts';
import { account, keyChangedDecision, pin, selfSignedCertificate, unprovenDecision } from './fixtures.ts';
import { openSecurity } from './openSecurity.ts';
import { acceptedOnceRecord, labCertificate, quicRecord, tlsRecord } from './securityFixtures.ts';

useUiSuite();

const card = (page: Page, id: string) => page.locator(`[data-testid="security-record"][data-record-id="${id}"]`);
const RAW_TOKENS = ['dns:', 'dns-id:', 'srv-id:', 'xmppaddr:', 'user-accepted-once', 'srv:_xmpp', 'posh:', 'pin:'];

describe('Security details', () => {
  it('sums each connection up in one line, opens the details on a click, in words and without tokens', async () => {
    const now = Date.now();
    const pinnedAt = now - 5 * 86_400_000;
    const pinnedRecord = tlsRecord('p1', 'a1', now - 7_200_000);
    const pinnedKey = pinnedRecord.certificates[0]!.spkiSha256;
    pinnedRecord.verification = {
      ...pinnedRecord.verification,
      prooftype: 'pin',
      identity: `pin:${pinnedKey}`,
      userDecision: 'pinned',
    };
    const { page } = await openUi({
      accounts: [account('a1', 'alice@alpha.test', { status: 'online' })],
      pins: [pin('a1', 'alpha.test', pinnedKey, pinnedAt, pinnedRecord.certificates[0]!)],
      records: [
        tlsRecord('t1', 'a1', now - 60_000),
        acceptedOnceRecord('s1', 'a1', now - 3_600_000),
        quicRecord('q1', 'a1', now),
        pinnedRecord,
      ],
    });
    await page.setViewportSize({ width: 900, height: 720 });
    await openSecurity(page, 'alice@alpha.test');
    const cards = page.getByTestId('security-record');
    await cards.nth(3).waitFor();
    assert.deepEqual(
      await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-record-id'))),
      ['q1', 't1', 's1', 'p1'],
      'newest first',
    );

    const tls = card(page, 't1');
    assert.equal(
      await tls.getByTestId('security-summary').innerText(),
      'Verified: the certificate proves alpha.test (PKIX, DNS-ID alpha.test) · TLS 1.3 · direct TLS to xmpp.alpha.test:5223 · SCRAM-SHA-256-PLUS with channel binding',
    );
    // Details one click away.
    assert.equal(await tls.getByTestId('security-identity').isVisible(), false, 'details start folded');
    await tls.locator('summary').first().click();
    await tls.getByTestId('security-identity').waitFor();
    assert.equal(await tls.getByTestId('security-identity').innerText(), 'DNS-ID alpha.test');
    assert.match(await tls.getByTestId('security-prooftype').innerText(), /PKIX/);
    assert.match(await tls.getByTestId('security-source').innerText(), /SRV _xmpps-client\._tcp/);
    assert.match(await tls.getByTestId('security-dnssec').innerText(), /not signed/i);
    assert.match(await tls.getByTestId('security-ech').innerText(), /Not offered/);
    assert.match(await tls.getByTestId('security-sasl').innerText(), /SCRAM-SHA-256-PLUS[\s\S]*never sent/);
    assert.match(await tls.getByTestId('security-channel-binding').innerText(), /tls-exporter[\s\S]*RFC 9266/);
    assert.match(await tls.getByTestId('security-login').innerText(), /SASL2.*Bind 2/);
    assert.match(await tls.getByTestId('security-certificate').first().innerText(), /alpha\.test[\s\S]*Quiver Lab CA/);

    const starttls = card(page, 's1');
    assert.match(
      await starttls.getByTestId('security-summary').innerText(),
      /^Accepted once by you: nothing proved the server is alpha\.test · TLS 1\.2 · STARTTLS to beta\.test:5222 · SCRAM-SHA-1 without channel binding$/,
    );
    assert.equal(await starttls.getByTestId('security-verdict').innerText(), 'Accepted once');
    await starttls.locator('summary').first().click();
    assert.equal(
      await starttls.getByTestId('security-user-decision').innerText(),
      'You accepted this certificate once, for this connection only',
    );
    assert.match(await starttls.getByTestId('security-source').innerText(), /Default/);

    const pinned = card(page, 'p1');
    assert.equal(await pinned.getByTestId('security-verdict').innerText(), 'Pinned by you');
    await pinned.locator('summary').first().click();
    const date = await page.evaluate(
      (at) => new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(at),
      pinnedAt,
    );
    assert.equal(await pinned.getByTestId('security-user-decision').innerText(), `You pinned this key on ${date}`);
    assert.equal(await page.getByTestId('pin-item').count(), 1, 'the accepted-once key is not listed as a pin');

    const quic = card(page, 'q1');
    assert.match(
      await quic.getByTestId('security-summary').innerText(),
      /· QUIC to xmpp\.alpha\.test:443 \(shared with 2 other accounts\) ·/,
    );
    await quic.locator('summary').first().click();
    assert.match(await quic.getByTestId('security-source').innerText(), /SRV _xmppq-client\._udp/);
    assert.match(await quic.getByTestId('security-dnssec').innerText(), /validated/i);
    await quic.getByTestId('security-path-event').first().waitFor();

    // No token reaches the screen as such.
    const text = await page.getByTestId('security-view').innerText();
    for (const token of RAW_TOKENS) assert.ok(!text.includes(token), `the page shows the raw token ${token}`);

    // A long key hash wraps inside its column; nothing scrolls sideways at 900 px.
    const overflowing = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('[data-testid="security-view"] .fingerprint'))
        .filter((el) => el.getClientRects().length > 0)
        .filter((el) => el.scrollWidth > el.clientWidth || el.getBoundingClientRect().right > window.innerWidth)
        .map((el) => el.textContent),
    );
    assert.deepEqual(overflowing, []);
    const pageWide = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      view: document.documentElement.clientWidth,
    }));
    assert.ok(pageWide.doc <= pageWide.view, `the page scrolls sideways: ${pageWide.doc} > ${pageWide.view}`);
    const viewWide = await page
      .getByTestId('security-view')
      .evaluate(
        (el) =>
          Array.from(el.querySelectorAll<HTMLElement>('*')).filter(
            (e) =>
              e.scrollWidth > e.clientWidth + 1 &&
              getComputedStyle(e).overflowX !== 'visible' &&
              getComputedStyle(e).overflowX !== 'hidden',
          ).length,
      );
    assert.equal(viewWide, 0, 'no element in the security view scrolls sideways');
    await shoot(page, 'ui-security-details');
  });
});

describe('Certificate decision dialog wording', () => {
  const cases: { problem: CertificateProblem; problemText: RegExp; advice: RegExp }[] = [
    {
      problem: 'wrong-name',
      problemText: /^The certificate is for chat\.other\.example and other\.example, not selfhosted\.example\.$/,
      advice: /misconfigured server or someone intercepting.*admin told you this name is expected/,
    },
    { problem: 'expired', problemText: /^The certificate expired on .*2025 \(today is .*\)\.$/, advice: /renew/ },
    { problem: 'not-yet-valid', problemText: /valid only from .*2099/, advice: /date and time/ },
    { problem: 'self-signed', problemText: /signed by itself: no authority vouches for it/, advice: /fingerprint/ },
    {
      problem: 'unknown-issuer',
      problemText: /^The certificate is issued by Corp Root, an authority Quiver does not know\.$/,
      advice: /organisation's own authority.*advanced settings/,
    },
    {
      problem: 'missing-intermediate',
      problemText: /did not send the certificate that links it to an authority/,
      advice: /admin must fix/,
    },
  ];

  it('names the actual problem with advice that fits it', async () => {
    const { page, core } = await openUi({ accounts: [account('a1', 'alice@selfhosted.example')] });
    for (const [i, c] of cases.entries()) {
      const certificate =
        c.problem === 'wrong-name'
          ? labCertificate(['chat.other.example', 'other.example'], '4d')
          : c.problem === 'not-yet-valid'
            ? selfSignedCertificate({ notBefore: '2099-01-01T00:00:00Z', notAfter: '2100-01-01T00:00:00Z' })
            : c.problem === 'unknown-issuer'
              ? selfSignedCertificate({ issuer: 'CN=Corp Root,O=Corp' })
              : selfSignedCertificate();
      core.needDecision(
        unprovenDecision(`d${i}`, 'a1', 'alice@selfhosted.example', {
          problem: c.problem,
          certificates: [certificate],
          presentedSpkiSha256: certificate.spkiSha256,
        }),
      );
      const dialog = page.locator(`[data-testid="cert-dialog"][data-decision-id="d${i}"]`);
      await dialog.waitFor();
      assert.equal(await dialog.getAttribute('data-problem'), c.problem);
      assert.match(await dialog.getByTestId('cert-dialog-problem').innerText(), c.problemText, c.problem);
      assert.match(await dialog.getByTestId('cert-dialog-advice').innerText(), c.advice, c.problem);
      if (c.problem === 'wrong-name')
        assert.doesNotMatch(await dialog.getByTestId('cert-dialog-advice').innerText(), /authority|CA/);
      assert.equal(
        await dialog.getByTestId('cert-pin').innerText(),
        'Trust this key for selfhosted.example from now on',
      );
      if (c.problem === 'wrong-name') await shoot(page, 'ui-cert-wrong-name');
      await dialog.getByTestId('cert-refuse').click();
      await dialog.waitFor({ state: 'detached' });
    }
  });

  it('alerts on a changed key with the old and new keys side by side, and Esc leaves the decision pending', async () => {
    const oldKeys = ['aa'.repeat(32)];
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org')],
      decisions: [{ ...keyChangedDecision('d1', 'a1', 'alice@example.org', oldKeys), problem: 'key-changed' }],
    });
    await page.setViewportSize({ width: 900, height: 720 });
    const dialog = page.getByRole('alertdialog', { name: 'Warning: the key of example.org changed' });
    await dialog.waitFor();
    assert.match(await dialog.getByTestId('cert-dialog-problem').innerText(), /different key from the one you pinned/);
    const old = dialog.getByTestId('cert-dialog-old-keys');
    const now = dialog.getByTestId('cert-dialog-spki');
    assert.equal(await old.locator('li').first().innerText(), 'aa'.repeat(32), 'grouping adds no characters');
    assert.equal(await now.innerText(), 'e7'.repeat(32));
    assert.ok((await now.locator('.group').count()) >= 8, 'the new key is shown in groups');
    const oldBox = (await old.boundingBox())!;
    const newBox = (await now.boundingBox())!;
    assert.ok(newBox.x > oldBox.x + oldBox.width - 1, 'old and new keys stand side by side');
    const overflow = await dialog.evaluate((el) =>
      Array.from(el.querySelectorAll<HTMLElement>('.fingerprint')).some((f) => f.scrollWidth > f.clientWidth),
    );
    assert.equal(overflow, false, 'the keys wrap inside their boxes');
    assert.match(await dialog.getByTestId('cert-dialog-esc-note').innerText(), /Esc.*waiting/);
    await shoot(page, 'ui-key-changed-alert');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(
      core.calls.filter((c) => c.name === 'certificate.decide'),
      [],
      'Esc decided nothing',
    );
    await row(page, 'alice@example.org').getByTestId('account-needs-decision').click();
    await dialog.waitFor();
  });
});
