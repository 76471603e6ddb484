/**
 * The history keeps the server's order when a server restart cuts a burst in two: what came live
 * before it, what the archive catch-up brings after it, and what comes live meanwhile. Live
 * messages are placed by this machine's clock when they arrive; archive results carry the
 * server's stamp of when it archived them, which runs ahead of ours by the delivery. The CI run of
 * the issue-12 fault test met exactly this: 13 of 100 messages fetched from the archive sorted
 * among the live ones before them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'ltx';
import { SessionMessaging } from '../../../app/connect/sessionMessaging.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import { messageEvent, type MessageEvent } from '../../support/messageEvent.ts';
import { archiveStart, CLOCK_MARGIN_MS } from '../../../app/core/archiveStart.ts';
import { historyTime, storeIncomingMessage } from '../../../app/core/incomingMessage.ts';
import { inboundMessage } from '../../../app/xmpp/inboundStanza.ts';
import { openStorage, type Storage } from '../../../app/storage/storage.ts';

const ACCOUNT = 'bob@example.org';
const ALICE = 'alice@example.org';
const CAROL = 'carol@example.org';
const HOUR = 3600_000;

/** Bob's profile and his session's messaging, fed by hand; `clock.now` is this machine's clock. */
function rig(t: { after(fn: () => void): void }) {
  const storage: Storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: ACCOUNT }).id;
  const clock = { now: 0 };
  /** The `after` of each archive query sent ('-': from a time), and its `start`. */
  const queries: string[] = [];
  const starts: (number | null)[] = [];
  let n = 0;
  const driver = {
    state: 'online',
    enableCarbons: () => 'c-1',
    setClientState: () => true,
    queryArchive: (q: { after?: string | null; start?: number | null }) => {
      queries.push(q.after ?? '-');
      starts.push(q.start ?? null);
      return `q-${++n}`;
    },
    sendReceipt: () => 'r',
    sendChatState: () => 's',
  } as unknown as StreamDriver;
  const messaging = new SessionMessaging(ACCOUNT, {
    message: (incoming) =>
      storeIncomingMessage(
        { storage, emit: () => undefined, log: () => undefined },
        accountId,
        ACCOUNT,
        incoming,
        clock.now,
      ),
    archiveStart: () => archiveStart(storage, accountId, clock.now, 0),
    archiveProgress: (lastId, complete, historyAt) =>
      storage.setArchivePosition(accountId, { lastId, lastAt: clock.now, complete, historyAt }),
    log: () => undefined,
  });
  const message = (i: number, over: Partial<MessageEvent>): MessageEvent =>
    messageEvent({
      from: `${ALICE}/laptop`,
      to: `${ACCOUNT}/quiver`,
      id: `m-${i}`,
      originId: `m-${i}`,
      serverId: `S${i}`,
      body: `line ${i}`,
      ...over,
    });
  /** The query the last archive request went out under. */
  const query = (): string => `q-${n}`;
  return {
    storage,
    accountId,
    clock,
    queries,
    starts,
    query,
    messaging,
    /** A stream that did not resume (a server restart): carbons on, the presence out, the catch-up asked. */
    login(): void {
      messaging.detach();
      messaging.attach(driver, { resumed: false, inlineEnabled: ['urn:xmpp:carbons:2'] });
      messaging.readArchive();
    },
    /** The stream came back and the server resumed the session. */
    resume(): void {
      messaging.detach();
      messaging.attach(driver, { resumed: true, inlineEnabled: [] });
    },
    /** Message i comes live at `at` on this machine's clock. */
    live(i: number, at: number, from = ALICE, over: Partial<MessageEvent> = {}): void {
      clock.now = at;
      messaging.handle(message(i, { from: `${from}/laptop`, ...over }));
    },
    /** Message i comes as a result of the open query, stamped `stamp` by the server, at `at` here. */
    archived(i: number, stamp: number, at: number, over: Partial<MessageEvent> = {}): void {
      clock.now = at;
      messaging.handle(
        message(i, { serverId: null, archive: { queryId: query(), id: `S${i}` }, delay: stamp, ...over }),
      );
    },
    /** The open query's <fin/>. */
    page(last: string | null, complete = true): void {
      messaging.handle({ type: 'archive-page', queryId: query(), complete, first: null, last, count: null });
    },
    /** The numbers of `peer`'s chat in the order it shows them, with their times. */
    history(peer = ALICE): [number, number][] {
      return storage
        .history(accountId, peer, { limit: 100 })
        .map((m): [number, number] => [Number(m.body.split(' ')[1]), m.at]);
    },
  };
}

