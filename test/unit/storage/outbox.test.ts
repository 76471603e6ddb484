import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../../app/storage/storage.ts';
import type { NewMessage } from '../../../app/storage/storage.ts';
import { setup } from './memoryStorage.ts';

const out = (accountId: string, stanzaId: string, over: Partial<NewMessage> = {}): NewMessage => ({
  accountId,
  peer: 'bob@example.org',
  direction: 'out',
  body: `body of ${stanzaId}`,
  stanzaId,
  at: 1000,
  state: 'queued',
  ...over,
});

const isCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

test('pendingMessages: queued and sent outgoing messages, oldest first, never acked, delivered, failed or incoming', (t) => {
  const { s, id } = setup(t);
  const other = s.addAccount({ jid: 'alice@example.net' }).id;
  const ids: Record<string, string> = {};
  for (const sid of ['a', 'b', 'c', 'd', 'e', 'f']) ids[sid] = s.insertMessage(out(id, sid, { at: 2000 })).message.id;
  // Sent earlier by the clock but created later: creation order is send order.
  ids.g = s.insertMessage(out(id, 'g', { at: 1 })).message.id;
  s.insertMessage(out(other, 'x'));
  s.insertMessage({ ...out(id, 'in-1'), direction: 'in', state: 'received' });
  s.markSent(ids.b!, 1);
  s.markSent(ids.c!, 2);
  s.ackStanzaIds(id, ['c']);
  s.markSent(ids.d!, 3);
  s.setStateByStanzaId(id, 'd', 'delivered');
  s.failByStanzaId(id, 'e', 'refused');

  const pending = s.pendingMessages(id);
  assert.deepEqual(
    pending.map((p) => [p.message.stanzaId, p.message.state, p.smSeq]),
    [
      ['a', 'queued', null],
      ['b', 'sent', 1],
      ['f', 'queued', null],
      ['g', 'queued', null],
    ],
  );
  assert.deepEqual(
    s.queuedMessages(id).map((m) => m.stanzaId),
    ['a', 'f', 'g'],
  );
});

test('markSent records the counter value, rewrites it on a resend, and never moves a confirmed message back', (t) => {
  const { s, id } = setup(t);
  const m = s.insertMessage(out(id, 'a')).message;
  assert.deepEqual(s.markSent(m.id, 7), { ...m, state: 'sent' });
  // Written again on a stream that did not resume: the new stream's counter value.
  s.markSent(m.id, 2);
  assert.equal(s.pendingMessages(id)[0]?.smSeq, 2);
  // Without stream management there is no counter value.
  s.markSent(m.id, null);
  assert.equal(s.pendingMessages(id)[0]?.smSeq, null);
  s.ackStanzaIds(id, ['a']);
  assert.equal(s.markSent(m.id, 3), null);
  assert.equal(s.getMessage(m.id)?.state, 'acked');
  assert.throws(() => s.markSent('999', 1), isCode('message-not-found'));
  assert.throws(() => s.markSent(m.id, -1), RangeError);
  assert.throws(() => s.markSent(m.id, 2 ** 32), RangeError);
  const incoming = s.insertMessage({ ...out(id, 'in-1'), direction: 'in', state: 'received' }).message;
  assert.equal(s.markSent(incoming.id, 1), null);
  assert.equal(s.getMessage(incoming.id)?.state, 'received');
});

test('ackStanzaIds acks pending messages in one call and returns only those that changed', (t) => {
  const { s, id } = setup(t);
  const a = s.insertMessage(out(id, 'a')).message;
  const b = s.insertMessage(out(id, 'b')).message;
  s.markSent(a.id, 1);
  s.markSent(b.id, 2);
  s.setStateByStanzaId(id, 'b', 'delivered');
  const changed = s.ackStanzaIds(id, ['a', 'b', 'iq-1', '', 'a']);
  assert.deepEqual(
    changed.map((m) => [m.stanzaId, m.state]),
    [['a', 'acked']],
  );
  assert.equal(s.getMessage(b.id)?.state, 'delivered', 'a receipt is not undone by a late ack');
});

test('ackThroughSmSeq acks what the server counted and returns the rest to write again, across the 2^32 wrap', (t) => {
  const { s, id } = setup(t);
  const seqs = [2 ** 32 - 2, 2 ** 32 - 1, 0, 1, 2];
  const msgs = seqs.map((seq, i) => {
    const m = s.insertMessage(out(id, `m${i}`)).message;
    s.markSent(m.id, seq);
    return m;
  });
  const never = s.insertMessage(out(id, 'q')).message;
  const r = s.ackThroughSmSeq(id, 0);
  assert.deepEqual(
    r.acked.map((m) => m.stanzaId),
    ['m0', 'm1', 'm2'],
  );
  assert.deepEqual(
    r.unacked.map((p) => [p.message.stanzaId, p.smSeq]),
    [
      ['m3', 1],
      ['m4', 2],
    ],
  );
  assert.equal(s.getMessage(msgs[3]!.id)?.state, 'sent');
  assert.equal(s.getMessage(never.id)?.state, 'queued', 'a message never written is not acked');
  assert.throws(() => s.ackThroughSmSeq(id, 2 ** 32), RangeError);
});

test('failByStanzaId fails queued, sent or acked messages with a reason; retryMessage queues them again under the same id', (t) => {
  const { s, id } = setup(t);
  const m = s.insertMessage(out(id, 'a')).message;
  s.markSent(m.id, 1);
  const failed = s.failByStanzaId(id, 'a', 'bob@example.org does not exist. Check the address.');
  assert.deepEqual(failed, {
    ...m,
    state: 'failed',
    error: 'bob@example.org does not exist. Check the address.',
  });
  assert.deepEqual(s.pendingMessages(id), []);
  // 'failed' stays: acks and receipts do not revive it, a second refusal changes nothing.
  assert.deepEqual(s.ackStanzaIds(id, ['a']), []);
  assert.equal(s.setStateByStanzaId(id, 'a', 'delivered'), null);
  assert.equal(s.failByStanzaId(id, 'a', 'again'), null);
  assert.equal(s.getMessage(m.id)?.error, 'bob@example.org does not exist. Check the address.');

  const retried = s.retryMessage(m.id);
  assert.deepEqual(retried, { ...m, state: 'queued', error: null });
  assert.deepEqual(
    s.pendingMessages(id).map((p) => [p.message.id, p.message.stanzaId, p.smSeq]),
    [[m.id, 'a', null]],
  );
  assert.throws(() => s.retryMessage(m.id), isCode('message-not-retryable'));
  assert.throws(() => s.retryMessage('999'), isCode('message-not-found'));

  // An acked message may still be refused (the server stored it, then bounced it); a delivered one not.
  s.markSent(m.id, 1);
  s.ackStanzaIds(id, ['a']);
  assert.equal(s.failByStanzaId(id, 'a', 'bounced')?.state, 'failed');
  const d = s.insertMessage(out(id, 'd')).message;
  s.setStateByStanzaId(id, 'd', 'delivered');
  assert.equal(s.failByStanzaId(id, 'd', 'late error'), null);
  assert.equal(s.getMessage(d.id)?.state, 'delivered');
  // An incoming message is never failed or retried.
  const incoming = s.insertMessage({ ...out(id, 'in-1'), direction: 'in', state: 'received' }).message;
  assert.equal(s.failByStanzaId(id, 'in-1', 'x'), null);
  assert.throws(() => s.retryMessage(incoming.id), isCode('message-not-retryable'));
});
