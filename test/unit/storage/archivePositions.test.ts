import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage/storage.ts';

test('the archive position is per account, replaced on set, cleared, and removed with its account', (t) => {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  const b = s.addAccount({ jid: 'alice@example.net' }).id;
  assert.equal(s.archivePosition(a), null);
  s.setArchivePosition(a, { lastId: 'srv-1', lastAt: 1000, complete: false, historyAt: 990 });
  s.setArchivePosition(a, { lastId: 'srv-2', lastAt: null, complete: true, historyAt: null });
  s.setArchivePosition(b, { lastId: 'other', lastAt: 5, complete: false, historyAt: 4 });
  assert.deepEqual(s.archivePosition(a), { lastId: 'srv-2', lastAt: null, complete: true, historyAt: null });
  assert.deepEqual(s.archivePosition(b), { lastId: 'other', lastAt: 5, complete: false, historyAt: 4 });
  assert.throws(() => s.setArchivePosition(a, { lastId: '', lastAt: 1, complete: true, historyAt: 1 }), RangeError);
  s.clearArchivePosition(a);
  assert.equal(s.archivePosition(a), null);
  s.removeAccount(b);
  assert.equal(s.archivePosition(b), null);
});
