/**
 * Review: an account removed with its history keeps its messages, but what it had not sent yet must
 * not go out later when the same address is added again (its history moves to the new account).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage/storage.ts';

test('messages not yet sent when an account is removed with its history are failed, not sent on re-adding it', (t) => {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  const old = s.addAccount({ jid: 'alice@example.org' }).id;
  const base = { accountId: old, peer: 'bob@example.org', direction: 'out' as const, stanzaId: null, at: 10 };
  const queued = s.insertMessage({ ...base, body: 'written offline', state: 'queued' }).message;
  const sent = s.insertMessage({ ...base, body: 'written, never confirmed', state: 'sent', at: 11 }).message;
  s.removeAccount(old, true, 100);
  const again = s.addAccount({ jid: 'alice@example.org' }).id;
  assert.deepEqual(s.pendingMessages(again), []);
  assert.deepEqual(s.queuedMessages(again), []);
  for (const m of [queued, sent]) {
    const now = s.getMessage(m.id);
    assert.equal(now?.state, 'failed');
    assert.match(now?.error ?? '', /removed/);
  }
});
