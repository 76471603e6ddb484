/**
 * The window's frame (issue 13): the one conversation list across accounts with account cues,
 * unread counts in the list and the title, drafts, search, notifications and a page that never
 * scrolls. Fake core (fakeCore.ts) behind the real browser host; every wait is on what the page
 * shows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conversationRow, openUi, useUiSuite } from './harness.ts';
import { account, contact, conversation, message } from './fixtures.ts';
import { fakeNotifications, shownNotifications } from './fakeNotifications.ts';

useUiSuite();

const HOUR = 3_600_000;

/** Two accounts with one conversation each; bob's (on work) is the most recent. */
function twoAccounts() {
  const now = Date.now();
  const m1 = message('m1', 'a1', 'carol@home.example', 'in', 'See you at dinner', now - 3 * HOUR);
  const m2 = message('m2', 'a2', 'bob@work.example', 'out', 'The report is ready', now - HOUR);
  return {
    accounts: [
      account('a1', 'alice@home.example', { label: 'home', color: '#15803d', order: 0, status: 'online' }),
      account('a2', 'alice@work.example', { label: 'work', color: '#c2410c', order: 1, status: 'online' }),
    ],
    rosters: {
      a1: [contact('carol@home.example', 'Carol', 'available')],
      a2: [contact('bob@work.example', 'Bob', 'away')],
    },
    messages: [m1, m2],
    conversations: [
      conversation('a1', 'carol@home.example', m1, { name: 'Carol', unread: 2 }),
      conversation('a2', 'bob@work.example', m2, { name: 'Bob' }),
    ],
  };
}

describe('the conversation list across accounts', () => {
  it('shows the conversations of both accounts with their cues, most recent first', async () => {
    const { page } = await openUi(twoAccounts());
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    await nav.getByTestId('conversation-row').nth(1).waitFor();
    const rows = nav.getByTestId('conversation-row');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-peer'))), [
      'bob@work.example',
      'carol@home.example',
    ]);
    const bob = conversationRow(page, 'a2', 'bob@work.example');
    assert.equal(await bob.getByTestId('account-cue').innerText(), 'work');
    assert.equal(await bob.getByTestId('account-cue').getAttribute('title'), 'alice@work.example');
    assert.match(await bob.innerText(), /You: The report is ready/);
    assert.equal(
      await conversationRow(page, 'a1', 'carol@home.example').getByTestId('account-cue').innerText(),
      'home',
    );
  });

  it('a message from a stranger appears at once, tagged, and moves to the top', async () => {
    const { page, core } = await openUi(twoAccounts());
    await conversationRow(page, 'a2', 'bob@work.example').waitFor();
    core.receive(message('m9', 'a1', 'mallory@elsewhere.example', 'in', 'hi, who is this?', Date.now()));
    const row = conversationRow(page, 'a1', 'mallory@elsewhere.example');
    await row.getByTestId('stranger-tag').waitFor();
    assert.equal(await row.getAttribute('data-unread'), '1');
    assert.equal(
      await page.getByTestId('conversation-row').first().getAttribute('data-peer'),
      'mallory@elsewhere.example',
    );
    assert.equal(await row.getByTestId('account-cue').innerText(), 'home');
  });

  it('shows unread counts and their total in the title, and clears them when the chat opens', async () => {
    const { page, core } = await openUi(twoAccounts());
    const carol = conversationRow(page, 'a1', 'carol@home.example');
    assert.equal(await carol.getByTestId('unread-count').textContent(), '2 unread');
    await page.waitForFunction(() => document.title === '(2) Quiver');
    await carol.click();
    await page.waitForFunction(() => document.title === 'Quiver');
    await carol.getByTestId('unread-count').waitFor({ state: 'detached' });
    assert.equal(await carol.getAttribute('aria-current'), 'true');
    assert.ok(core.calls.some((c) => c.name === 'conversation.markRead'));
    assert.equal(core.data.conversations.find((c) => c.peer === 'carol@home.example')?.unread, 0);

    // A message into the open chat of a focused window is read at once.
    core.receive(message('m10', 'a1', 'carol@home.example', 'in', 'still there?', Date.now()));
    await page.getByText('still there?').first().waitFor();
    await page.waitForFunction(() => document.title === 'Quiver');
    // Into another conversation: counted.
    core.receive(message('m11', 'a2', 'bob@work.example', 'in', 'ping', Date.now()));
    await page.waitForFunction(() => document.title === '(1) Quiver');
  });

  it('a chat started with an address nobody wrote from stays in the list', async () => {
    const { page, core } = await openUi(twoAccounts());
    await conversationRow(page, 'a2', 'bob@work.example').waitFor();
    // Through the state API the New chat dialog uses.
    core.emit({
      name: 'conversation.changed',
      payload: { conversation: conversation('a2', 'dave@work.example', null, { lastActivity: Date.now() }) },
    });
    await conversationRow(page, 'a2', 'dave@work.example').click();
    await page.getByTestId('chat-pane').waitFor();
    assert.ok(core.calls.some((c) => c.name === 'conversation.markRead'));
  });

  it('shows a draft as "Draft:" and keeps it over a reload', async () => {
    const seed = twoAccounts();
    seed.conversations[1]!.draft = 'half a thought';
    const { page, core } = await openUi(seed);
    const bob = conversationRow(page, 'a2', 'bob@work.example');
    assert.equal(await bob.getByTestId('conversation-draft').innerText(), 'Draft: half a thought');
    // A draft saved later (by the composer) is announced and stored by the core.
    core.handlers['conversation.setDraft']({ accountId: 'a1', peer: 'carol@home.example', draft: 'call me' });
    const carol = conversationRow(page, 'a1', 'carol@home.example');
    await carol.getByTestId('conversation-draft').waitFor();
    await page.reload();
    assert.equal(await carol.getByTestId('conversation-draft').innerText(), 'Draft: call me');
    assert.equal(await bob.getByTestId('conversation-draft').innerText(), 'Draft: half a thought');
  });

  it('moves between rows with the arrow keys and filters to one account', async () => {
    const { page } = await openUi(twoAccounts());
    const rows = page.getByTestId('conversation-row');
    await rows.nth(1).waitFor();
    await rows.first().focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-peer')), 'carol@home.example');
    await page.locator('[data-testid="filter-account"][data-account-id="a2"]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-row"]').length === 1);
    assert.equal(await rows.first().getAttribute('data-peer'), 'bob@work.example');
    await page.getByTestId('filter-all').click();
    await rows.nth(1).waitFor();
  });
});

