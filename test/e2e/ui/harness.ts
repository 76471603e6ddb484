/**
 * What every UI spec file shares: one Chromium per file; per test, a fake core (fakeCore.ts) served
 * by the REAL browser host (app/host/browserHost.ts, as `npm start` runs it: production CSP, token
 * and Origin checks) and a fresh browser context; and the check that ends each test: no console
 * errors and no CSP violations.
 *
 * Call `useUiSuite()` once at the top of a spec file, then `openUi(seed)` in each test.
 */
import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../support/chromium.ts';
import { startBrowserHost, type BrowserHost } from '../../../app/host/browserHost.ts';
import { buildRenderer, repoRoot, rendererOut } from './buildRenderer.ts';
import { createFakeCore, type FakeCore, type FakeData } from './fakeCore.ts';

const shots = `${repoRoot}/test-results`;
let browser: Browser;

/** The browser host as a test drives it: it can go away and come back, and counts what the page saw. */
export interface UiHost {
  /** `http://127.0.0.1:PORT/#token=…`: what the host prints. */
  readonly pageUrl: string;
  /** Stops the host (its sockets close, its port refuses) until `resume()`. */
  dropConnections(): Promise<void>;
  /** Starts the host again on the same port with the same token, as if it had never gone. */
  resume(): Promise<void>;
  /** Resolves when the page has opened `count` sockets to the host (reloads included). */
  waitForConnections(count: number): Promise<void>;
  /** Resolves when `count` of the page's attempts to open a socket have failed. */
  waitForRefusals(count: number): Promise<void>;
}

export interface Ui {
  core: FakeCore;
  host: UiHost;
  page: Page;
  context: BrowserContext;
  /** Console errors, CSP violations and host failures: each test ends by asserting none. */
  problems: string[];
  /** Console errors a test provokes on purpose. */
  allowed: RegExp[];
}
let current: { ui: Ui; stop: () => Promise<void> } | null = null;

/** Registers the suite's hooks: build (unless run.ts did), launch Chromium, clean up after each test. */
export function useUiSuite(): void {
  before(async () => {
    if (!process.env.QUIVER_UI_BUILT) await buildRenderer();
    browser = await launchChromium();
  });

  afterEach(async () => {
    if (!current) return;
    const { ui, stop } = current;
    current = null;
    await ui.context.close();
    await stop();
    const unexpected = ui.problems.filter((p) => !ui.allowed.some((re) => re.test(p)));
    assert.deepEqual(unexpected, [], 'the page logged errors or CSP violations, or the host failed');
  });

  after(async () => {
    await browser?.close();
  });
}

/** Serves a fake core seeded with `seed`, opens the UI in a new context and waits for the account list. */
export async function openUi(seed: Partial<FakeData> = {}, colorScheme: 'light' | 'dark' = 'light'): Promise<Ui> {
  const core = createFakeCore(seed);
  const problems: string[] = [];
  const start = (port: number, token?: string) =>
    startBrowserHost({
      core,
      staticDir: rendererOut,
      port,
      token,
      log: (message, detail) => problems.push(`host: ${message} ${String(detail)}`),
    });
  let running: BrowserHost | null = await start(0);
  const { port, token, url } = running;

  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme });
  const page = await context.newPage();
  // A ceiling, not a pause: every wait ends on what the page shows. 5 s was met on a loaded 2-core machine.
  page.setDefaultTimeout(15_000);
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));

  // The page's sockets, counted as they open (a frame went out) or fail to.
  const counters = { opened: 0, refused: 0 };
  const waiters: { counter: keyof typeof counters; count: number; resolve: () => void }[] = [];
  const bump = (counter: keyof typeof counters) => {
    counters[counter]++;
    for (const w of waiters.filter((x) => x.counter === counter && counters[counter] >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const waitFor = (counter: keyof typeof counters, count: number) =>
    counters[counter] >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ counter, count, resolve }));
  page.on('websocket', (ws) => {
    ws.once('framesent', () => bump('opened'));
    ws.once('socketerror', () => bump('refused'));
  });

  const host: UiHost = {
    pageUrl: url,
    async dropConnections() {
      const stopping = running;
      running = null;
      await stopping?.close();
    },
    async resume() {
      running ??= await start(port, token);
    },
    waitForConnections: (count) => waitFor('opened', count),
    waitForRefusals: (count) => waitFor('refused', count),
  };
  const ui: Ui = { core, host, page, context, problems, allowed: [] };
  current = { ui, stop: async () => running?.close() };
  await page.goto(url);
  await page.getByTestId('account-list').waitFor();
  return ui;
}

export const row = (page: Page, jid: string) => page.locator(`[data-testid="account-row"][data-jid="${jid}"]`);

/** The conversation list's row of `peer` on account `accountId`. */
export const conversationRow = (page: Page, accountId: string, peer: string) =>
  page.locator(`[data-testid="conversation-row"][data-account-id="${accountId}"][data-peer="${peer}"]`);

export async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: `${shots}/${name}.png` });
}
