/**
 * What every UI spec file shares: one Chromium per file, a fresh fake host and browser context per
 * test, and the check that ends each test: no console errors and no CSP violations.
 *
 * Call `useUiSuite()` once at the top of a spec file, then `openUi(seed)` in each test.
 */
import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildRenderer, repoRoot, rendererOut } from './buildRenderer.ts';
import { startFakeHost, type FakeData, type FakeHost } from './fakeHost.ts';

const shots = `${repoRoot}/test-results`;
let browser: Browser;

export interface Ui {
  host: FakeHost;
  page: Page;
  context: BrowserContext;
  /** Console errors and CSP violations seen by the page: each test ends by asserting none. */
  problems: string[];
  /** Console errors a test provokes on purpose. */
  allowed: RegExp[];
}
let current: Ui | null = null;

/** Registers the suite's hooks: build (unless run.ts did), launch Chromium, clean up after each test. */
export function useUiSuite(): void {
  before(async () => {
    if (!process.env.QUIVER_UI_BUILT) await buildRenderer();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterEach(async () => {
    if (!current) return;
    const { host, context, problems, allowed } = current;
    current = null;
    await context.close();
    await host.close();
    const unexpected = problems.filter((p) => !allowed.some((re) => re.test(p)));
    assert.deepEqual(unexpected, [], 'the page logged errors or CSP violations');
  });

  after(async () => {
    await browser?.close();
  });
}

/** Starts a fake host with `seed`, opens the UI in a new context and waits for the account list. */
export async function openUi(seed: Partial<FakeData> = {}, colorScheme: 'light' | 'dark' = 'light'): Promise<Ui> {
  const host = await startFakeHost(rendererOut, seed);
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(5_000);
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(host.pageUrl);
  await page.getByTestId('account-list').waitFor();
  current = { host, page, context, problems, allowed: [] };
  return current;
}

export const row = (page: Page, jid: string) => page.locator(`[data-testid="account-row"][data-jid="${jid}"]`);

export async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: `${shots}/${name}.png` });
}
