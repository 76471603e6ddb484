import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage } from '../../../app/storage/storage.ts';
import type { SmState } from '../../../app/storage/storage.ts';

const state = (over: Partial<SmState> = {}): SmState => ({
  smId: 'sm-1',
  jid: 'alice@example.org/quiver-1',
  inboundH: 5,
  outboundH: 3,
  sent: 4,
  location: null,
  max: 300,
  savedAt: 1000,
  ...over,
});

test('stream-management state is saved, replaced, loaded, cleared, and removed with its account', (t) => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  assert.equal(s.loadSmState(a), null);
  s.saveSmState(a, state());
  const top = 2 ** 32 - 1;
  const wrapped = state({ inboundH: top, outboundH: 0, sent: top, location: '[2001:db8::1]:5222', max: null });
  s.saveSmState(a, wrapped);
  assert.deepEqual(s.loadSmState(a), wrapped);
  s.clearSmState(a);
  assert.equal(s.loadSmState(a), null);
  s.saveSmState(a, state());
  s.removeAccount(a);
  assert.equal(db.prepare('SELECT count(*) FROM sm_states').pluck().get(), 0);
});

test('out-of-range state is refused on save and a damaged row loads as null', (t) => {
  const db = openDatabase(':memory:');
  const s = bindStorage(db);
  t.after(() => s.close());
  const a = s.addAccount({ jid: 'alice@example.org' }).id;
  for (const bad of [
    { inboundH: -1 },
    { outboundH: 2 ** 32 },
    { sent: 1.5 },
    { smId: '' },
    { smId: 'x'.repeat(4001) },
  ]) {
    assert.throws(() => s.saveSmState(a, state(bad)), RangeError, JSON.stringify(bad).slice(0, 40));
  }
  s.saveSmState(a, state());
  for (const [column, value] of [
    ['inbound_h', 2 ** 32],
    ['outbound_h', -5],
    ['max', -1],
    ['sm_id', ''],
  ] as const) {
    s.saveSmState(a, state());
    db.prepare(`UPDATE sm_states SET ${column} = ? WHERE account_id = ?`).run(value, a);
    assert.equal(s.loadSmState(a), null, column);
  }
});
