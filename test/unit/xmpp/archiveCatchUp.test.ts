/** The XEP-0313 catch-up plan: pages of 50 until complete, what to ask next, hostile archives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveCatchUp, MAX_ARCHIVE_PAGES } from '../../../app/xmpp/archiveCatchUp.ts';

test('from a known stanza-id: pages after it, then after each last, until complete', () => {
  const c = new ArchiveCatchUp({ after: 'S10', start: 5 });
  assert.deepEqual(c.next(), { after: 'S10', max: 50 });
  c.sent('q1');
  assert.equal(c.next(), null, 'nothing while a page is in flight');
  c.page('other', { complete: true, last: 'X' });
  assert.equal(c.state, 'waiting', 'another query is not ours');
  c.page('q1', { complete: false, last: 'S60' });
  assert.deepEqual(c.next(), { after: 'S60', max: 50 });
  c.sent('q2');
  c.page('q2', { complete: true, last: 'S75' });
  assert.equal(c.state, 'done');
  assert.equal(c.position, 'S75');
  assert.equal(c.next(), null);
});

test('first login: from a start time, keeping the filter while paging; an empty archive is done', () => {
  const c = new ArchiveCatchUp({ after: null, start: 1000 }, 2);
  assert.deepEqual(c.next(), { after: null, start: 1000, max: 2 });
  c.sent('q1');
  c.page('q1', { complete: false, last: 'A2' });
  assert.deepEqual(c.next(), { after: 'A2', start: 1000, max: 2 });
  const empty = new ArchiveCatchUp({ after: null, start: 1000 });
  empty.sent('e');
  empty.page('e', { complete: true, last: null });
  assert.equal(empty.state, 'done');
  assert.equal(empty.position, null);
});

test('XEP-0313 §4.3 item-not-found for a position the archive dropped: start over from the start time, once', () => {
  const c = new ArchiveCatchUp({ after: 'gone', start: 1000 });
  c.sent('q1');
  assert.equal(c.failed('other', 'item-not-found'), 'ignored');
  assert.equal(c.failed('q1', 'item-not-found'), 'restarted');
  assert.deepEqual(c.next(), { after: null, start: 1000, max: 50 });
  c.sent('q2');
  assert.equal(c.failed('q2', 'item-not-found'), 'failed');
  assert.equal(c.state, 'failed');
  assert.equal(c.failure, 'item-not-found');
});

test('a hostile archive cannot keep it paging: no last, the same page again, endless pages', () => {
  const noLast = new ArchiveCatchUp({ after: 'S1', start: null });
  noLast.sent('q');
  noLast.page('q', { complete: false, last: null });
  assert.equal(noLast.state, 'failed');

  const same = new ArchiveCatchUp({ after: 'S1', start: null });
  same.sent('q');
  same.page('q', { complete: false, last: 'S1' });
  assert.equal(same.state, 'failed');

  const endless = new ArchiveCatchUp({ after: null, start: null });
  let pages = 0;
  for (let q = endless.next(); q; q = endless.next()) {
    endless.sent(`q${pages}`);
    endless.page(`q${pages}`, { complete: false, last: `L${pages}` });
    pages++;
  }
  assert.equal(pages, MAX_ARCHIVE_PAGES);
  assert.equal(endless.state, 'failed');
});
