/** The conversation list's and search view's pure helpers: row times, marked snippets, notification text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { activityTime } from '../../../renderer/src/components/conversations/when.ts';
import { snippetParts } from '../../../renderer/src/components/conversations/snippet.ts';
import { clip } from '../../../renderer/src/notifications.ts';

const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();

describe('activityTime', () => {
  const now = at(2026, 12, 6, 19); // a Sunday
  it('shows the time of day for today', () => {
    assert.equal(activityTime(at(2026, 12, 6, 8, 5), now, 'en-GB'), '08:05');
  });
  it('shows the weekday within the last week', () => {
    assert.equal(activityTime(at(2026, 12, 5, 23, 59), now, 'en-GB'), 'Sat');
    assert.equal(activityTime(at(2026, 11, 30, 0, 1), now, 'en-GB'), 'Mon');
  });
  it('shows the date from a week ago on', () => {
    assert.equal(activityTime(at(2026, 11, 29, 23), now, 'en-GB'), '29 Nov 2026');
  });
});

describe('snippetParts', () => {
  it('splits the core’s U+0002/U+0003 markers into marked and plain parts', () => {
    assert.deepEqual(snippetParts('See you at \u0002dinner\u0003 and \u0002lunch\u0003!'), [
      { text: 'See you at ', marked: false },
      { text: 'dinner', marked: true },
      { text: ' and ', marked: false },
      { text: 'lunch', marked: true },
      { text: '!', marked: false },
    ]);
  });
  it('keeps markup as text and survives unbalanced markers', () => {
    assert.deepEqual(snippetParts('<b>\u0002x\u0003'), [
      { text: '<b>', marked: false },
      { text: 'x', marked: true },
    ]);
    assert.deepEqual(snippetParts('a\u0003b\u0002'), [
      { text: 'a', marked: false },
      { text: 'b', marked: false },
    ]);
  });
});

describe('clip', () => {
  it('keeps short text, flattens whitespace and cuts long text with an ellipsis', () => {
    assert.equal(clip('hi\n  there', 140), 'hi there');
    const cut = clip('x'.repeat(300), 140);
    assert.equal(cut.length, 140);
    assert.ok(cut.endsWith('…'));
  });
});
