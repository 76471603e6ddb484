import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../../app/storage/storage.ts';
import type { NewMessage } from '../../../app/storage/storage.ts';
import { setup } from './memoryStorage.ts';

const msg = (accountId: string, over: Partial<NewMessage> = {}): NewMessage => ({
  accountId,
  peer: 'bob@example.org',
  direction: 'in',
  body: 'hello',
  stanzaId: 'abc',
  at: 1000,
  state: 'received',
  ...over,
});

test('insertMessage stores the message under the bare peer and returns its view', (t) => {
  const { s, id } = setup(t);
  const r = s.insertMessage(msg(id, { peer: 'Bob@Example.org/phone' }));
  assert.equal(r.inserted, true);
  assert.deepEqual(r.message, {
    id: r.message.id,
    accountId: id,
    peer: 'bob@example.org',
    direction: 'in',
    body: 'hello',
    stanzaId: 'abc',
    at: 1000,
    state: 'received',
    error: null,
  });
  assert.match(r.message.id, /^[0-9]+$/);
  assert.deepEqual(s.getMessage(r.message.id), r.message);
});

test('two messages reusing a stanza id from two resources are both kept (the id attribute is not unique)', (t) => {
  const { s, id } = setup(t);
  const phone = s.insertMessage(
    msg(id, { peer: 'bob@example.org/phone', sender: 'bob@example.org/phone', stanzaId: '1', body: 'from the phone' }),
  );
  const laptop = s.insertMessage(
    msg(id, {
      peer: 'bob@example.org/laptop',
      sender: 'bob@example.org/laptop',
      stanzaId: '1',
      body: 'from the laptop',
    }),
  );
  assert.equal(phone.inserted, true);
  assert.equal(laptop.inserted, true);
  assert.deepEqual(
    s.history(id, 'bob@example.org').map((m) => m.body),
    ['from the phone', 'from the laptop'],
  );
  // The same id attribute and even the same body, with no XEP-0359 id: nothing says it is a copy.
  assert.equal(s.insertMessage(msg(id, { stanzaId: '1', body: 'from the phone' })).inserted, true);
  assert.equal(s.history(id, 'bob@example.org').length, 3);
});

test('a redelivery with the same stanza-id of our own server is stored once and the first copy is returned', (t) => {
  const { s, id } = setup(t);
  const first = s.insertMessage(msg(id, { serverId: 'srv-1', sender: 'bob@example.org/phone' }));
  const again = s.insertMessage(
    msg(id, { serverId: 'srv-1', sender: 'bob@example.org/phone', at: 2000, stanzaId: 'other' }),
  );
  assert.equal(first.inserted, true);
  assert.equal(again.inserted, false);
  assert.equal(again.idReused, null);
  assert.deepEqual(again.message, first.message);
  assert.equal(s.history(id, 'bob@example.org').length, 1);
  // Server ids are per account: the same one on another account is another message.
  const other = s.addAccount({ jid: 'alice@example.net' }).id;
  assert.equal(s.insertMessage(msg(other, { serverId: 'srv-1' })).inserted, true);
});

test('a reused server stanza-id with other content keeps both messages and reports it', (t) => {
  const { s, id } = setup(t);
  const first = s.insertMessage(msg(id, { serverId: 'srv-1', body: 'first' }));
  const second = s.insertMessage(msg(id, { serverId: 'srv-1', body: 'second' }));
  const fromOther = s.insertMessage(msg(id, { serverId: 'srv-1', body: 'first', peer: 'mallory@example.org' }));
  assert.equal(second.inserted, true);
  assert.deepEqual(second.idReused, { kind: 'stanza-id', id: 'srv-1', storedId: first.message.id });
  assert.equal(fromOther.inserted, true);
  assert.deepEqual(fromOther.idReused, { kind: 'stanza-id', id: 'srv-1', storedId: first.message.id });
  assert.deepEqual(
    s.history(id, 'bob@example.org').map((m) => m.body),
    ['first', 'second'],
  );
});

test('origin-id with the same full JID and the same body is stored once', (t) => {
  const { s, id } = setup(t);
  const over = { originId: 'o-1', sender: 'bob@example.org/phone', peer: 'bob@example.org/phone' };
  const first = s.insertMessage(msg(id, { ...over, stanzaId: 'a' }));
  const again = s.insertMessage(msg(id, { ...over, stanzaId: 'b', at: 2000 }));
  assert.equal(again.inserted, false);
  assert.equal(again.idReused, null);
  assert.deepEqual(again.message, first.message);
  // Origin ids are made by each sending client: another resource may pick the same one.
  const laptop = s.insertMessage(
    msg(id, { ...over, sender: 'bob@example.org/laptop', peer: 'bob@example.org/laptop' }),
  );
  assert.equal(laptop.inserted, true);
  assert.equal(laptop.idReused, null);
  assert.equal(s.history(id, 'bob@example.org').length, 2);
});

