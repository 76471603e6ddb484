/**
 * Issue 13's end-to-end test: the multi-account window in Debian's Chromium over the browser host,
 * the real core and the real lab (Prosody 0.12 for alpha.test, selfsigned.test and quic-a.test's
 * backend, Prosody 13 for modern.test). Three accounts on two servers are added through the UI, a
 * stranger writes, a chat is started from each account, unread counts and drafts survive a reload,
 * the security details of a TLS and of a QUIC connection are read, and a self-signed server's
 * certificate is accepted once, then pinned, then its key changes. Each main view is captured in
 * light and dark as test-results/desktop-<view>-<theme>.png.
 *
 * The steps are separate tests sharing one page, in order: a failed step fails the ones after it.
 * Every wait is on something the page shows (or a core event), never a sleep. Run under
 * `scripts/withLab.ts` (npm test does); needs the renderer built unless QUIVER_UI_BUILT is unset.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.ts';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import { startBrowserHost, type BrowserHost } from '../../app/host/browserHost.ts';
import { labFromEnv } from '../support/lab.ts';
import { nextEvent } from '../support/events.ts';
import { labControl } from '../lab/control.ts';
import { buildRenderer, repoRoot, rendererOut } from './ui/buildRenderer.ts';

const lab = labFromEnv();
const ALICE = 'alice@alpha.test';
const BOB = 'bob@alpha.test';
const CAROL = 'carol@modern.test';
/** A modern.test user that is none of the window's accounts: carol writes to it. */
const CAROL_PEER = 'alice@modern.test';
/** A lab user not in alice's roster (the fault pairs have no contacts): the stranger. */
const STRANGER = 'alice-f1@alpha.test';
const QUIC = 'alice@quic-a.test';
/** The lab's user of selfsigned.test kept for this test (sid is the integration test's). */
const SELF_SIGNED = 'carol@selfsigned.test';
const shots = join(repoRoot, 'test-results');
const stamp = () => new Date().toISOString();
/** Text as read aloud: runs of white space (line breaks between inline blocks) as one space. */
const words = (text: string) => text.replace(/\s+/g, ' ').trim();

let dataDirs: string[] = [];
let core: QuiverCore;
let strangerCore: QuiverCore;
let host: BrowserHost;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const openCore = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return createCore({ dataDir: dir, secrets: new FileSecretStore(join(dir, 'secrets.json')) });
};

before(async () => {
  if (!process.env.QUIVER_UI_BUILT) await buildRenderer();
  mkdirSync(shots, { recursive: true });
  core = await openCore('quiver-desktop-');
  strangerCore = await openCore('quiver-stranger-');
  host = await startBrowserHost({ core, staticDir: rendererOut });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 760 }, colorScheme: 'light' });
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
  await strangerCore?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs = [];
});

const row = (jid: string) => page.locator(`[data-testid="account-row"][data-jid="${jid}"]`);
const online = (jid: string) => row(jid).and(page.locator('[data-status="online"]'));

async function accountId(jid: string): Promise<string> {
  const id = await row(jid).getAttribute('data-account-id');
  assert.ok(id, `no account row for ${jid}`);
  return id;
}

async function conversationRow(accountJid: string, peer: string): Promise<Locator> {
  const id = await accountId(accountJid);
  return page.locator(`[data-testid="conversation-row"][data-account-id="${id}"][data-peer="${peer}"]`);
}

