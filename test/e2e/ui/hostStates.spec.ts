/**
 * The browser host's link states as the page shows them (issue 13: "the browser host says clearly
 * when its token is wrong or the core has stopped"). A wrong or stale token used to show "Cannot
 * reach Quiver — retrying…" for ever while the page hammered the host; a stopped host looked like
 * a network fault.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openUi, row, useUiSuite } from './harness.ts';
import { account } from './fixtures.ts';

useUiSuite();

// Words may wrap anywhere in the markup: any run of white space between them.
const UNAUTHORIZED = new RegExp(
  [
    "This page's link to Quiver is not valid any more \\(Quiver was restarted\\?\\)\\.",
    'Open the link Quiver printed when it started\\.',
  ]
    .join(' ')
    .replaceAll(' ', '\\s+'),
);
const STOPPED = /Quiver has stopped\. Start it again, then reload this page\./;

describe('the browser host link states', () => {
  it('says a wrong token is not valid and stops trying', async () => {
    const ui = await openUi({ accounts: [account('a1', 'alice@example.org')] });
    const origin = new URL(ui.host.pageUrl).origin;
    const page = await ui.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') ui.problems.push(`${msg.type()}: ${msg.text()}`);
    });
    // The background tab's XEP-0352 'inactive' cannot reach the host either, and says so.
    ui.allowed.push(/could not pass the window state on: CommandError: This page's link to Quiver is not valid/);
    let sockets = 0;
    page.on('websocket', () => sockets++);
    const wrong = 'A'.repeat(43);
    const started = Date.now();
    await page.goto(`${origin}/#token=${wrong}`);
    const banner = page.getByTestId('connection-banner');
    await banner.filter({ hasText: UNAUTHORIZED }).waitFor({ timeout: 5_000 });
    assert.ok(Date.now() - started < 5_000);
    // Absence of retries can only be seen over a window of time: watch one much longer than the
    // first retry delay (250 ms) would be.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1_500)));
    assert.equal(sockets, 1, `the page opened ${sockets} sockets with a token the host refused`);
    assert.match(await banner.innerText(), UNAUTHORIZED);
    assert.equal(await page.getByTestId('error-banner').count(), 0, 'one banner says it, not two');
  });

  it('says Quiver has stopped when the host closes, retries slowly, and recovers when it is back', async () => {
    const ui = await openUi({ accounts: [account('a1', 'alice@example.org', { status: 'online' })] });
    const { page, host } = ui;
    // Chromium logs each refused reconnect attempt while the host is away.
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    const stoppedAt = Date.now();
    await host.dropConnections();
    const banner = page.getByTestId('connection-banner');
    await banner.filter({ hasText: STOPPED }).waitFor();
    await host.waitForRefusals(2);
    const elapsed = Date.now() - stoppedAt;
    assert.ok(elapsed >= 4_000, `two retries within ${elapsed} ms of the stop: not slow`);
    assert.match(await banner.innerText(), STOPPED, 'a refused retry keeps saying it stopped');
    await host.resume();
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await row(page, 'alice@example.org').waitFor();
  });
});