const order = (history: [number, number][]): number[] => history.map(([i]) => i);

test('messages fetched from the archive after a restart go after the live ones before them, and before the live ones after', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  // 1..5 come live; the server archived them a few ms before each arrived here.
  for (let i = 1; i <= 5; i++) r.live(i, 1000 + 10 * i);
  assert.equal(r.storage.archivePosition(r.accountId)?.historyAt, 1050, 'the position and its time move with each');
  // The server restarts: 6..8 (archived at 1020..1022 by its clock, ahead of ours) never came.
  r.login();
  assert.equal(r.queries.at(-1), 'S5', 'the catch-up reads after the last live message');
  // 9 and 10 come live before the catch-up's results.
  r.live(9, 2000);
  r.live(10, 2001);
  r.archived(6, 1020, 2002);
  r.archived(7, 1021, 2003);
  r.archived(8, 1022, 2004);
  r.archived(9, 1990, 2005);
  r.archived(10, 1991, 2006);
  r.page('S10');
  // 6..8 right after 5 (1050), not at the server's stamps nor at their arrival.
  assert.deepEqual(r.history(), [
    [1, 1010],
    [2, 1020],
    [3, 1030],
    [4, 1040],
    [5, 1050],
    [6, 1050],
    [7, 1050],
    [8, 1050],
    [9, 2000],
    [10, 2001],
  ]);
});

test('a copy already stored among the results moves the floor: what follows it in the archive goes after it', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 1000);
  r.login();
  // 3 came live (the new session's presence was out), 2 and 4 only to the archive.
  r.live(3, 1500);
  r.archived(2, 1100, 1501);
  r.archived(3, 1490, 1502);
  r.archived(4, 1495, 1503);
  r.page('S4');
  assert.deepEqual(r.history(), [
    [1, 1000],
    [2, 1100],
    [3, 1500],
    [4, 1500],
  ]);
});

test('the floor holds across pages, and a first login keeps the archive order too', (t) => {
  const r = rig(t);
  r.login();
  assert.equal(r.queries.at(-1), '-', 'no position: read from a time');
  r.archived(1, 900, 1000);
  r.page('S1', false);
  assert.equal(r.queries.at(-1), 'S1', 'the next page');
  r.archived(2, 800, 1001); // a server clock that stepped back: still after 1
  r.page('S2');
  assert.deepEqual(r.history(), [
    [1, 900],
    [2, 900],
  ]);
  assert.equal(r.storage.archivePosition(r.accountId)?.historyAt, 900);
});

test('a catch-up cut short by a dropped stream: the next one places the rest by their stamps, after what it had', (t) => {
  // The position stands on a message this device sent (recognised by its stanza id, so its
  // archive id is not stored): the position's history time is kept with it, not looked up.
  const r = rig(t);
  r.storage.insertMessage({
    accountId: r.accountId,
    peer: ALICE,
    direction: 'out',
    body: 'line 2',
    stanzaId: 'm-2',
    originId: 'm-2',
    at: 10 * HOUR,
    state: 'sent',
  });
  r.clock.now = 20 * HOUR;
  r.login();
  r.archived(1, 9 * HOUR, 20 * HOUR);
  r.archived(2, 10 * HOUR, 20 * HOUR, { from: `${ACCOUNT}/quiver`, to: `${ALICE}`, carbon: 'sent' });
  r.page('S2', false);
  // The stream drops before the next page; a minute later a new one reads on from S2.
  r.clock.now = 20 * HOUR + 60_000;
  r.login();
  assert.equal(r.queries.at(-1), 'S2');
  // 3 was archived 3 ms before 2 was stored here (the server's clock a little behind ours).
  r.archived(3, 10 * HOUR - 3, r.clock.now);
  r.archived(4, 12 * HOUR, r.clock.now);
  r.page('S4');
  assert.deepEqual(
    r.history().map(([i, at]) => [i, at / HOUR]),
    [
      [1, 9],
      [2, 10],
      [3, 10],
      [4, 12],
    ],
  );
});