test('the same origin-id with a different body keeps both and reports the reuse', (t) => {
  const { s, id } = setup(t);
  const over = { originId: 'o-1', sender: 'bob@example.org/phone' };
  const first = s.insertMessage(msg(id, { ...over, body: 'pay alice' }));
  const second = s.insertMessage(msg(id, { ...over, body: 'pay mallory' }));
  assert.equal(second.inserted, true);
  assert.deepEqual(second.idReused, { kind: 'origin-id', id: 'o-1', storedId: first.message.id });
  assert.deepEqual(
    s.history(id, 'bob@example.org').map((m) => m.body),
    ['pay alice', 'pay mallory'],
  );
});

test('an empty id, origin-id, stanza-id or sender never deduplicates', (t) => {
  const { s, id } = setup(t);
  const over = { stanzaId: '', originId: '', serverId: '', sender: '' };
  assert.equal(s.insertMessage(msg(id, over)).inserted, true);
  const second = s.insertMessage(msg(id, over));
  assert.equal(second.inserted, true);
  assert.equal(second.idReused, null);
  assert.equal(second.message.stanzaId, '');
  assert.equal(s.history(id, 'bob@example.org').length, 2);
});

test('outgoing messages are stored each time (their ids are ours, and unique)', (t) => {
  const { s, id } = setup(t);
  const out = { direction: 'out' as const, state: 'queued' as const, stanzaId: 'u-1' };
  assert.equal(s.insertMessage(msg(id, out)).inserted, true);
  assert.equal(s.insertMessage(msg(id, { ...out, stanzaId: 'u-2' })).inserted, true);
  assert.equal(s.queuedMessages(id).length, 2);
});

test('insertMessage for an unknown account fails with account-not-found', (t) => {
  const { s } = setup(t);
  assert.throws(
    () => s.insertMessage(msg('nope')),
    (e: unknown) => e instanceof StorageError && e.code === 'account-not-found',
  );
});

test('history returns the newest page oldest first and pages backwards with before', (t) => {
  const { s, id } = setup(t);
  const ids: string[] = [];
  for (let i = 1; i <= 7; i++) {
    ids.push(s.insertMessage(msg(id, { stanzaId: `m${i}`, body: `b${i}`, at: i })).message.id);
    s.insertMessage(msg(id, { peer: 'carol@example.org', stanzaId: `m${i}` }));
  }
  const page1 = s.history(id, 'bob@example.org', { limit: 3 });
  assert.deepEqual(
    page1.map((m) => m.body),
    ['b5', 'b6', 'b7'],
  );
  const page2 = s.history(id, 'BOB@example.org', { limit: 3, before: page1[0]!.id });
  assert.deepEqual(
    page2.map((m) => m.body),
    ['b2', 'b3', 'b4'],
  );
  const page3 = s.history(id, 'bob@example.org', { limit: 3, before: page2[0]!.id });
  assert.deepEqual(
    page3.map((m) => m.body),
    ['b1'],
  );
  assert.deepEqual(s.history(id, 'bob@example.org', { before: ids[0]! }), []);
  assert.equal(s.history(id, 'bob@example.org').length, 7, 'default page holds them all');
  assert.equal(s.history(id, 'bob@example.org', { limit: 0 }).length, 1, 'limit is clamped to at least 1');
  assert.deepEqual(s.history(id, 'dave@example.org'), []);
});

test('conversations list the latest message per peer, most recent first', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, { peer: 'bob@example.org', stanzaId: '1', body: 'bob 1' }));
  s.insertMessage(msg(id, { peer: 'carol@example.org', stanzaId: '2', body: 'carol 1' }));
  s.insertMessage(msg(id, { peer: 'bob@example.org', stanzaId: '3', body: 'bob 2', direction: 'out', state: 'sent' }));
  const list = s.conversations(id);
  assert.deepEqual(
    list.map((c) => [c.accountId, c.peer, c.lastMessage?.body]),
    [
      [id, 'bob@example.org', 'bob 2'],
      [id, 'carol@example.org', 'carol 1'],
    ],
  );
  assert.equal(list[0]!.lastMessage?.direction, 'out');
});

test('the outbox lists queued messages of the account oldest first', (t) => {
  const { s, id } = setup(t);
  const other = s.addAccount({ jid: 'alice@example.net' }).id;
  const q = (over: Partial<NewMessage>) =>
    s.insertMessage(msg(id, { direction: 'out', state: 'queued', ...over })).message;
  const m1 = q({ stanzaId: 'o1', peer: 'carol@example.org' });
  const m2 = q({ stanzaId: 'o2' });
  const m3 = q({ stanzaId: 'o3', at: 1 }); // an older clock does not reorder the outbox
  s.insertMessage(msg(id, { stanzaId: 'i1' }));
  s.insertMessage(msg(other, { direction: 'out', state: 'queued', stanzaId: 'x' }));
  assert.deepEqual(
    s.queuedMessages(id).map((m) => m.id),
    [m1.id, m2.id, m3.id],
  );
  s.setMessageState(m2.id, 'sent');
  assert.deepEqual(
    s.queuedMessages(id).map((m) => m.id),
    [m1.id, m3.id],
  );
});

