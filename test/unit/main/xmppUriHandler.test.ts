import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEnvelope } from '../../../app/contract/events.ts';
import { badgeCountFromTitle, badgeFollowsTitle } from '../../../main/badge.ts';
import { EVENT_CHANNEL } from '../../../main/ipc.ts';
import { MAX_HELD_URIS, XmppUriInbox, xmppUriInArgv } from '../../../main/xmppUriHandler.ts';
import { FakeContents } from './fakeElectron.ts';

const jids = (contents: FakeContents) =>
  contents.sent
    .filter((m) => m.channel === EVENT_CHANNEL)
    .map((m) => (m.args[0] as Extract<EventEnvelope, { name: 'uri.opened' }>).payload.target.jid);

describe('XmppUriInbox', () => {
  test('holds at most MAX_HELD_URIS links until a window is attached, then delivers them in order', () => {
    const logged: string[] = [];
    const inbox = new XmppUriInbox((message) => logged.push(message));
    for (let i = 0; i < MAX_HELD_URIS + 5; i++) assert.equal(inbox.open(`xmpp:u${i}@example.org`), true);
    assert.equal(logged.filter((l) => /too many/.test(l)).length, 5);
    const contents = new FakeContents();
    inbox.attach(contents);
    assert.equal(jids(contents).length, MAX_HELD_URIS);
    assert.equal(jids(contents)[0], 'u0@example.org');
    inbox.open('xmpp:late@example.org');
    assert.equal(jids(contents).at(-1), 'late@example.org');
  });

  test('after the window closes, links wait for the next one', () => {
    const inbox = new XmppUriInbox(() => undefined);
    const first = new FakeContents();
    inbox.attach(first);
    inbox.detach(first);
    inbox.open('xmpp:romeo@montague.net');
    assert.deepEqual(jids(first), []);
    const second = new FakeContents();
    inbox.attach(second);
    assert.deepEqual(jids(second), ['romeo@montague.net']);
  });

  test('a hostile link is refused, logged cut short, and never reaches the window', () => {
    const logged: unknown[] = [];
    const inbox = new XmppUriInbox((message, detail) => logged.push(message, detail));
    const contents = new FakeContents();
    inbox.attach(contents);
    assert.equal(inbox.open(`xmpp:${'a'.repeat(20_000)}@x`), false);
    assert.equal(inbox.open('xmpp:javascript:alert(1)'), false);
    assert.deepEqual(contents.sent, []);
    assert.ok(logged.every((item) => typeof item !== 'string' || item.length <= 200 + 100));
  });

  test('finds the link on a command line among switches and paths', () => {
    assert.equal(xmppUriInArgv(['/opt/Quiver/quiver', '--enable-features=X', 'XMPP:a@b']), 'XMPP:a@b');
    assert.equal(xmppUriInArgv(['/opt/Quiver/quiver', '/home/u/xmpp:notes.txt']), null);
  });
});

describe('badge', () => {
  test('reads the count from "(N) Quiver" only, bounded', () => {
    assert.equal(badgeCountFromTitle('(7) Quiver'), 7);
    assert.equal(badgeCountFromTitle('Quiver'), 0);
    assert.equal(badgeCountFromTitle('(7) Quiver — evil'), 0);
    assert.equal(badgeCountFromTitle('(123456) Quiver'), 9999);
    assert.equal(badgeCountFromTitle('(1234567) Quiver'), 0);
  });

  test('sets the badge only when the count changes', () => {
    const counts: number[] = [];
    const listener = badgeFollowsTitle({ setBadgeCount: (n = 0) => (counts.push(n), true) });
    for (const title of ['Quiver', '(1) Quiver', '(1) Quiver', '(2) Quiver', 'Quiver']) listener({}, title);
    assert.deepEqual(counts, [0, 1, 2, 0]);
  });
});