describe('search', () => {
  it('finds a message with the words marked, and opens its chat', async () => {
    const { page, core } = await openUi(twoAccounts());
    await page.getByTestId('search-input').fill('dinner');
    const hit = page.getByTestId('search-hit').first();
    await hit.waitFor();
    assert.equal(await hit.locator('mark').innerText(), 'dinner');
    assert.match(await hit.getByTestId('search-snippet').innerText(), /^See you at dinner$/);
    assert.equal(await hit.getByTestId('account-cue').innerText(), 'home');
    // Typed once, searched once (debounced), with the query as typed.
    assert.deepEqual(
      core.calls.filter((c) => c.name === 'search.run').map((c) => (c.args as { query: string }).query),
      ['dinner'],
    );
    await hit.click();
    const pane = page.getByTestId('chat-pane');
    await pane.waitFor();
    assert.equal(await pane.getAttribute('data-peer'), 'carol@home.example');
    assert.equal(await page.getByTestId('search-input').inputValue(), '');
  });

  it('finds a conversation by name and says when nothing matches; Esc closes the search', async () => {
    const { page } = await openUi(twoAccounts());
    await page.getByTestId('search-input').fill('bob');
    await page.locator('[data-testid="search-conversation"][data-peer="bob@work.example"]').waitFor();
    await page.getByTestId('search-input').fill('zebra');
    await page.getByTestId('search-empty').waitFor();
    await page.getByTestId('search-input').press('Escape');
    await page.getByTestId('search-view').waitFor({ state: 'detached' });
  });
});

