/**
 * conversation.changed from the core (app/core/conversations.ts): one event per conversation per
 * batch, with the stored view, however many messages the batch stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationView, EventEnvelope } from '../../../app/contract/index.ts';
import { ConversationNotifier } from '../../../app/core/conversations.ts';
import { storeIncomingMessage } from '../../../app/core/incomingMessage.ts';
import type { IncomingMessage } from '../../../app/connect/sessionMessaging.ts';
import { openStorage } from '../../../app/storage/storage.ts';

function rig(t: { after(fn: () => void): void }) {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: 'alice@example.org' }).id;
  const changed: ConversationView[] = [];
  let pending: (() => void) | null = null;
  const emit = (e: EventEnvelope) => {
    if (e.name === 'conversation.changed') changed.push(e.payload.conversation);
  };
  const conversations = new ConversationNotifier({
    storage,
    emit,
    schedule: (flush) => {
      assert.equal(pending, null, 'one flush scheduled per batch');
      pending = flush;
    },
  });
  const endBatch = () => {
    const flush = pending;
    pending = null;
    flush?.();
  };
  const receive = (incoming: Partial<IncomingMessage> & { body: string; from: string }) =>
    storeIncomingMessage({ storage, emit, log: () => undefined, conversations }, accountId, 'alice@example.org', {
      direction: 'in',
      peer: incoming.from.split('/')[0]!,
      id: null,
      originId: null,
      serverId: null,
      sentAt: null,
      via: 'live',
      notBefore: null,
      ...incoming,
    }).outcome;
  return { storage, accountId, changed, conversations, endBatch, receive };
}

test('an archive page of 50 messages for two peers gives one conversation.changed per peer', (t) => {
  const r = rig(t);
  for (let n = 0; n < 50; n++) {
    r.receive({
      from: n % 2 === 0 ? 'bob@example.org/a' : 'carol@example.org/b',
      body: `m${n}`,
      serverId: `arch-${n}`,
      sentAt: 1000 + n,
      via: 'archive',
    });
  }
  assert.equal(r.changed.length, 0, 'nothing before the batch ends');
  r.endBatch();
  assert.deepEqual(
    r.changed.map((c) => [c.peer, c.unread, c.lastMessage?.body]),
    [
      ['bob@example.org', 25, 'm48'],
      ['carol@example.org', 25, 'm49'],
    ],
  );
});

test('a duplicate changes nothing and announces nothing', (t) => {
  const r = rig(t);
  assert.equal(r.receive({ from: 'bob@example.org/a', body: 'hi', serverId: 's1', sentAt: 5 }), 'stored');
  r.endBatch();
  r.changed.length = 0;
  assert.equal(r.receive({ from: 'bob@example.org/a', body: 'hi', serverId: 's1', sentAt: 5 }), 'duplicate');
  r.endBatch();
  assert.deepEqual(r.changed, []);
  assert.equal(r.storage.getConversation(r.accountId, 'bob@example.org')?.unread, 1);
});

test('rosterChanged re-announces only the conversations of those JIDs, with the new name', (t) => {
  const r = rig(t);
  r.receive({ from: 'bob@example.org/a', body: 'hi', sentAt: 1 });
  r.receive({ from: 'carol@example.org/a', body: 'hi', sentAt: 2 });
  r.endBatch();
  r.changed.length = 0;
  r.storage.upsertRosterItem(r.accountId, {
    jid: 'bob@example.org',
    name: 'Bob',
    subscription: 'both',
    ask: false,
    groups: [],
  });
  r.conversations.rosterChanged(r.accountId, ['Bob@example.org', 'dave@example.org']);
  r.endBatch();
  assert.deepEqual(
    r.changed.map((c) => [c.peer, c.name, c.stranger]),
    [['bob@example.org', 'Bob', false]],
  );
});

test('after close, pending changes are sent once and later ones never read the closed database', (t) => {
  const r = rig(t);
  r.receive({ from: 'bob@example.org/a', body: 'hi', sentAt: 1 });
  r.conversations.close();
  assert.equal(r.changed.length, 1);
  r.conversations.touched(r.accountId, 'bob@example.org');
  r.endBatch();
  assert.equal(r.changed.length, 1);
});
