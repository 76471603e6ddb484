/**
 * Default account labels (app/storage/accountLabel.ts): two accounts never share one, so the colour
 * is never the only cue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountLabel, defaultLabel } from '../../../app/storage/accountLabel.ts';

const labels = (jids: string[]) => jids.map((jid) => defaultLabel(jid, jids));

test('the domain when no other account has it', () => {
  assert.deepEqual(labels(['alice@alpha.test']), ['alpha.test']);
  assert.deepEqual(labels(['alice@alpha.test', 'alice@beta.test']), ['alpha.test', 'beta.test']);
});

test('the bare JID on a shared domain', () => {
  // Review: two accounts on alpha.test were both 'alpha.test'. And the local part alone ('bob')
  // read like the contact bob@… in the demo's list: the whole address says it is an account.
  assert.deepEqual(labels(['alice@alpha.test', 'bob@alpha.test', 'carol@modern.test']), [
    'alice@alpha.test',
    'bob@alpha.test',
    'modern.test',
  ]);
  assert.deepEqual(labels(['a.test', 'alice@a.test']), ['a.test', 'alice@a.test']);
});

test("the person's label wins; every label of a mixed list is distinct", () => {
  assert.equal(accountLabel({ jid: 'alice@alpha.test', label: 'Work' }, ['bob@alpha.test']), 'Work');
  assert.equal(accountLabel({ jid: 'alice@alpha.test', label: null }, ['bob@alpha.test']), 'alice@alpha.test');
  const jids = ['a@x.test', 'b@x.test', 'a@y.test', 'a@z.test', 'c@y.test', 'x.test'];
  assert.equal(new Set(labels(jids)).size, jids.length);
});
