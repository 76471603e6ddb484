/** Desktop notifications for new messages: who gets one, and what a click on one may open. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { notifyIncoming, type NotifyContext } from '../../../renderer/src/notifications.ts';

class FakeNotification {
  static permission = 'granted';
  static shown: FakeNotification[] = [];
  onclick: (() => void) | null = null;
  closed = false;
  readonly title: string;
  readonly options: { body: string; tag: string };
  constructor(title: string, options: { body: string; tag: string }) {
    this.title = title;
    this.options = options;
    FakeNotification.shown.push(this);
  }
  close(): void {
    this.closed = true;
  }
}

const message = (over: Partial<MessageView> = {}): MessageView =>
  ({
    id: 'm1',
    accountId: 'a1',
    peer: 'romeo@montague.net',
    direction: 'in',
    body: 'hello',
    ...over,
  }) as MessageView;

function context(accounts: Map<string, { label: string; jid: string }>, opened: string[]): NotifyContext {
  return {
    account: (id) => accounts.get(id),
    nameOf: () => null,
    seesChat: () => false,
    isBlocked: () => false,
    open: (accountId, peer) => opened.push(`${accountId} ${peer}`),
  };
}

describe('notifyIncoming', () => {
  const saved = (globalThis as { window?: unknown }).window;
  beforeEach(() => {
    FakeNotification.shown = [];
    (globalThis as { window?: unknown }).window = { Notification: FakeNotification, focus: () => undefined };
  });
  afterEach(() => {
    (globalThis as { window?: unknown }).window = saved;
  });

  it('a click opens the chat of an account the window still has', () => {
    const accounts = new Map([['a1', { label: 'work', jid: 'juliet@capulet.lit' }]]);
    const opened: string[] = [];
    notifyIncoming(message(), context(accounts, opened));
    assert.equal(FakeNotification.shown.length, 1);
    FakeNotification.shown[0]!.onclick!();
    assert.deepEqual(opened, ['a1 romeo@montague.net']);
  });

  it('a click after the account was removed opens nothing and closes the notification', () => {
    const accounts = new Map([['a1', { label: 'work', jid: 'juliet@capulet.lit' }]]);
    const opened: string[] = [];
    notifyIncoming(message(), context(accounts, opened));
    accounts.delete('a1');
    FakeNotification.shown[0]!.onclick!();
    assert.deepEqual(opened, []);
    assert.equal(FakeNotification.shown[0]!.closed, true);
  });

  it('shows nothing for a blocked sender or a chat the person sees', () => {
    const accounts = new Map([['a1', { label: 'work', jid: 'juliet@capulet.lit' }]]);
    notifyIncoming(message(), { ...context(accounts, []), isBlocked: () => true });
    notifyIncoming(message(), { ...context(accounts, []), seesChat: () => true });
    assert.equal(FakeNotification.shown.length, 0);
  });
});
