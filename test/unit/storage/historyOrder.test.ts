/**
 * History is ordered by the time a message was sent (`at`, the XEP-0203 delay stamp when there
 * was one), then by id: a message fetched from the archive after newer ones arrived still shows
 * in its place, and paging by an opaque message id neither skips nor repeats a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../../app/storage/storage.ts';
import { setup, msg } from './memoryStorage.ts';

test('a message sent earlier but stored later (archive catch-up) shows before the newer ones', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'live 1', 1000));
  s.insertMessage(msg(id, 'live 2', 3000));
  // Stored last, with the delay stamp of when it was sent.
  s.insertMessage(msg(id, 'from the archive', 2000, { arrivedAt: 4000, serverId: 'srv-9' }));
  assert.deepEqual(
    s.history(id, 'bob@example.org').map((m) => m.body),
    ['live 1', 'from the archive', 'live 2'],
  );
  // The conversation's latest is the one sent last, not the one stored last.
  assert.equal(s.conversations(id)[0]?.lastMessage?.body, 'live 2');
});

test('keyset paging by message id walks (at, id) without skipping or repeating, ties by id', (t) => {
  const { s, id } = setup(t);
  // Stored in an order unlike the sending order, with ties on `at`.
  const times = [50, 10, 30, 30, 20, 30, 40, 10, 60];
  times.forEach((at, i) => s.insertMessage(msg(id, `m${i}`, at)));
  const expected = times
    .map((at, i) => ({ at, i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((m) => `m${m.i}`);

  const seen: string[] = [];
  let page = s.history(id, 'bob@example.org', { limit: 2 });
  for (let guard = 0; page.length > 0 && guard < 20; guard++) {
    seen.unshift(...page.map((m) => m.body));
    page = s.history(id, 'bob@example.org', { limit: 2, before: page[0]!.id });
  }
  assert.deepEqual(seen, expected);
  assert.deepEqual(
    s.history(id, 'bob@example.org', { limit: 100 }).map((m) => m.body),
    expected,
  );
});

test('paging before a message that does not exist is an error, not an empty page', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'one', 1));
  assert.throws(
    () => s.history(id, 'bob@example.org', { before: '999' }),
    (e: unknown) => e instanceof StorageError && e.code === 'message-not-found',
  );
});

test('conversations order by each peer latest sent message, ties by id', (t) => {
  const { s, id } = setup(t);
  s.insertMessage(msg(id, 'carol new', 500, { peer: 'carol@example.org' }));
  s.insertMessage(msg(id, 'bob old', 100));
  s.insertMessage(msg(id, 'dave', 500, { peer: 'dave@example.org' }));
  s.insertMessage(msg(id, 'carol old, stored late', 200, { peer: 'carol@example.org' }));
  assert.deepEqual(
    s.conversations(id).map((c) => [c.peer, c.lastMessage?.body]),
    [
      ['dave@example.org', 'dave'],
      ['carol@example.org', 'carol new'],
      ['bob@example.org', 'bob old'],
    ],
  );
});
