/** The chat view's pure helpers: day labels and grouping, links in bodies, the virtual window. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { continuesGroup, dayLabel, startsDay } from '../../../renderer/src/chat/days.ts';
import { MAY_LINK, linkify, xmppUriJid } from '../../../renderer/src/chat/linkify.ts';
import { offsetOf, rowOffsets, visibleRows, ESTIMATED_ROW } from '../../../renderer/src/chat/virtualWindow.ts';

const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();

describe('day labels', () => {
  const now = at(2026, 12, 6, 19);
  it('says Today, Yesterday, the weekday within a week, else the date', () => {
    assert.equal(dayLabel(at(2026, 12, 6, 0, 1), now), 'Today');
    assert.equal(dayLabel(at(2026, 12, 5, 23, 59), now), 'Yesterday');
    assert.equal(
      dayLabel(at(2026, 12, 2), now),
      new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(at(2026, 12, 2)),
    );
    assert.match(dayLabel(at(2026, 11, 29), now), /2026/);
  });
  it('starts a day and groups by sender within five minutes', () => {
    const a = { at: at(2026, 12, 6, 10), direction: 'in' as const };
    assert.equal(startsDay(undefined, a), true);
    assert.equal(startsDay(a, { ...a, at: a.at + 60_000 }), false);
    assert.equal(startsDay({ ...a, at: at(2026, 12, 5, 23) }, a), true);
    assert.equal(continuesGroup(a, { ...a, at: a.at + 60_000 }), true);
    assert.equal(continuesGroup(a, { at: a.at + 60_000, direction: 'out' }), false);
    assert.equal(continuesGroup(a, { ...a, at: a.at + 6 * 60_000 }), false);
  });
});

describe('linkify', () => {
  it('finds http(s) and xmpp: links and leaves sentence punctuation out', () => {
    assert.deepEqual(linkify('see https://example.org/a?b=1. and xmpp:bob@example.org?message!'), [
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1', scheme: 'http' },
      { kind: 'text', text: '. and ' },
      { kind: 'link', text: 'xmpp:bob@example.org?message', href: 'xmpp:bob@example.org?message', scheme: 'xmpp' },
      { kind: 'text', text: '!' },
    ]);
  });
  it('keeps a balanced parenthesis and gives the body back whole', () => {
    const body = '(wiki: https://en.wikipedia.org/wiki/XMPP_(protocol)) <b>not html</b> javascript:alert(1)';
    const segments = linkify(body);
    assert.equal(segments.map((s) => s.text).join(''), body);
    const links = segments.filter((s) => s.kind === 'link');
    assert.deepEqual(
      links.map((l) => l.text),
      ['https://en.wikipedia.org/wiki/XMPP_(protocol)'],
    );
  });
  it('MAY_LINK passes every body that has a link (a body it fails is left as one text node)', () => {
    for (const body of ['see https://example.org', 'HTTP://EXAMPLE.ORG', 'xmpp:bob@example.org', 'Xmpp:bob@x.y']) {
      assert.ok(MAY_LINK.test(body), body);
    }
    for (const body of ['message number 7', 'http: not a link', 'mailto:bob@example.org', 'ftp://example.org']) {
      assert.equal(MAY_LINK.test(body), false, body);
      assert.deepEqual(linkify(body), [{ kind: 'text', text: body }]);
    }
  });
  it('reads the JID of an xmpp: URI', () => {
    assert.equal(xmppUriJid('xmpp:bob@example.org?message;body=hi'), 'bob@example.org');
    assert.equal(xmppUriJid('xmpp://alice@example.org/carol%40example.net'), 'carol@example.net');
    assert.equal(xmppUriJid('xmpp:%zz'), null);
  });
});

describe('virtual window', () => {
  it('renders only the rows a viewport needs, with the space of the others', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `m${i}`);
    const heights = new Map([['m0', 100]]);
    const offsets = rowOffsets(ids, heights);
    assert.equal(offsetOf(offsets, ids.length), 100 + (ids.length - 1) * ESTIMATED_ROW);
    const rows = visibleRows(offsets, 100 + 500 * ESTIMATED_ROW, 700, 200);
    assert.ok(rows.end - rows.start < 30, `${rows.end - rows.start} rows`);
    assert.equal(rows.before, offsetOf(offsets, rows.start));
    assert.equal(
      rows.before + (offsetOf(offsets, rows.end) - offsetOf(offsets, rows.start)) + rows.after,
      offsetOf(offsets, ids.length),
    );
    const end = visibleRows(offsets, offsetOf(offsets, ids.length) - 700, 700, 200);
    assert.equal(end.end, ids.length);
    assert.equal(end.after, 0);
  });
});
