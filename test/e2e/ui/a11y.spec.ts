/**
 * Accessibility of each main view (issue 13, "Tests": "An accessibility check of each main view
 * with axe-core through Playwright: no serious or critical violations"), in light and in dark, as
 * the system says (emulated prefers-color-scheme) and as the person chose (the theme switch); a
 * screenshot of each view per theme goes to test-results/ui-<view>-<theme>.png. And the keyboard:
 * Tab reaches every control of a view, and the focused control shows a visible ring.
 *
 * Fake core (fakeCore.ts) behind the real browser host, seeded as a person with three accounts would
 * see it; every wait is on what the page shows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ACCOUNT_COLORS, type MessageView } from '../../../app/contract/viewModels.ts';
import { describeViolations, runAxe, seriousOnly } from './axe.ts';
import { openUi, row, shoot, useUiSuite, type Ui } from './harness.ts';
import { account, contact, conversation, keyChangedDecision, message, unprovenDecision } from './fixtures.ts';
import { labCertificate, quicRecord, tlsRecord } from './securityFixtures.ts';
import { selfSignedCertificate } from './fixtures.ts';
import type { CertificateProblem } from '../../../app/contract/viewModels.ts';

useUiSuite();

const DAY = 86_400_000;
const NOW = Date.now();
const THEMES = ['light', 'dark'] as const;

/** Bob's chat on the work account: three days with a message in each state. */
function bobMessages(): MessageView[] {
  const bob = 'bob@work.example';
  return [
    message('b1', 'a1', bob, 'in', 'Did you see the report? https://work.example/report', NOW - 2 * DAY),
    message('b2', 'a1', bob, 'out', 'Yes, reading it now', NOW - 2 * DAY + 60_000, 'delivered'),
    message('b3', 'a1', bob, 'in', 'Lunch tomorrow?', NOW - DAY),
    message('b4', 'a1', bob, 'out', 'Sure', NOW - DAY + 60_000, 'acked'),
    message('b5', 'a1', bob, 'out', 'On my way', NOW - 40 * 60_000, 'sent'),
    {
      ...message('b6', 'a1', bob, 'out', 'Where are you?', NOW - 30 * 60_000, 'failed'),
      error: 'bob@work.example is offline and the server does not store messages.',
    },
    message('b7', 'a1', bob, 'out', 'Ping', NOW - 60_000, 'queued'),
  ];
}

/** Three accounts (different colours and statuses), a stranger, unread counts, a draft, a request, records. */
function seed() {
  const messages = [
    ...bobMessages(),
    message('c1', 'a2', 'carol@home.example', 'in', 'Dinner at 8?', NOW - 3 * 3_600_000),
    message('x1', 'a1', 'mallory@elsewhere.example', 'in', 'Hello, is this the sales desk?', NOW - 20 * 60_000),
  ];
  return {
    accounts: [
      account('a1', 'alice@work.example', {
        label: 'Work',
        color: ACCOUNT_COLORS[0],
        order: 0,
        status: 'online',
        statusText: 'online (TLS to xmpp.work.example:5223)',
        boundJid: 'alice@work.example/quiver-1',
        canBlock: true,
      }),
      account('a2', 'alice@home.example', {
        label: 'Home',
        color: ACCOUNT_COLORS[1],
        order: 1,
        status: 'connecting',
        statusText: 'connecting over QUIC to xmpp.home.example:443',
      }),
      account('a3', 'alice@selfhosted.example', {
        label: 'Lab',
        color: ACCOUNT_COLORS[2],
        order: 2,
        status: 'error',
        statusText: 'offline: wrong password',
        error: { code: 'auth-failed', message: 'The server refused the password. Check it in the settings.' },
      }),
    ],
    rosters: {
      a1: [
        contact('bob@work.example', 'Bob', 'available', 'At my desk'),
        contact('dave@work.example', 'Dave', 'away'),
        contact('frank@work.example', null, null),
      ],
      a2: [contact('carol@home.example', 'Carol', 'dnd', 'Cooking')],
    },
    messages,
    conversations: [
      conversation('a1', 'bob@work.example', messages[6]!, { name: 'Bob' }),
      conversation('a2', 'carol@home.example', messages[7]!, { name: 'Carol', unread: 3, draft: 'See you' }),
      conversation('a1', 'mallory@elsewhere.example', messages[8]!, { unread: 1, stranger: true }),
    ],
    requests: [{ accountId: 'a1', jid: 'erin@work.example', message: 'Erin from accounting', at: NOW - 3_600_000 }],
    records: [tlsRecord('t1', 'a1', NOW - 2 * 3_600_000), quicRecord('q1', 'a1', NOW - 60_000)],
  };
}

