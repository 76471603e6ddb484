/**
 * End to end: the browser host with the real core, the real Prosody of the lab and Debian's
 * Chromium. Two accounts are added through the UI, one sends the other a message, it arrives, and
 * after a reload it is still there (read back from SQLite). Every wait is on something the page
 * shows, never a sleep. Run under `scripts/withLab.ts` (npm test does); needs the renderer built.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.ts';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import { startBrowserHost, type BrowserHost } from '../../app/host/browserHost.ts';
import { labFromEnv } from '../support/lab.ts';
import { buildRenderer, repoRoot, rendererOut } from './ui/buildRenderer.ts';

const lab = labFromEnv();
let dataDir: string;
let core: QuiverCore;
let host: BrowserHost;
let browser: Browser;
let page: Page;
const problems: string[] = [];

before(async () => {
  if (!process.env.QUIVER_UI_BUILT) await buildRenderer();
  dataDir = mkdtempSync(join(tmpdir(), 'quiver-e2e-'));
  core = await createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });
  host = await startBrowserHost({ core, staticDir: rendererOut });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  page.setDefaultTimeout(20_000);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
});

after(async () => {
  await browser?.close();
  await host?.close();
  await core?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const row = (jid: string) => page.locator(`[data-testid="account-row"][data-jid="${jid}"]`);

/** Fills and submits the add-account form with a lab account (resolver and CA under "Advanced"). */
async function submitAccount(jid: string): Promise<void> {
  await page.getByTestId('add-account').click();
  await page.getByTestId('account-jid').fill(jid);
  await page.getByTestId('account-password').fill(lab.users[jid]!);
  await page.getByTestId('account-advanced').locator('summary').click();
  await page.getByTestId('account-resolver').fill(lab.resolver);
  await page.getByTestId('account-ca-pem').fill(lab.caPem);
  await page.getByTestId('account-submit').click();
}

async function addAccount(jid: string): Promise<void> {
  await submitAccount(jid);
  await page.getByTestId('account-form').waitFor({ state: 'detached' });
  await row(jid).and(page.locator('[data-status="online"]')).waitFor();
}

/**
 * Opens the chat as a person would: its row in the conversation list when the conversation exists
 * (after a reload the list is loaded with the accounts, so it is there once the account row is),
 * else through "New chat" from that account.
 */
async function openChat(accountJid: string, peer: string): Promise<void> {
  const accountId = await row(accountJid).getAttribute('data-account-id');
  assert.ok(accountId, `no account row for ${accountJid}`);
  const listed = page.locator(`[data-testid="conversation-row"][data-account-id="${accountId}"][data-peer="${peer}"]`);
  if ((await listed.count()) > 0) {
    await listed.click();
  } else {
    await page.getByTestId('new-chat').click();
    await page.getByTestId('new-chat-dialog-account').selectOption(accountId);
    await page.getByTestId('new-chat-dialog-jid').fill(peer);
    await page.getByTestId('new-chat-dialog-start').click();
  }
  await page.locator(`[data-testid="chat-pane"][data-account-id="${accountId}"][data-peer="${peer}"]`).waitFor();
}

test('two accounts added through the UI chat with each other, and the chat survives a reload', async () => {
  await addAccount('alice@alpha.test');
  await addAccount('bob@alpha.test');

  const body = `Hello Bob, this is Alice (${new Date().toISOString()})`;
  await openChat('alice@alpha.test', 'bob@alpha.test');
  await page.getByTestId('chat-composer').fill(body);
  await page.getByTestId('chat-send').click();
  const sent = page.locator('[data-testid="message"][data-direction="out"]').filter({ hasText: body });
  // alpha.test's Prosody has mod_smacks: its XEP-0198 ack moves the message past 'sent' to 'acked';
  // Bob's session (in this same app) stores it and answers its XEP-0184 request: 'delivered'.
  await sent.and(page.locator('[data-state="delivered"]')).waitFor();

  await openChat('bob@alpha.test', 'alice@alpha.test');
  const received = page.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: body });
  await received.waitFor();
  mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-chat.png') });

  await page.reload();
  await row('bob@alpha.test').and(page.locator('[data-status="online"]')).waitFor();
  await openChat('bob@alpha.test', 'alice@alpha.test');
  await page.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: body }).waitFor();
  await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-after-reload.png') });

  // An account's security details are one click away in its panel (opened from its chip).
  await row('alice@alpha.test').getByTestId('account-open').click();
  await page.getByTestId('account-security').click();
  const record = page.getByTestId('security-record').first();
  await record.waitFor();
  assert.equal(await record.getAttribute('data-trusted'), 'true');
  // The verdict is a word ("Verified"); the summary says what proved it (PKIX).
  assert.match(await record.getByTestId('security-verdict').innerText(), /verified/i);
  assert.match(await record.getByTestId('security-summary').innerText(), /\(PKIX/);
  await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-security.png') });

  assert.deepEqual(problems, [], 'the page logged errors');
});

test('a self-signed server asks the person; pinning its key connects, and the security view says so', async () => {
  const jid = 'sid@selfsigned.test';
  await submitAccount(jid);

  const dialog = page.getByTestId('cert-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-kind'), 'unproven');
  assert.match(await page.getByTestId('cert-dialog-subject').innerText(), /selfsigned\.test/);
  assert.match(await page.getByTestId('cert-dialog-spki').innerText(), /[0-9a-f]{64}/);
  await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-cert-dialog.png') });
  await page.getByTestId('cert-pin').click();

  await row(jid).and(page.locator('[data-status="online"]')).waitFor();
  await row(jid).getByTestId('account-open').click();
  await page.getByTestId('account-security').click();
  await page.getByTestId('pin-item').first().waitFor();
  const record = page.getByTestId('security-record').first();
  assert.equal(await record.getAttribute('data-trusted'), 'true');
  assert.match(await record.getByTestId('security-verdict').innerText(), /pinned/i);
  await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-pinned.png') });
  assert.deepEqual(problems, [], 'the page logged errors');
});
