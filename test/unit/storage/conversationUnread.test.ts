/**
 * Review of the unread rule (conversationActivity.ts): what our own messages from another device do
 * to a conversation's unread count, and the conversation with the account's own address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, msg } from './memoryStorage.ts';

test('our answer from another device (a sent carbon) marks what came before it read, not what came after', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'one', 100));
  s.insertMessage(msg(id, 'two', 200));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 2);
  // The person read both on the phone and answered there: the carbon is ours.
  s.insertMessage(msg(id, 'answered on the phone', 300, { direction: 'out', state: 'acked', serverId: 'c-1' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 0);
  s.insertMessage(msg(id, 'three', 400));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 1);
  // An archive catch-up: bob wrote at 350 (before nothing we said later) and at 500; our reply at 450.
  s.insertMessage(msg(id, 'late from archive', 350, { serverId: 'a-1' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 2);
  s.insertMessage(msg(id, 'our reply from archive', 450, { direction: 'out', state: 'acked', serverId: 'a-2' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 0);
  s.insertMessage(msg(id, 'after our reply', 500, { serverId: 'a-3' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 1);
  // An older message of ours stored later (archive) does not clear the newer one.
  s.insertMessage(msg(id, 'old reply of ours', 320, { direction: 'out', state: 'acked', serverId: 'a-4' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 1);
  // markRead still clears it, and older incoming copies stay read.
  assert.equal(s.markConversationRead(id, 'bob@example.org', 600)?.unread, 0);
  s.insertMessage(msg(id, 'older', 410, { serverId: 'a-5' }));
  assert.equal(s.getConversation(id, 'bob@example.org')?.unread, 0);
});

test('messages in the conversation with the account itself (notes to self, other devices) are never unread', (t) => {
  const { s, id } = setup(t);
  // Our other device wrote to our own address: it arrives as incoming from alice@example.org/phone.
  s.insertMessage(msg(id, 'note to self', 100, { peer: 'Alice@Example.org/phone', sender: 'alice@example.org/phone' }));
  const c = s.getConversation(id, 'alice@example.org');
  assert.equal(c?.unread, 0);
  assert.equal(c?.stranger, false);
  assert.equal(c?.lastMessage?.body, 'note to self');
});
