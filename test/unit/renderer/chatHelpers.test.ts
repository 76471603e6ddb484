/** The chat view's pure helpers: day labels and grouping, links in bodies, the virtual window. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { continuesGroup, dayLabel, msUntilNextDay, startsDay } from '../../../renderer/src/chat/days.ts';
import { MAY_LINK, linkify, xmppUriJid } from '../../../renderer/src/chat/linkify.ts';
import type { MessageView } from '../../../app/contract/viewModels.ts';
import { byTime, mergeMessages } from '../../../renderer/src/chat/mergeMessages.ts';
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
  it('the next day starts at the next local midnight (the chat view ticks then)', () => {
    assert.equal(msUntilNextDay(at(2026, 12, 6, 23, 59)), 60_000);
    assert.equal(msUntilNextDay(at(2026, 12, 6, 0, 0)), at(2026, 12, 7, 0, 0) - at(2026, 12, 6, 0, 0));
    const late = at(2026, 12, 31, 23, 30) + 1234;
    assert.equal(late + msUntilNextDay(late), at(2027, 1, 1, 0, 0));
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

describe('merging messages into the held window', () => {
  const m = (id: string, at: number): MessageView => ({
    id,
    accountId: 'a1',
    peer: 'bob@example.org',
    direction: 'in',
    body: id,
    stanzaId: id,
    at,
    state: 'delivered',
    error: null,
  });
  const held = [m('c', 30), m('d', 40)];
  const ids = (list: readonly MessageView[]) => list.map((x) => x.id).join(',');

  it('puts an older page before and a newer page after, keeping the message objects', () => {
    const older = [m('a', 10), m('b', 20)];
    const merged = mergeMessages(held, older);
    assert.equal(ids(merged), 'a,b,c,d');
    assert.equal(merged[2], held[0]);
    assert.equal(ids(mergeMessages(held, [m('e', 50), m('f', 60)])), 'c,d,e,f');
    assert.equal(ids(held), 'c,d', 'the held array is not changed');
  });

  it('replaces a held message in place and sorts one that lands in the middle', () => {
    const updated = { ...m('c', 30), state: 'failed' as const };
    const merged = mergeMessages(held, [updated]);
    assert.equal(ids(merged), 'c,d');
    assert.equal(merged[0], updated);
    assert.equal(ids(mergeMessages(held, [m('x', 35)])), 'c,x,d');
    assert.equal(ids(mergeMessages(held, [m('z', 45), m('y', 5)])), 'y,c,d,z');
    // Same time: ordered by id.
    assert.equal(ids(mergeMessages(held, [m('cc', 30)])), 'c,cc,d');
  });

  it('orders ids at the same time as numbers when both are numbers, as storage does', () => {
    assert.equal(ids([m('10', 30), m('9', 30)].toSorted(byTime)), '9,10');
    assert.equal(ids(mergeMessages([m('9', 30)], [m('10', 30)])), '9,10');
    assert.equal(ids(mergeMessages([m('10', 30)], [m('9', 30)])), '9,10');
    assert.equal(ids([m('m-9', 30), m('m-12', 30)].toSorted(byTime)), 'm-12,m-9', 'not numbers: as strings');
    assert.equal(byTime(m('7', 30), m('7', 30)), 0);
  });

  it('with `from: held`, leaves out a message older than the first held (the paging cursor)', () => {
    const within = { from: 'held' as const };
    assert.equal(ids(mergeMessages(held, [m('a', 10)], within)), 'c,d', 'the concat path');
    assert.equal(ids(mergeMessages(held, [m('a', 10), m('x', 35)], within)), 'c,x,d', 'the sorting path');
    assert.equal(ids(mergeMessages(held, [m('e', 50)], within)), 'c,d,e');
    const updated = { ...m('c', 30), state: 'failed' as const };
    assert.equal(mergeMessages(held, [updated], within)[0], updated);
    assert.equal(mergeMessages(held, [m('a', 10)], within), held, 'nothing to add: the same array');
    assert.equal(ids(mergeMessages([], [m('a', 10)], within)), 'a', 'an empty window has no cursor');
  });

  it('an empty window takes the page in time order', () => {
    assert.equal(ids(mergeMessages([], [m('b', 2), m('a', 1)])), 'a,b');
    assert.equal(ids(mergeMessages([], [m('a', 1), m('b', 2)])), 'a,b');
    assert.equal(mergeMessages(held, []), held);
  });
});