/** Switches the emulated system scheme and waits until the page follows it. */
async function systemTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
}

/** Runs axe and takes `ui-<view>-<theme>.png`; returns the serious and critical violations, described. */
async function check(page: Page, view: string, theme: string): Promise<string[]> {
  const serious = seriousOnly(await runAxe(page));
  await shoot(page, `ui-${view}-${theme}`);
  return serious.length === 0 ? [] : [`${view} (${theme}):\n${describeViolations(serious)}`];
}

/** Checks the page as it is now in the system's light and dark themes. */
async function checkThemes(page: Page, view: string): Promise<string[]> {
  const found: string[] = [];
  for (const theme of THEMES) {
    await systemTheme(page, theme);
    found.push(...(await check(page, view, theme)));
  }
  return found;
}

function assertClean(found: string[]): void {
  if (found.length > 0) assert.fail(`axe found serious or critical violations:\n${found.join('\n\n')}`);
}

async function listReady(page: Page): Promise<void> {
  await page.locator('[data-testid="conversation-row"][data-peer="mallory@elsewhere.example"]').waitFor();
}

async function openBob(page: Page): Promise<void> {
  await listReady(page);
  await page.locator('[data-testid="conversation-row"][data-peer="bob@work.example"]').click();
  await page.locator('[data-testid="chat-pane"][data-peer="bob@work.example"]').waitFor();
  await page.locator('[data-message-id="b7"]').waitFor();
}

async function openPanel(page: Page): Promise<void> {
  await row(page, 'alice@work.example').getByTestId('account-open').click();
  await page.getByTestId('account-panel').waitFor();
  await page.locator('[data-testid="request-row"][data-jid="erin@work.example"]').waitFor();
  await page.locator('[data-testid="contact-row"][data-jid="frank@work.example"]').waitFor();
}

async function openSecurityExpanded(page: Page): Promise<void> {
  await openPanel(page);
  await page.getByTestId('account-security').first().click();
  await page.getByTestId('security-view').waitFor();
  await page.getByTestId('security-record').nth(1).waitFor();
  // Every record and every folded section inside it, outermost first (a click, as a person opens them).
  const details = page.locator('[data-testid="security-view"] details');
  for (let i = 0; i < (await details.count()); i++) {
    const one = details.nth(i);
    if (!(await one.evaluate((d) => (d as HTMLDetailsElement).open))) await one.locator('xpath=./summary').click();
  }
  await page.getByTestId('security-identity').nth(1).waitFor();
}

