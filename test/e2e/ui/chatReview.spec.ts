/**
 * Review of the chat view (issue 13): messages lost from view or announced wrongly, text typed
 * while a message is being sent, the stranger bar across chats. Every wait is on what the page
 * shows or on an event, never a sleep.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openUi, useUiSuite } from './harness.ts';
import { contact, conversation, message } from './fixtures.ts';
import { alice, openChat, openBobChat, scrollUpTo, renderedIds } from './chatSeed.ts';

useUiSuite();

describe('chat view review', () => {
  it('shows the stranger bar for a second stranger after adding the first', async () => {
    const now = Date.now();
    const one = message('s1', 'a1', 'one@strange.example', 'in', 'hi from one', now - 2000);
    const two = message('s2', 'a1', 'two@strange.example', 'in', 'hi from two', now - 1000);
    const { page } = await openUi({
      accounts: [alice()],
      rosters: { a1: [] },
      messages: [one, two],
      conversations: [
        conversation('a1', 'one@strange.example', one, { stranger: true }),
        conversation('a1', 'two@strange.example', two, { stranger: true }),
      ],
    });
    await openChat(page, 'one@strange.example');
    await page.getByTestId('stranger-add').click();
    await page.getByTestId('stranger-bar').waitFor({ state: 'detached' });
    await openChat(page, 'two@strange.example');
    await page.locator('[data-message-id="s2"]').waitFor();
    assert.match(await page.getByTestId('stranger-bar').innerText(), /two@strange\.example is not in your contacts/);
  });

  it('keeps what the person typed while the previous message was being sent', async () => {
    const messages = [message('d1', 'a1', 'bob@example.org', 'in', 'ping', Date.now() - 1000)];
    const { page, core } = await openUi({
      accounts: [alice()],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
      conversations: [conversation('a1', 'bob@example.org', messages[0]!, { name: 'Bob' })],
    });
    await openChat(page, 'bob@example.org');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => undefined;
    const sendArrived = new Promise<void>((resolve) => (arrived = resolve));
    const send = core.handlers['chat.send'];
    core.handlers['chat.send'] = async (args) => {
      arrived();
      await gate;
      return send(args);
    };
    const composer = page.getByTestId('chat-composer');
    await composer.fill('first');
    await composer.press('Enter');
    await sendArrived;
    await composer.pressSequentially('second');
    release();
    await page.getByTestId('message-body').filter({ hasText: 'first' }).waitFor();
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="chat-composer"]') as HTMLTextAreaElement).value !== 'firstsecond',
    );
    assert.equal(await composer.inputValue(), 'second');
  });

  // A message older than the held page must not become the paging cursor (the messages between
  // would never load): chatState.update only replaces a held message.
  it('does not put a receipt for a message above the loaded page into the list (the messages between stayed hidden)', async () => {
    const { page, core, messages } = await openBobChat(120);
    // h00010 is ours and far above the newest page: its receipt comes in (XEP-0184).
    const old = messages[10]!;
    assert.equal(old.direction, 'out');
    core.emit({ name: 'message.updated', payload: { message: { ...old, state: 'delivered' } } });
    await scrollUpTo(page, 'h00000');
    const ids = await renderedIds(page);
    const at = ids.indexOf('h00010');
    assert.ok(at >= 0, `h00010 rendered: ${ids.join(' ')}`);
    assert.equal(ids[at + 1], 'h00011', `rows after the receipt's message: ${ids.join(' ')}`);
  });

  // Paging changes the last message held: only what ChatState reports as arrived is new.
  it('says nothing new and shows no "new messages" button when scrolling up drops newer pages', async () => {
    const { page } = await openBobChat(2000);
    await scrollUpTo(page, 'h00000');
    assert.equal(await page.getByTestId('new-messages').count(), 0, 'no message arrived');
    const live = await page.locator('.frame [aria-live="polite"]').innerText();
    assert.equal(live, '', 'old messages loaded by paging are not announced as new');
  });

  // message.updated goes to chatState.update, which never counts (message.added goes to arrive).
  it('does not count a receipt for a message not held as a new message', async () => {
    const { page, core, messages } = await openBobChat(2000);
    await scrollUpTo(page, 'h00000');
    const button = page.getByTestId('new-messages');
    const shown = async () => ((await button.count()) > 0 ? await button.innerText() : null);
    const before = await shown();
    const newest = messages.at(-1)!;
    assert.equal(newest.direction, 'out');
    core.emit({ name: 'message.updated', payload: { message: { ...newest, state: 'delivered' } } });
    // A message to someone else afterwards: an event to wait on, after the receipt.
    core.receive(message('z1', 'a1', 'carol@example.org', 'in', 'elsewhere', Date.now()));
    await page.locator('[data-testid="conversation-row"][data-peer="carol@example.org"]').waitFor();
    assert.equal(await shown(), before, 'a receipt is not a new message');
  });
  it('keeps an archive message older than the loaded page out of the list until its page loads', async () => {
    const { page, core, messages } = await openBobChat(120);
    // A message from the archive (message.added), a minute after h00010: far above the newest page.
    core.receive(message('a9', 'a1', 'bob@example.org', 'in', 'from the archive', messages[10]!.at + 60_000));
    await page.locator('[data-testid="conversation-row"][data-peer="bob@example.org"]').waitFor();
    await scrollUpTo(page, 'h00000');
    const ids = await renderedIds(page);
    const at = ids.indexOf('h00010');
    assert.deepEqual(ids.slice(at, at + 3), ['h00010', 'a9', 'h00011'], ids.join(' '));
  });
});
