/**
 * The chat view (issue 13): a long history virtualised, day separators and times, message states
 * in words, links, the account in the header and the composer, drafts, and the bar for strangers.
 * Every wait is on what the page shows, never a sleep.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { openUi, useUiSuite } from './harness.ts';
import { contact, conversation, message } from './fixtures.ts';
import { alice, history, openChat, openBobChat } from './chatSeed.ts';

useUiSuite();

describe('the chat view', () => {
  it('keeps a 2,000-message chat to a few DOM rows and scrolls to the oldest message', async () => {
    const { page, core } = await openBobChat(2000);
    const list = page.getByTestId('message-list');
    assert.equal(await list.getAttribute('role'), 'log');

    for (let step = 0; step < 100; step++) {
      if ((await page.locator('[data-message-id="h00000"]').count()) > 0) break;
      const first = await page.getByTestId('message').first().getAttribute('data-message-id');
      await list.evaluate((el) => el.scrollTo(0, 0));
      await page.waitForFunction(
        (before) =>
          document.querySelector('[data-testid="message"]')?.getAttribute('data-message-id') !== before ||
          !!document.querySelector('[data-message-id="h00000"]'),
        first,
      );
      const rendered = await page.getByTestId('message').count();
      assert.ok(rendered < 200, `${rendered} message nodes in the DOM`);
    }
    await page.locator('[data-message-id="h00000"]').waitFor();
    assert.equal(await page.getByTestId('message-body').first().innerText(), 'message number 0');
    assert.ok((await page.getByTestId('message').count()) < 200);
    // Memory holds a window of pages: scrolling back down loads the dropped newer ones again.
    for (let step = 0; step < 100; step++) {
      if ((await page.locator('[data-message-id="h01999"]').count()) > 0) break;
      const last = await page.getByTestId('message').last().getAttribute('data-message-id');
      await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForFunction(
        (before) =>
          Array.from(document.querySelectorAll('[data-testid="message"]')).at(-1)?.getAttribute('data-message-id') !==
          before,
        last,
      );
    }
    await page.locator('[data-message-id="h01999"]').waitFor();
    // Home jumps to the first message, End back to the last.
    await list.focus();
    await list.press('Home');
    await page.locator('[data-message-id="h00000"]').waitFor();
    await list.press('End');
    await page.locator('[data-message-id="h01999"]').waitFor();
    assert.ok(
      await core.calls.some((c) => c.name === 'chat.history' && (c.args as { oldest?: boolean }).oldest),
      'Home asked for the oldest page',
    );
    await list.press('Home');
    await page.locator('[data-message-id="h00000"]').waitFor();
    // Older days are separated, each with its words ("Yesterday", a weekday or a date).
    assert.ok((await page.getByTestId('day-separator').count()) >= 1);
    assert.match(await page.getByTestId('day-separator').first().innerText(), /\d{4}/);
    // Each message has its time; the full date and time are in its accessible name.
    const time = page.getByTestId('message-time').first();
    assert.match(await time.innerText(), /\d{1,2}.\d{2}/);
    assert.match((await time.getAttribute('aria-label')) ?? '', /\d{4}/);
  });

  it('shows their presence and follows new messages at the end, or offers a button', async () => {
    const messages = history(300, 10_000);
    const { page, core } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'away', 'At lunch')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages.at(-1)!, { name: 'Bob' })],
    });
    await openChat(page, 'bob@example.org');
    await page.locator('[data-message-id="h00299"]').waitFor();
    // The header shows THEIR presence, the account cue and the address.
    assert.equal(await page.getByTestId('peer-presence').innerText(), 'away: At lunch');
    assert.match(await page.getByTestId('chat-pane').getByTestId('account-cue').first().innerText(), /Work/);

    const incoming = (id: string, body: string) =>
      core.emit({
        name: 'message.added',
        payload: { message: message(id, 'a1', 'bob@example.org', 'in', body, Date.now()) },
      });
    incoming('n1', 'at the end');
    await page.locator('[data-message-id="n1"]').waitFor();
    await page.getByTestId('message-list').evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
    await page.waitForFunction(() => !document.querySelector('[data-message-id="n1"]'));
    incoming('n2', 'while reading older ones');
    await page.getByTestId('new-messages').filter({ hasText: '1 new message' }).waitFor();
    // An arrival is said to screen readers, though its row is not in view.
    await page
      .locator('.frame [aria-live="polite"]')
      .filter({ hasText: 'New message from Bob: while reading older ones' })
      .waitFor();
    await page.getByTestId('new-messages').click();
    await page.locator('[data-message-id="n2"]').waitFor();
    await page.getByTestId('new-messages').waitFor({ state: 'detached' });
  });

  it('says Today, turns links into anchors; an xmpp: link opens that chat in Quiver', async () => {
    const now = Date.now();
    const messages = [
      message(
        'l1',
        'a1',
        'bob@example.org',
        'in',
        'docs at https://example.org/guide?x=1. or <b>xmpp:carol@example.net?message</b>',
        now - 1000,
      ),
    ];
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages[0]!)],
    });
    await openChat(page, 'bob@example.org');
    const links = page.getByTestId('message-link');
    await links.first().waitFor();
    assert.equal(await page.getByTestId('day-separator').innerText(), 'Today');
    assert.equal(await links.count(), 2);
    assert.equal(await links.nth(0).getAttribute('href'), 'https://example.org/guide?x=1');
    assert.equal(await links.nth(0).getAttribute('target'), '_blank');
    assert.equal(await links.nth(0).getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await links.nth(1).getAttribute('href'), 'xmpp:carol@example.net?message');
    // The body is text: the <b> is shown, not made bold.
    assert.match(await page.getByTestId('message-body').innerText(), /<b>xmpp:/);
    await links.nth(1).click();
    await page.locator('[data-testid="chat-pane"][data-peer="carol@example.net"]').waitFor();
  });

  it('says each state in words and sends a failed message again', async () => {
    const now = Date.now();
    const states: MessageView['state'][] = ['queued', 'sent', 'acked', 'delivered'];
    const messages = [
      ...states.map((state, i) =>
        message(`s${i}`, 'a1', 'bob@example.org', 'out', `in state ${state}`, now - 10_000 + i, state),
      ),
      {
        ...message('s9', 'a1', 'bob@example.org', 'out', 'refused', now - 5000, 'failed'),
        error: 'bob@example.org does not exist.',
      },
    ];
    const { page, core } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages.at(-1)!)],
    });
    await openChat(page, 'bob@example.org');
    const stateOf = (id: string) => page.locator(`[data-message-id="${id}"]`).getByTestId('message-state');
    await stateOf('s0').waitFor();
    assert.match((await stateOf('s0').textContent()) ?? '', /Waiting to send/);
    assert.match((await stateOf('s1').textContent()) ?? '', /Sent/);
    assert.match((await stateOf('s2').textContent()) ?? '', /Stored by the server/);
    assert.match((await stateOf('s3').textContent()) ?? '', /Delivered/);
    assert.match(await page.getByTestId('message-error').innerText(), /does not exist/);
    await page.getByTestId('message-retry').click();
    await page.locator('[data-message-id="s9"][data-state="queued"]').waitFor();
    assert.deepEqual(
      core.calls.filter((c) => c.name === 'message.retry').map((c) => c.args),
      [{ messageId: 's9' }],
    );
  });

  it('keeps a focused row mounted while it scrolls far out of view', async () => {
    const messages = history(400);
    messages[396] = { ...messages[396]!, state: 'failed', direction: 'out', error: 'The server refused it.' };
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages.at(-1)!, { name: 'Bob' })],
    });
    await openChat(page, 'bob@example.org');
    const retry = page.locator('[data-message-id="h00396"]').getByTestId('message-retry');
    await retry.focus();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Send again');
    // Scroll far up (older pages load): the row is out of the render margin but keeps the focus.
    const list = page.getByTestId('message-list');
    for (let step = 0; step < 20; step++) {
      const first = await page.getByTestId('message').first().getAttribute('data-message-id');
      if (first !== null && first < 'h00300') break;
      await list.evaluate((el) => el.scrollBy(0, -1500));
      await page.waitForFunction(
        (before) => document.querySelector('[data-testid="message"]')?.getAttribute('data-message-id') !== before,
        first,
      );
    }
    const rendered = await page.getByTestId('message').evaluateAll((rows) => rows.map((r) => r.dataset.messageId!));
    assert.ok(rendered[0]! < 'h00300', `scrolled to ${rendered[0]}`);
    assert.ok(rendered.length < 200, `${rendered.length} message nodes in the DOM`);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Send again');
    assert.equal(
      await page.evaluate(() => document.activeElement?.closest('[data-message-id]')?.getAttribute('data-message-id')),
      'h00396',
    );
    // Its place in the scroll height is kept: the rows in view are not pushed down by it.
    const box = await list.boundingBox();
    const top = await page.getByTestId('message').nth(0).boundingBox();
    assert.ok(box && top && top.y < box.y + box.height, 'the first rendered row is in or above the view');
    // Focus leaving the row lets it go.
    await list.focus();
    await page.waitForFunction(() => !document.querySelector('[data-message-id="h00396"]'));
  });

  it('offers to add or block a stranger', async () => {
    const now = Date.now();
    const messages = [message('x1', 'a1', 'spam@bad.example', 'in', 'hello friend', now - 1000)];
    const { page, core } = await openUi({
      accounts: [alice()],
      rosters: { a1: [] },
      messages,
      conversations: [conversation('a1', 'spam@bad.example', messages[0]!, { stranger: true })],
    });
    await openChat(page, 'spam@bad.example');
    assert.match(await page.getByTestId('stranger-bar').innerText(), /spam@bad\.example is not in your contacts/);
    await page.getByTestId('stranger-block').click();
    await page.getByTestId('stranger-bar').waitFor({ state: 'detached' });
    assert.deepEqual(core.calls.find((c) => c.name === 'contact.block')?.args, {
      accountId: 'a1',
      jid: 'spam@bad.example',
      blocked: true,
    });
  });

  it('adds a stranger; without blocking on the server there is no Block button', async () => {
    const messages = [message('x1', 'a1', 'new@friend.example', 'in', 'hi, it is me', Date.now() - 1000)];
    const { page, core } = await openUi({
      accounts: [{ ...alice(), canBlock: false }],
      rosters: { a1: [] },
      messages,
      conversations: [conversation('a1', 'new@friend.example', messages[0]!, { stranger: true })],
    });
    await openChat(page, 'new@friend.example');
    await page.getByTestId('stranger-add').waitFor();
    assert.equal(await page.getByTestId('stranger-block').count(), 0);
    await page.getByTestId('stranger-add').click();
    await page.getByTestId('stranger-bar').waitFor({ state: 'detached' });
    assert.deepEqual(core.calls.find((c) => c.name === 'contact.add')?.args, {
      accountId: 'a1',
      jid: 'new@friend.example',
    });
  });

  it('shows the sending account, saves the draft and restores it', async () => {
    const messages = [message('d1', 'a1', 'bob@example.org', 'in', 'ping', Date.now() - 1000)];
    const { page, core } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available'), contact('carol@example.org', 'Carol', null)] },
      messages,
      conversations: [
        conversation('a1', 'bob@example.org', messages[0]!),
        conversation('a1', 'carol@example.org', null, { lastActivity: Date.now() - 5000, draft: 'left for Carol' }),
      ],
    });
    await openChat(page, 'bob@example.org');
    const sendingAs = (await page.getByTestId('sending-as').textContent())?.replace(/\s+/g, ' ');
    assert.match(sendingAs ?? '', /Sending as alice@work\.example Work/);
    assert.match(await page.getByTestId('sending-as').getByTestId('account-cue').innerText(), /Work/);
    await page.getByTestId('chat-composer').fill('half a thought');
    await openChat(page, 'carol@example.org');
    assert.equal(await page.getByTestId('chat-composer').inputValue(), 'left for Carol');
    // Back to Bob: the composer holds what the core kept as his draft.
    await openChat(page, 'bob@example.org');
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="chat-composer"]') as HTMLTextAreaElement | null)?.value ===
        'half a thought',
    );
    const drafts = core.calls.filter((c) => c.name === 'conversation.setDraft').map((c) => c.args);
    assert.deepEqual(drafts[0], { accountId: 'a1', peer: 'bob@example.org', draft: 'half a thought' });
    // Enter sends and clears the draft; Shift+Enter is a new line.
    await page.getByTestId('chat-composer').press('Shift+Enter');
    await page.getByTestId('chat-composer').pressSequentially('more');
    assert.equal(await page.getByTestId('chat-composer').inputValue(), 'half a thought\nmore');
    await page.getByTestId('chat-composer').press('Enter');
    await page.getByTestId('message-body').filter({ hasText: 'more' }).waitFor();
    assert.equal(await page.getByTestId('chat-composer').inputValue(), '');
  });
  it('says "Yesterday" after midnight in a chat left open (a timer at midnight, not a poll)', async () => {
    const today = new Date();
    const fakeNow = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 23, 58).getTime();
    const messages = [message('n1', 'a1', 'bob@example.org', 'in', 'late evening', fakeNow - 30 * 60_000)];
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages[0]!, { name: 'Bob' })],
    });
    await page.clock.install({ time: fakeNow });
    await page.reload();
    await page.getByTestId('account-list').waitFor();
    await openChat(page, 'bob@example.org');
    const separator = page.getByTestId('day-separator');
    await separator.filter({ hasText: 'Today' }).waitFor();
    await page.clock.runFor(3 * 60_000);
    await separator.filter({ hasText: 'Yesterday' }).waitFor();
  });

  it('shows an xmpp: link the parser refuses as text, not as a link that goes nowhere', async () => {
    const messages = [
      message(
        'x1',
        'a1',
        'bob@example.org',
        'in',
        'try xmpp:romeo@exa_mple.com or xmpp:carol@example.net',
        Date.now() - 1000,
      ),
    ];
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages[0]!, { name: 'Bob' })],
    });
    await openChat(page, 'bob@example.org');
    const links = page.getByTestId('message-link');
    await links.first().waitFor();
    assert.deepEqual(await links.allInnerTexts(), ['xmpp:carol@example.net']);
    assert.match(await page.getByTestId('message-body').innerText(), /try xmpp:romeo@exa_mple\.com or/);
  });

  it('says "not in your contacts", with no empty presence dot, for a chat we started with someone not listed', async () => {
    const messages = [message('o1', 'a1', 'dave@example.org', 'out', 'hello Dave', Date.now() - 1000)];
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'dave@example.org', messages[0]!, { stranger: false })],
    });
    await openChat(page, 'dave@example.org');
    const presence = page.getByTestId('peer-presence');
    await presence.filter({ hasText: 'not in your contacts' }).waitFor();
    assert.equal(await presence.locator('.dot').count(), 0, 'no dot without a presence');
  });
});