/** The main views: how to reach each from a freshly opened window. */
const VIEWS: { name: string; open: (ui: Ui) => Promise<void> }[] = [
  { name: 'conversations', open: ({ page }) => listReady(page) },
  // Not 'chat': ui.spec.ts already writes ui-chat-dark.png.
  { name: 'chat-view', open: ({ page }) => openBob(page) },
  {
    name: 'chat-stranger',
    open: async ({ page }) => {
      await listReady(page);
      await page.locator('[data-testid="conversation-row"][data-peer="mallory@elsewhere.example"]').click();
      await page.getByTestId('stranger-add').waitFor();
    },
  },
  { name: 'account-panel', open: ({ page }) => openPanel(page) },
  { name: 'security', open: ({ page }) => openSecurityExpanded(page) },
  {
    name: 'search',
    open: async ({ page }) => {
      await listReady(page);
      await page.getByTestId('search-input').fill('dinner');
      await page.getByTestId('search-view').getByText('Dinner at 8?').first().waitFor();
    },
  },
  {
    name: 'quick-switcher',
    open: async ({ page }) => {
      await listReady(page);
      await page.keyboard.press('Control+k');
      await page.getByTestId('quick-switcher-item').first().waitFor();
    },
  },
  {
    name: 'new-chat',
    open: async ({ page }) => {
      await listReady(page);
      await page.keyboard.press('Control+n');
      await page.getByTestId('new-chat-dialog').waitFor();
    },
  },
  {
    name: 'help',
    open: async ({ page }) => {
      await listReady(page);
      await page.keyboard.press('Control+/');
      await page.getByTestId('shortcut-help-item').first().waitFor();
    },
  },
  {
    name: 'add-account',
    open: async ({ page }) => {
      await page.getByTestId('add-account').click();
      await page.getByTestId('account-form').waitFor();
      await page.getByTestId('account-advanced').locator('summary').click();
      await page.getByTestId('account-resolver').waitFor();
    },
  },
];

const PROBLEMS: CertificateProblem[] = [
  'wrong-name',
  'expired',
  'not-yet-valid',
  'self-signed',
  'unknown-issuer',
  'missing-intermediate',
];

describe('accessibility: axe-core on each main view, light and dark', () => {
  for (const view of VIEWS) {
    it(`${view.name}: no serious or critical violations`, async () => {
      const ui = await openUi(seed());
      await view.open(ui);
      assertClean(await checkThemes(ui.page, view.name));
    });
  }

  it('certificate dialog for each problem, and the key-change alert: no serious or critical violations', async () => {
    const ui = await openUi({ accounts: seed().accounts });
    const found: string[] = [];
    for (const [i, problem] of PROBLEMS.entries()) {
      const certificate =
        problem === 'wrong-name'
          ? labCertificate(['chat.other.example', 'other.example'], '4d')
          : problem === 'not-yet-valid'
            ? selfSignedCertificate({ notBefore: '2099-01-01T00:00:00Z', notAfter: '2100-01-01T00:00:00Z' })
            : selfSignedCertificate();
      ui.core.needDecision(
        unprovenDecision(`d${i}`, 'a3', 'alice@selfhosted.example', {
          problem,
          certificates: [certificate],
          presentedSpkiSha256: certificate.spkiSha256,
        }),
      );
      const dialog = ui.page.locator(`[data-testid="cert-dialog"][data-decision-id="d${i}"]`);
      await dialog.waitFor();
      found.push(...(await checkThemes(ui.page, `cert-${problem}`)));
      await dialog.getByTestId('cert-refuse').click();
      await dialog.waitFor({ state: 'detached' });
    }
    ui.core.needDecision(keyChangedDecision('k1', 'a3', 'alice@selfhosted.example', ['aa'.repeat(32)]));
    await ui.page.getByTestId('cert-dialog-old-keys').waitFor();
    found.push(...(await checkThemes(ui.page, 'cert-key-changed')));
    assertClean(found);
  });

  it('with the manual override (dark on a light system, light on a dark one): no serious or critical violations', async () => {
    const { page } = await openUi(seed());
    await openBob(page);
    const found: string[] = [];
    await systemTheme(page, 'light');
    await page.getByTestId('theme-toggle').getByText('Dark').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    found.push(...(await check(page, 'override', 'dark')));
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByTestId('theme-toggle').getByText('Light').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    found.push(...(await check(page, 'override', 'light')));
    assertClean(found);
  });
});

/** What the page reports after each Tab: which marked control has the focus, and whether a ring shows. */
interface FocusStep {
  index: number | null;
  label: string;
  ring: boolean;
}