test('a resumed stream finishes the catch-up the drop cut short, from the stored position and floor', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 1000);
  r.live(2, 1100);
  r.login();
  r.archived(3, 1050, 1200);
  r.page('S3', false);
  r.resume();
  assert.equal(r.queries.at(-1), 'S3', 'the resumed stream reads on after the last page');
  r.archived(4, 1060, 1300);
  r.page('S4');
  assert.deepEqual(order(r.history()), [1, 2, 3, 4]);
  assert.ok(
    r.history().every(([i, at]) => i < 3 || at === 1100),
    'placed right after 2',
  );
});

test('when the archive no longer holds the position, what it brings from the earlier time goes by its stamp', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 10 * HOUR);
  r.live(3, 10 * HOUR + 1000);
  // The archive lost S3 (expired, or migrated with new ids): item-not-found, read from a time.
  r.clock.now = 11 * HOUR;
  r.login();
  assert.equal(r.queries.at(-1), 'S3');
  r.messaging.handle({ type: 'archive-failed', queryId: r.query(), condition: 'item-not-found' });
  assert.equal(r.queries.at(-1), '-', 'read again from a time');
  assert.equal(r.starts.at(-1), 10 * HOUR + 1000 - CLOCK_MARGIN_MS, 'when the position moved, less the margin');
  // 2 reached only another device: it was between 1 and 3.
  r.archived(1, 10 * HOUR - 5, 11 * HOUR, { archive: { queryId: r.query(), id: 'N1' } });
  r.archived(2, 10 * HOUR + 500, 11 * HOUR, { archive: { queryId: r.query(), id: 'N2' } });
  r.archived(3, 10 * HOUR + 995, 11 * HOUR, { archive: { queryId: r.query(), id: 'N3' } });
  r.archived(4, 10 * HOUR + 2000, 11 * HOUR, { archive: { queryId: r.query(), id: 'N4' } });
  r.page('N4');
  assert.deepEqual(r.history(), [
    [1, 10 * HOUR],
    [2, 10 * HOUR + 500],
    [3, 10 * HOUR + 1000],
    [4, 10 * HOUR + 2000],
  ]);
});

test('a clock set back since: the results still go after the position', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 5000);
  r.login();
  // This machine's clock was 3 s ahead and is corrected: now reads 2000.
  r.archived(2, 1990, 2000);
  r.page('S2');
  assert.deepEqual(r.history(), [
    [1, 5000],
    [2, 5000],
  ]);
});

test('a clock that ran ahead by more than the tolerance: the results go by their stamps, not after it', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  // This clock ran 2 h ahead when 1 came; it is corrected before the restart.
  r.live(1, 2 * HOUR);
  r.login();
  r.archived(2, 10 * 60_000, 15 * 60_000);
  r.archived(3, 12 * 60_000, 15 * 60_000);
  r.page('S3');
  r.live(4, 20 * 60_000);
  assert.deepEqual(
    r.history().map(([i, at]) => [i, at / 60_000]),
    [
      [2, 10],
      [3, 12],
      [4, 20],
      [1, 120],
    ],
  );
});

test('a live message carrying an old stamp (held offline) does not move the floor back', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 1000);
  r.live(2, 1010, ALICE, { delay: 500 });
  assert.equal(r.storage.archivePosition(r.accountId)?.historyAt, 1000);
  r.login();
  r.archived(3, 997, 1100);
  r.page('S3');
  assert.deepEqual(r.history(), [
    [2, 500],
    [1, 1000],
    [3, 1000],
  ]);
});

test('several contacts in one archive: each chat keeps its order', (t) => {
  const r = rig(t);
  r.login();
  r.page(null);
  r.live(1, 1000);
  r.live(2, 1010, CAROL);
  r.login();
  r.archived(3, 990, 1100);
  r.archived(4, 995, 1101, { from: `${CAROL}/phone` });
  r.archived(5, 1200, 1300);
  r.page('S5');
  assert.deepEqual(order(r.history()), [1, 3, 5]);
  assert.deepEqual(order(r.history(CAROL)), [2, 4]);
});

