/**
 * What the chat specs seed: alice's work account, a long history with bob, and the steps to open a
 * chat and scroll it. Every wait is on what the page shows, never a sleep.
 */
import type { Page } from 'playwright-core';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { openUi } from './harness.ts';
import { account, contact, conversation, message } from './fixtures.ts';

export const BOB = 'bob@example.org';

/** alice@work.example, online, labelled "Work", on a server that offers blocking. */
export const alice = () => account('a1', 'alice@work.example', { status: 'online', label: 'Work', canBlock: true });

/** `count` messages with `peer`, every third one incoming, `spacingMs` apart, ending a minute ago; ids h00000… */
export function history(count: number, spacingMs = 20 * 60_000, peer = BOB): MessageView[] {
  const end = Date.now() - 60_000;
  return Array.from({ length: count }, (_, i) =>
    message(
      `h${String(i).padStart(5, '0')}`,
      'a1',
      peer,
      i % 3 ? 'out' : 'in',
      `message number ${i}`,
      end - (count - 1 - i) * spacingMs,
    ),
  );
}

/** Clicks `peer`'s row in the conversation list and waits for its chat. */
export async function openChat(page: Page, peer: string): Promise<void> {
  await page.locator(`[data-testid="conversation-row"][data-peer="${peer}"]`).click();
  await page.locator(`[data-testid="chat-pane"][data-peer="${peer}"]`).waitFor();
}

/**
 * The window with alice and Bob (a contact) and `count` messages between them (`history`), the
 * chat opened at its newest message.
 */
export async function openBobChat(count: number, spacingMs?: number) {
  const messages = history(count, spacingMs);
  const ui = await openUi({
    accounts: [alice()],
    rosters: { a1: [contact(BOB, 'Bob', 'available')] },
    messages,
    conversations: [conversation('a1', BOB, messages.at(-1)!, { name: 'Bob' })],
  });
  await openChat(ui.page, BOB);
  await ui.page.locator(`[data-message-id="${messages.at(-1)!.id}"]`).waitFor();
  return { ...ui, messages };
}

/** Scrolls the list to its top until `id` is rendered (bounded). */
export async function scrollUpTo(page: Page, id: string): Promise<void> {
  const list = page.getByTestId('message-list');
  for (let step = 0; step < 100; step++) {
    if ((await page.locator(`[data-message-id="${id}"]`).count()) > 0) return;
    const first = await page.getByTestId('message').first().getAttribute('data-message-id');
    await list.evaluate((el) => el.scrollTo(0, 0));
    await page.waitForFunction(
      ([before, target]) =>
        document.querySelector('[data-testid="message"]')?.getAttribute('data-message-id') !== before ||
        !!document.querySelector(`[data-message-id="${target}"]`),
      [first, id] as const,
    );
  }
  await page.locator(`[data-message-id="${id}"]`).waitFor();
}

/** The ids of the message rows in the DOM, top to bottom. */
export const renderedIds = (page: Page) =>
  page.getByTestId('message').evaluateAll((els) => els.map((el) => el.getAttribute('data-message-id')));