/**
 * Marks every control a keyboard user must reach (visible, enabled, in the Tab order; for a radio
 * group only its checked radio, as browsers do) with data-a11y-index, and returns their count.
 */
async function markControls(page: Page, scope: string): Promise<string[]> {
  return page.evaluate((scope) => {
    const root = document.querySelector(scope) ?? document.body;
    const candidates = Array.from(
      root.querySelectorAll<HTMLElement>(
        'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"]), [contenteditable="true"]',
      ),
    );
    const wanted = candidates.filter((el) => {
      if (el.tabIndex < 0) return false;
      if ((el as HTMLButtonElement).disabled) return false;
      if (el.closest('[inert], [hidden], details:not([open]) > :not(summary)')) return false;
      if (el instanceof HTMLInputElement && el.type === 'hidden') return false;
      if (el instanceof HTMLInputElement && el.type === 'radio' && el.name) {
        const group = Array.from(document.querySelectorAll<HTMLInputElement>(`input[type="radio"][name="${el.name}"]`));
        const checked = group.find((r) => r.checked);
        if (checked ? checked !== el : group[0] !== el) return false;
      }
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') return false;
      // A visually hidden control (a styled radio or checkbox) still takes the focus; others need a box.
      if (el.getClientRects().length === 0) return false;
      return true;
    });
    return wanted.map((el, i) => {
      el.dataset.a11yIndex = String(i);
      return `${el.tagName.toLowerCase()}[${el.dataset.testid ?? el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? ''}]`;
    });
  }, scope);
}

async function focusStep(page: Page): Promise<FocusStep> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    const shows = (node: Element | null) => {
      if (!node) return false;
      const s = getComputedStyle(node);
      const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
      return outline || (s.boxShadow !== 'none' && s.boxShadow !== '');
    };
    const ring =
      !!el && el.matches(':focus-visible') && (shows(el) || shows(el.parentElement) || shows(el.closest('label')));
    return {
      index: el?.dataset.a11yIndex === undefined ? null : Number(el.dataset.a11yIndex),
      label: el ? `${el.tagName.toLowerCase()}[${el.dataset.testid ?? el.getAttribute('aria-label') ?? ''}]` : 'none',
      ring,
    };
  });
}

/** Tabs through the whole page (bounded) and asserts every marked control got the focus with a ring. */
async function tabThrough(page: Page, controls: string[]): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached = new Set<number>();
  const noRing: string[] = [];
  const limit = (await page.evaluate(() => document.querySelectorAll('*').length)) + 10;
  for (let i = 0; i < limit && reached.size < controls.length; i++) {
    await page.keyboard.press('Tab');
    const step = await focusStep(page);
    if (step.index !== null) reached.add(step.index);
    if (!step.ring && step.label !== 'none' && step.label !== 'body[]') noRing.push(step.label);
  }
  const missed = controls.filter((_, i) => !reached.has(i));
  assert.deepEqual(missed, [], 'Tab did not reach these controls');
  assert.deepEqual([...new Set(noRing)], [], 'these controls took the focus without a visible ring');
}

describe('accessibility: the keyboard reaches every control, with a visible focus', () => {
  const views: { name: string; scope: string; open: (page: Page) => Promise<void> }[] = [
    { name: 'window with a chat open', scope: 'body', open: openBob },
    { name: 'account panel', scope: '[data-testid="account-panel"]', open: openPanel },
    { name: 'security view', scope: '[data-testid="security-view"]', open: openSecurityExpanded },
    {
      name: 'add-account form',
      scope: '[data-testid="account-form"]',
      open: async (page) => {
        await page.getByTestId('add-account').click();
        await page.getByTestId('account-form').waitFor();
      },
    },
  ];
  for (const view of views) {
    it(`${view.name}: Tab reaches every control and each shows its focus`, async () => {
      const { page } = await openUi(seed());
      await view.open(page);
      const controls = await markControls(page, view.scope);
      assert.ok(controls.length > 0, 'the view has controls');
      await tabThrough(page, controls);
    });
  }
});
