/**
 * Paging history forwards (chat.history's `after` and `oldest`, issue 13): the chat view drops
 * pages far from the view and loads them again, and Home jumps to the first message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage/storage.ts';
import { HISTORY_AFTER_SQL } from '../../../app/storage/messages.ts';

test('the oldest page, then page after page forwards, walks (at, id) like paging backwards', (t) => {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  const id = s.addAccount({ jid: 'alice@example.org' }).id;
  const times = [50, 10, 30, 30, 20, 30, 40, 10, 60];
  times.forEach((at, i) =>
    s.insertMessage({
      accountId: id,
      peer: 'bob@example.org',
      direction: 'in',
      body: `m${i}`,
      stanzaId: null,
      at,
      state: 'received',
    }),
  );
  const expected = s.history(id, 'bob@example.org', { limit: 100 }).map((m) => m.body);

  const seen: string[] = [];
  let page = s.history(id, 'bob@example.org', { limit: 2, oldest: true });
  for (let guard = 0; page.length > 0 && guard < 20; guard++) {
    seen.push(...page.map((m) => m.body));
    page = s.history(id, 'bob@example.org', { limit: 2, after: page.at(-1)!.id });
  }
  assert.deepEqual(seen, expected);
  assert.throws(() => s.history(id, 'bob@example.org', { after: '999999' }), { code: 'message-not-found' });
  // Backwards paging is unchanged by `oldest` when `before` is given.
  const last = s.history(id, 'bob@example.org', { limit: 1 })[0]!;
  assert.deepEqual(
    s.history(id, 'bob@example.org', { limit: 1, before: last.id, oldest: true }).map((m) => m.body),
    [expected.at(-2)],
  );
  assert.match(HISTORY_AFTER_SQL, /ORDER BY at, id/);
});