/** Captures the window as desktop-<view>-light.png and desktop-<view>-dark.png (the system's scheme). */
async function shoot(view: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
    await page.screenshot({ path: join(shots, `desktop-${view}-${theme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
}

/** Fills and submits the add-account form with a lab account (resolver and CA under "Advanced"). */
async function submitAccount(jid: string, label?: string): Promise<void> {
  await page.getByTestId('add-account').click();
  await page.getByTestId('account-jid').fill(jid);
  await page.getByTestId('account-password').fill(lab.users[jid]!);
  if (label !== undefined) await page.getByTestId('account-label').fill(label);
  const advanced = page.getByTestId('account-advanced');
  if ((await advanced.getAttribute('open')) === null) await advanced.locator('summary').click();
  await page.getByTestId('account-resolver').fill(lab.resolver);
  await page.getByTestId('account-ca-pem').fill(lab.caPem);
  await page.getByTestId('account-submit').click();
}

async function addAccount(jid: string, label?: string): Promise<void> {
  await submitAccount(jid, label);
  await page.getByTestId('account-form').waitFor({ state: 'detached' });
  await online(jid).waitFor();
}

/** Starts a chat with New chat (Ctrl+N) and the account picker; the dialog says who sends. */
async function startChat(accountJid: string, peer: string): Promise<Locator> {
  const id = await accountId(accountJid);
  await page.keyboard.press('Control+n');
  const dialog = page.getByTestId('new-chat-dialog');
  await dialog.waitFor();
  await page.getByTestId('new-chat-dialog-account').selectOption(id);
  assert.match(
    words(await page.getByTestId('new-chat-dialog-sending-as').innerText()),
    new RegExp(`^Sending as ${accountJid}`),
  );
  await page.getByTestId('new-chat-dialog-jid').fill(peer);
  await page.getByTestId('new-chat-dialog-start').click();
  const pane = page.locator(`[data-testid="chat-pane"][data-account-id="${id}"][data-peer="${peer}"]`);
  await pane.waitFor();
  return pane;
}

/** Sends `body` from the open chat after checking the composer names the account; returns the bubble. */
async function send(accountJid: string, body: string): Promise<Locator> {
  const as = page.getByTestId('sending-as');
  assert.match(words(await as.innerText()), new RegExp(`^Sending as ${accountJid}`));
  assert.ok(await as.getByTestId('account-cue').isVisible(), 'the composer shows the account cue');
  await page.getByTestId('chat-composer').fill(body);
  await page.getByTestId('chat-send').click();
  return page.locator('[data-testid="message"][data-direction="out"]').filter({ hasText: body });
}

/** Opens an account's security details from its chip (account panel, "Security details"). */
async function openSecurity(jid: string): Promise<Locator> {
  await row(jid).getByTestId('account-open').click();
  await page.getByTestId('account-panel').waitFor();
  await page.getByTestId('account-security').click();
  const record = page.getByTestId('security-record').first();
  await record.waitFor();
  return record;
}

test('three accounts on two servers are added through the UI, each online with its label and colour', async () => {
  await addAccount(ALICE);
  // Two accounts on alpha.test: the default label is then the whole address (alice@alpha.test); Bob gets his own.
  await addAccount(BOB, 'Bob');
  await addAccount(CAROL);
  const colours = new Set<string>();
  for (const [jid, label] of [
    [ALICE, ALICE],
    [BOB, 'Bob'],
    [CAROL, 'modern.test'],
  ] as const) {
    assert.equal(words(await row(jid).getByTestId('account-chip-label').innerText()), label);
    const colour = await row(jid).evaluate((el) => getComputedStyle(el).getPropertyValue('--account').trim());
    assert.ok(colour, `${jid} has a colour`);
    colours.add(colour);
  }
  assert.equal(colours.size, 3, 'each account has its own colour');
});

test("a stranger's message appears at once in the list with alice's cue and the stranger tag", async () => {
  const strangerOnline = nextEvent(
    strangerCore,
    'account.changed',
    (p) => p.account.jid === STRANGER && p.account.status === 'online',
    30_000,
  );
  const stranger = await strangerCore.handlers['account.add']({
    jid: STRANGER,
    password: lab.users[STRANGER]!,
    resolver: lab.resolver,
    extraCaPem: lab.caPem,
  });
  await strangerOnline;
  const body = `Hello, we have not met (${stamp()})`;
  await strangerCore.handlers['chat.send']({ accountId: stranger.id, to: ALICE, body });

  const listed = await conversationRow(ALICE, STRANGER);
  await listed.filter({ hasText: body }).waitFor();
  await listed.getByTestId('stranger-tag').waitFor();
  const aliceLabel = await row(ALICE).getByTestId('account-chip-label').innerText();
  assert.equal((await listed.getByTestId('account-cue').innerText()).trim(), aliceLabel.trim());
  assert.notEqual(await listed.getAttribute('data-unread'), '0');

  await listed.click();
  await page.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: body }).waitFor();
  await page.getByTestId('stranger-bar').waitFor();
  assert.ok(await page.getByTestId('stranger-add').isVisible(), 'the chat offers "Add contact"');
  assert.ok(await page.getByTestId('stranger-block').isVisible(), 'the chat offers "Block" (alpha.test blocks)');
});

test('a chat is started from each account and every message reaches the server', async () => {
  const fromAlice = `Alice to Bob (${stamp()})`;
  await startChat(ALICE, BOB);
  const aliceSent = await send(ALICE, fromAlice);
  // Bob's session (in this same window) stores it and answers its XEP-0184 request.
  await aliceSent.and(page.locator('[data-state="delivered"]')).waitFor();

  const fromBob = `Bob to Alice (${stamp()})`;
  await startChat(BOB, ALICE);
  await page.locator('[data-testid="message"][data-direction="in"]').filter({ hasText: fromAlice }).waitFor();
  const bobSent = await send(BOB, fromBob);
  await bobSent.and(page.locator('[data-state="delivered"]')).waitFor();

  // Nobody is signed in as alice@modern.test: Prosody 13's XEP-0198 ack ('acked') is as far as it goes.
  const fromCarol = `Carol to Alice at modern.test (${stamp()})`;
  await startChat(CAROL, CAROL_PEER);
  const carolSent = await send(CAROL, fromCarol);
  await carolSent.and(page.locator('[data-state="acked"], [data-state="delivered"]')).waitFor();
  await shoot('chat');

  // Bob's message waits unread in Alice's conversation with Bob (another chat is open).
  const aliceBob = await conversationRow(ALICE, BOB);
  await aliceBob.filter({ hasText: fromBob }).and(page.locator(':not([data-unread="0"])')).waitFor();
  // Each row carries its account's cue in words: alice's conversation with Bob, Bob's with Alice.
  assert.equal(words(await aliceBob.getByTestId('account-cue').innerText()), ALICE);
  assert.equal(words(await (await conversationRow(BOB, ALICE)).getByTestId('account-cue').innerText()), 'Bob');
});

test('unread counts and drafts survive a reload (read back from SQLite through the core)', async () => {
  const draft = `unfinished thought ${stamp()}`;
  await page.getByTestId('chat-composer').fill(draft);
  const carolRow = await conversationRow(CAROL, CAROL_PEER);
  // The row shows the draft once the core stored it (conversation.setDraft → conversation.changed).
  await carolRow.getByTestId('conversation-draft').filter({ hasText: draft }).waitFor();
  const aliceBob = await conversationRow(ALICE, BOB);
  const unread = Number(await aliceBob.getAttribute('data-unread'));
  assert.ok(unread > 0, 'alice has an unread message from bob');

  await page.reload();
  for (const jid of [ALICE, BOB, CAROL]) await online(jid).waitFor();
  await aliceBob.and(page.locator(`[data-unread="${unread}"]`)).waitFor();
  assert.equal(
    await aliceBob
      .getByTestId('unread-count')
      .innerText()
      .then((t) => parseInt(t, 10)),
    unread,
  );
  await carolRow.getByTestId('conversation-draft').filter({ hasText: draft }).waitFor();
  await carolRow.click();
  await page.waitForFunction(
    (text) => (document.querySelector('[data-testid="chat-composer"]') as HTMLTextAreaElement | null)?.value === text,
    draft,
  );
  await page.getByTestId('chat-composer').fill('');
});

test('the security details of a TLS and of a QUIC connection say the transport and the proof in words', async () => {
  const tls = await openSecurity(ALICE);
  assert.equal(await tls.getAttribute('data-trusted'), 'true');
  const tlsSummary = await tls.getByTestId('security-summary').innerText();
  assert.match(tlsSummary, /Verified: the certificate proves alpha\.test \(PKIX/);
  assert.match(tlsSummary, /(direct TLS|STARTTLS) to /);
  assert.match(tlsSummary, /TLS 1\.[23]/);
  await shoot('security');

  await addAccount(QUIC);
  const quic = await openSecurity(QUIC);
  assert.equal(await quic.getAttribute('data-trusted'), 'true');
  const quicSummary = await quic.getByTestId('security-summary').innerText();
  assert.match(quicSummary, /Verified: the certificate proves quic-a\.test \(PKIX/);
  assert.match(quicSummary, /QUIC to /);
  await shoot('security-quic');

  await row(ALICE).getByTestId('account-open').click();
  await page.getByTestId('account-panel').waitFor();
  await shoot('account');
});

test('search, the quick switcher and the help sheet', async () => {
  await page.keyboard.press('Control+f');
  await page.getByTestId('search-input').fill('Alice to Bob');
  await page.getByTestId('search-view').waitFor();
  await page.getByTestId('search-hit').first().waitFor();
  await shoot('search');
  await page.getByTestId('search-input').fill('');
  await page.keyboard.press('Escape');

  await page.keyboard.press('Control+k');
  await page.getByTestId('quick-switcher').waitFor();
  await page.getByTestId('quick-switcher-input').fill('bob');
  await page.getByTestId('quick-switcher-item').first().waitFor();
  await shoot('quick-switcher');
  await page.keyboard.press('Escape');
  await page.getByTestId('quick-switcher').waitFor({ state: 'detached' });

  await page.keyboard.press('Control+/');
  await page.getByTestId('shortcut-help').waitFor();
  await shoot('help');
  await page.keyboard.press('Escape');
  await page.getByTestId('shortcut-help').waitFor({ state: 'detached' });
});

test('a self-signed server: accept once, asked again, pin, then the key-change alert after the lab swaps the key', async () => {
  const dialog = page.getByTestId('cert-dialog');
  await submitAccount(SELF_SIGNED);
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-problem'), 'self-signed');
  assert.match(await page.getByTestId('cert-dialog-problem').innerText(), /signed by itself/i);
  const firstKey = await page.getByTestId('cert-dialog-spki').first().getAttribute('data-value');
  assert.match(firstKey ?? '', /^[0-9a-f]{64}$/i);
  await shoot('certificate');

  await page.getByTestId('cert-accept-once').click();
  await online(SELF_SIGNED).waitFor();
  const once = await openSecurity(SELF_SIGNED);
  assert.match(await once.getByTestId('security-summary').innerText(), /Accepted once by you/);
  await page.getByTestId('pins-empty').waitFor();

  // Reconnecting asks again: accepting once was for that connection only.
  await row(SELF_SIGNED).getByTestId('account-open').click();
  const enabled = page.getByTestId('account-enabled');
  await enabled.uncheck();
  await row(SELF_SIGNED).and(page.locator(':not([data-status="online"])')).waitFor();
  await enabled.check();
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-kind'), 'unproven');

  await page.getByTestId('cert-pin').click();
  await online(SELF_SIGNED).waitFor();
  const pinned = await openSecurity(SELF_SIGNED);
  assert.match(await pinned.getByTestId('security-summary').innerText(), /you pinned this key/i);
  await page.locator(`[data-testid="pin-item"][data-domain="selfsigned.test"][data-spki="${firstKey}"]`).waitFor();

  // The lab gives selfsigned.test a new key and restarts its Prosody; the account reconnects.
  await labControl(lab.control, 'swap-key selfsigned', 60_000);
  await dialog.and(page.locator('[data-kind="key-changed"]')).waitFor({ timeout: 60_000 });
  const newKey = await page.getByTestId('cert-dialog-spki').first().getAttribute('data-value');
  assert.match(newKey ?? '', /^[0-9a-f]{64}$/i);
  assert.notEqual(newKey, firstKey);
  // The alert shows the key pinned before next to the one presented now.
  await page.getByTestId('cert-dialog-old-keys').locator(`li[data-value="${firstKey}"]`).waitFor();
  await shoot('key-change');

  assert.deepEqual(problems, [], 'the page logged errors');
});
