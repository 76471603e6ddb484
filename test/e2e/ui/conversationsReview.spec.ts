/**
 * Review of the conversation list, AppState and notifications (issue 13): the open chat's unread
 * count after the link to the host comes back, and no notification (with its text) for a blocked
 * contact. Fake core behind the real browser host; every wait is on what the page shows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conversationRow, openUi, useUiSuite } from './harness.ts';
import { account, contact, conversation, message } from './fixtures.ts';
import { fakeNotifications, shownNotifications } from './fakeNotifications.ts';

useUiSuite();

const HOUR = 3_600_000;

function seed() {
  const now = Date.now();
  const m1 = message('m1', 'a1', 'carol@home.example', 'in', 'See you at dinner', now - 3 * HOUR);
  const m2 = message('m2', 'a2', 'bob@work.example', 'in', 'The report is ready', now - HOUR);
  const m3 = message('m3', 'a1', 'mallory@elsewhere.example', 'in', 'buy cheap pills', now - 2 * HOUR);
  return {
    accounts: [
      account('a1', 'alice@home.example', { label: 'home', color: '#15803d', order: 0, status: 'online' }),
      account('a2', 'alice@work.example', { label: 'work', color: '#c2410c', order: 1, status: 'online' }),
    ],
    rosters: {
      a1: [contact('carol@home.example', 'Carol', 'available')],
      a2: [contact('bob@work.example', 'Bob', 'away')],
    },
    messages: [m1, m2, m3],
    conversations: [
      conversation('a1', 'carol@home.example', m1, { name: 'Carol', unread: 2 }),
      conversation('a2', 'bob@work.example', m2, { name: 'Bob' }),
      conversation('a1', 'mallory@elsewhere.example', m3, { stranger: true, blocked: true }),
    ],
  };
}

describe('conversation list review', () => {
  it('marks the open chat read when messages that came while the link was down show after it comes back', async () => {
    const ui = await openUi(seed());
    const { page, core, host } = ui;
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    await conversationRow(page, 'a1', 'carol@home.example').click();
    await page.getByTestId('chat-pane').waitFor();
    await page.waitForFunction(() => document.title === 'Quiver');

    await host.dropConnections();
    await page.getByTestId('connection-banner').waitFor();
    // Arrives while the window is cut off: the event is lost, the core counts it unread.
    core.receive(message('m10', 'a1', 'carol@home.example', 'in', 'while you were away', Date.now()));
    await host.resume();
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 15_000 });
    // The reload brought the message into the chat the person is looking at…
    await page.getByText('while you were away').first().waitFor();
    // …so it is read: no badge on its row, no count in the title, and the core was told.
    await page.waitForFunction(() => document.title === 'Quiver');
    assert.equal(await conversationRow(page, 'a1', 'carol@home.example').getAttribute('data-unread'), '0');
    assert.equal(core.data.conversations.find((c) => c.peer === 'carol@home.example')?.unread, 0);
  });

  it('shows the contact’s presence as it is after the link comes back, not as it was', async () => {
    const ui = await openUi(seed());
    const { page, core, host } = ui;
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    await conversationRow(page, 'a2', 'bob@work.example').click();
    const presence = page.getByTestId('peer-presence');
    await presence.filter({ hasText: 'away' }).waitFor();

    await host.dropConnections();
    await page.getByTestId('connection-banner').waitFor();
    // Bob went offline while the window was cut off: the presence.changed event is lost.
    core.data.rosters.a2![0]!.presence = null;
    await host.resume();
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForFunction(
      () => !/away/.test(document.querySelector('[data-testid="peer-presence"]')!.textContent!),
    );
  });

  it('shows no notification, and so none of the text, for a message from a blocked contact', async () => {
    const { page, core } = await openUi(seed());
    await fakeNotifications(page, 'granted');
    await page.reload();
    await conversationRow(page, 'a1', 'mallory@elsewhere.example').getByTestId('blocked-tag').waitFor();

    core.receive(message('m20', 'a1', 'mallory@elsewhere.example', 'in', 'secret offer inside', Date.now()));
    await conversationRow(page, 'a1', 'mallory@elsewhere.example').and(page.locator('[data-unread="1"]')).waitFor();
    // A contact's message afterwards is notified: by then the blocked one would have been too.
    core.receive(message('m21', 'a2', 'bob@work.example', 'in', 'lunch?', Date.now()));
    await page.waitForFunction(
      () => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length > 0,
    );
    const shown = (await shownNotifications(page)).map(({ title, body }) => ({ title, body }));
    assert.deepEqual(shown, [{ title: 'Bob — work', body: 'lunch?' }]);
  });
});