describe('notifications', () => {
  it('notifies of a message naming the account unless that chat is open in a focused window', async () => {
    const seed = twoAccounts();
    const { page, core } = await openUi(seed);
    await fakeNotifications(page, 'granted');
    await page.reload();
    const carol = conversationRow(page, 'a1', 'carol@home.example');
    await carol.click();
    await page.getByTestId('chat-pane').waitFor();

    // The open chat, window focused: no notification.
    core.receive(message('m20', 'a1', 'carol@home.example', 'in', 'seen here', Date.now()));
    await page.getByText('seen here').first().waitFor();
    // Another conversation: one notification, naming the contact and the account.
    core.receive(message('m21', 'a2', 'bob@work.example', 'in', 'x'.repeat(300), Date.now()));
    await conversationRow(page, 'a2', 'bob@work.example').getByTestId('unread-count').waitFor();
    let shown = await shownNotifications(page);
    assert.equal(shown.length, 1);
    assert.equal(shown[0]!.title, 'Bob — work');
    assert.equal(shown[0]!.body.length, 140);

    // The open chat while the window has no focus: notified.
    await page.evaluate(() => (document.hasFocus = () => false));
    core.receive(message('m22', 'a1', 'carol@home.example', 'in', 'are you away?', Date.now()));
    await page.getByText('are you away?').first().waitFor();
    await page.waitForFunction(
      () => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length === 2,
    );
    shown = await shownNotifications(page);
    assert.equal(shown[1]!.title, 'Carol — home');
    assert.equal(shown[1]!.tag, 'quiver:a1:carol@home.example');

    // Clicking Bob's notification opens his chat.
    await page.evaluate(() =>
      (window as unknown as { notificationInstances: { onclick: () => void }[] }).notificationInstances[0]!.onclick(),
    );
    await page.locator('[data-testid="chat-pane"][data-peer="bob@work.example"]').waitFor();
  });

  it('asks for permission on the first click, not on load', async () => {
    const { page } = await openUi(twoAccounts());
    await fakeNotifications(page, 'default');
    await page.addInitScript(() => {
      const w = window as unknown as { Notification: { requestPermission: () => Promise<string> }; asked: number };
      w.asked = 0;
      const original = w.Notification.requestPermission;
      w.Notification.requestPermission = () => {
        w.asked++;
        return original();
      };
    });
    await page.reload();
    await conversationRow(page, 'a2', 'bob@work.example').waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { asked: number }).asked), 0);
    await conversationRow(page, 'a2', 'bob@work.example').click();
    await page.getByTestId('chat-pane').waitFor();
    await page.getByTestId('search-input').click();
    assert.equal(await page.evaluate(() => (window as unknown as { asked: number }).asked), 1);
  });
});

describe('layout', () => {
  it('never scrolls the page, even with 300 messages and 80 unread conversations rendered', async () => {
    const now = Date.now();
    const seed = twoAccounts();
    const many = Array.from({ length: 300 }, (_, i) =>
      message(
        `h${i}`,
        'a1',
        'carol@home.example',
        i % 2 ? 'in' : 'out',
        `message number ${i}`,
        now - (300 - i) * 60_000,
      ),
    );
    seed.messages.push(...many);
    seed.conversations[0]!.lastMessage = many.at(-1)!;
    seed.conversations[0]!.lastActivity = many.at(-1)!.at;
    // And a long conversation list whose rows carry visually hidden "unread" texts.
    for (let i = 0; i < 80; i++) {
      const m = message(`c${i}`, 'a2', `peer${i}@work.example`, 'in', `hello ${i}`, now - (i + 5) * HOUR);
      seed.messages.push(m);
      seed.conversations.push(conversation('a2', `peer${i}@work.example`, m, { unread: 1, stranger: true }));
    }
    const { page } = await openUi(seed);
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByText('message number 299').first().waitFor();
    const sizes = await page.evaluate(() => ({
      scroll: document.scrollingElement!.scrollHeight,
      inner: window.innerHeight,
      hidden: document.querySelectorAll('.visually-hidden').length,
    }));
    assert.equal(sizes.scroll, sizes.inner, `page scrolls: ${JSON.stringify(sizes)}`);
    await page.mouse.wheel(0, 5000);
    assert.equal(await page.evaluate(() => document.scrollingElement!.scrollTop), 0);
  });
});