test('setMessageState moves a message along and keeps the error only for failed', (t) => {
  const { s, id } = setup(t);
  const m = s.insertMessage(msg(id, { direction: 'out', state: 'queued' })).message;
  assert.equal(s.setMessageState(m.id, 'sent').state, 'sent');
  assert.equal(s.setMessageState(m.id, 'acked').state, 'acked');
  const failed = s.setMessageState(m.id, 'failed', 'bob@example.org does not exist (item-not-found).');
  assert.equal(failed.state, 'failed');
  assert.equal(s.messageError(m.id), 'bob@example.org does not exist (item-not-found).');
  s.setMessageState(m.id, 'queued');
  assert.equal(s.messageError(m.id), null);
  const notFound = (e: unknown) => e instanceof StorageError && e.code === 'message-not-found';
  assert.throws(() => s.setMessageState('999', 'sent'), notFound);
  assert.throws(() => s.setMessageState('abc', 'sent'), notFound);
  assert.throws(() => s.history(id, 'bob@example.org', { before: 'x' }), notFound);
});

test('findMessageByStanzaId finds a message for a receipt', (t) => {
  const { s, id } = setup(t);
  const m = s.insertMessage(msg(id, { direction: 'out', state: 'sent', stanzaId: 'r1' })).message;
  assert.deepEqual(s.findMessageByStanzaId(id, 'out', 'bob@example.org/res', 'r1'), m);
  assert.equal(s.findMessageByStanzaId(id, 'in', 'bob@example.org', 'r1'), null);
});

test('setStateByStanzaId moves our message with that id forward, never back, and finds nothing else', (t) => {
  const { s, id } = setup(t);
  const other = s.addAccount({ jid: 'alice@example.net' }).id;
  const sent = s.insertMessage(msg(id, { direction: 'out', state: 'sent', stanzaId: 'm1' })).message;
  const theirs = s.insertMessage(msg(other, { direction: 'out', state: 'sent', stanzaId: 'm1' })).message;
  const incoming = s.insertMessage(msg(id, { direction: 'in', state: 'received', stanzaId: 'm2' })).message;
  const failed = s.insertMessage(msg(id, { direction: 'out', state: 'sent', stanzaId: 'm3' })).message;
  s.setMessageState(failed.id, 'failed', 'refused');

  assert.deepEqual(s.setStateByStanzaId(id, 'm1', 'acked'), { ...sent, state: 'acked' });
  assert.equal(s.getMessage(theirs.id)?.state, 'sent', 'another account is not touched');
  // Already acked: nothing changes, nothing is returned (so no update is emitted twice).
  assert.equal(s.setStateByStanzaId(id, 'm1', 'acked'), null);
  // Never back: an acked message stays acked when something says 'sent'.
  assert.equal(s.setStateByStanzaId(id, 'm1', 'sent'), null);
  assert.equal(s.getMessage(sent.id)?.state, 'acked');
  // XEP-0184: the recipient's receipt moves it to 'delivered', and nothing moves it back.
  assert.equal(s.setStateByStanzaId(id, 'm1', 'delivered')?.state, 'delivered');
  assert.equal(s.setStateByStanzaId(id, 'm1', 'acked'), null);
  assert.equal(s.setStateByStanzaId(id, 'm1', 'sent'), null);
  assert.equal(s.getMessage(sent.id)?.state, 'delivered');
  // An incoming message's id, a failed message, an unknown or empty id: nothing.
  assert.equal(s.setStateByStanzaId(id, 'm2', 'acked'), null);
  assert.equal(s.getMessage(incoming.id)?.state, 'received');
  assert.equal(s.setStateByStanzaId(id, 'm3', 'acked'), null);
  assert.equal(s.setStateByStanzaId(id, 'm3', 'delivered'), null);
  assert.equal(s.getMessage(failed.id)?.state, 'failed');
  assert.equal(s.setStateByStanzaId(id, 'nope', 'acked'), null);
  assert.equal(s.setStateByStanzaId(id, '', 'acked'), null);
  // A queued message the server acknowledged (it was written, and the ack came first) is acked.
  const queued = s.insertMessage(msg(id, { direction: 'out', state: 'queued', stanzaId: 'm4' })).message;
  assert.equal(s.setStateByStanzaId(id, 'm4', 'acked')?.state, 'acked');
  assert.deepEqual(s.queuedMessages(id), []);
  assert.equal(s.getMessage(queued.id)?.state, 'acked');
});