test('stamps to the second (Prosody 0.12): an archive result goes before the live message of that second it precedes', (t) => {
  const r = rig(t);
  r.login();
  const q = r.query();
  const second = Date.UTC(2026, 11, 6, 16, 50, 7);
  // 2 came live at .300 of that second, while the first login's catch-up was being read.
  r.live(2, second + 300);
  const result = (i: number, id: string): void => {
    const el = parse(
      `<message xmlns='jabber:client' to='${ACCOUNT}/quiver'><result xmlns='urn:xmpp:mam:2' queryid='${q}' id='${id}'>` +
        `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T16:50:07Z'/>` +
        `<message xmlns='jabber:client' from='${ALICE}/laptop' to='${ACCOUNT}' type='chat'><body>line ${i}</body>` +
        `<origin-id xmlns='urn:xmpp:sid:0' id='m-${i}'/></message></forwarded></result></message>`,
    );
    const [event] = inboundMessage(el, {
      account: ACCOUNT,
      boundJid: `${ACCOUNT}/quiver`,
      openArchiveQuery: (id) => id === q,
    }).events;
    assert.ok(event?.type === 'message');
    r.clock.now = second + 400;
    r.messaging.handle(event);
  };
  result(1, 'S1');
  result(2, 'S2');
  r.page('S2');
  assert.deepEqual(r.history(), [
    [1, second],
    [2, second + 300],
  ]);
});

test('the history time: the stamp (never in the future), no earlier than the floor', () => {
  assert.equal(historyTime({ sentAt: null, notBefore: null }, 50), 50);
  assert.equal(historyTime({ sentAt: 20, notBefore: null }, 50), 20);
  assert.equal(historyTime({ sentAt: 20, notBefore: 30 }, 50), 30);
  assert.equal(historyTime({ sentAt: 40, notBefore: 30 }, 50), 40);
  assert.equal(historyTime({ sentAt: 90, notBefore: 30 }, 50), 50, 'a stamp ahead of this clock');
  assert.equal(historyTime({ sentAt: 20, notBefore: 70 }, 50), 70, 'a floor ahead of this clock (set back since)');
  assert.equal(historyTime({ sentAt: 0, notBefore: 60_000 }, 90_000), 60_000, 'a minute before the floor: moved');
  assert.equal(historyTime({ sentAt: 0, notBefore: 60_001 }, 90_000), 0, 'further: the stamp is trusted');
  assert.equal(historyTime({ sentAt: null, notBefore: 30 }, 50), 50);
});

test('the catch-up start: the position, its stored history time, else the message there, else only a complete walk', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const id = storage.addAccount({ jid: ACCOUNT }).id;
  assert.deepEqual(archiveStart(storage, id, 10_000_500, 2_000_500), {
    after: null,
    start: 1_999_000,
    floor: null,
  });
  storage.setArchivePosition(id, { lastId: 'gone', lastAt: 9_000_000, complete: false, historyAt: 8_000_000 });
  assert.deepEqual(archiveStart(storage, id, 10_000_000, 0), {
    after: 'gone',
    start: 9_000_000 - CLOCK_MARGIN_MS,
    floor: 8_000_000,
  });
  // Positions stored before migration 0016 have no history time.
  storage.setArchivePosition(id, { lastId: 'gone', lastAt: 9_000_000, complete: false, historyAt: null });
  assert.equal(archiveStart(storage, id, 10_000_000, 0).floor, null, 'a walk cut short says nothing');
  storage.setArchivePosition(id, { lastId: 'gone', lastAt: 9_000_000, complete: true, historyAt: null });
  assert.equal(archiveStart(storage, id, 10_000_000, 0).floor, 9_000_000, 'a complete walk: when it ended');
  storage.insertMessage({
    accountId: id,
    peer: ALICE,
    direction: 'in',
    body: 'there',
    stanzaId: null,
    serverId: 'here',
    at: 8_500_000,
    state: 'received',
  });
  storage.setArchivePosition(id, { lastId: 'here', lastAt: 9_000_000, complete: true, historyAt: null });
  assert.equal(archiveStart(storage, id, 10_000_000, 0).floor, 8_500_000, 'the message there');
});
