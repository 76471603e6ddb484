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
import { SessionMessaging } from '../../../app/connect/sessionMessaging.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import { messageEvent, type MessageEvent } from '../../support/messageEvent.ts';
import { archiveStart } from '../../../app/core/archiveStart.ts';
import { historyTime, storeIncomingMessage } from '../../../app/core/incomingMessage.ts';
import { openStorage, type Storage } from '../../../app/storage/storage.ts';

const ACCOUNT = 'bob@example.org';

/** Bob's profile and his session's messaging, fed by hand; `now` is this machine's clock. */
function rig(t: { after(fn: () => void): void }) {
  const storage: Storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: ACCOUNT }).id;
  const clock = { now: 0 };
  const queries: string[] = [];
  let n = 0;
  const driver = {
    state: 'online',
    enableCarbons: () => 'c-1',
    setClientState: () => true,
    queryArchive: (q: { after?: string | null }) => (queries.push(q.after ?? '-'), `q-${++n}`),
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
    archiveProgress: (lastId, complete) =>
      storage.setArchivePosition(accountId, { lastId, lastAt: clock.now, complete }),
    log: () => undefined,
  });
  /** A fresh stream (the server restarted): carbons on, the presence out, the catch-up asked. */
  const login = (): void => {
    messaging.detach();
    messaging.attach(driver, { resumed: false, inlineEnabled: ['urn:xmpp:carbons:2'] });
    messaging.readArchive();
  };
  const message = (i: number, over: Partial<MessageEvent>): MessageEvent =>
    messageEvent({
      from: 'alice@example.org/laptop',
      to: `${ACCOUNT}/quiver`,
      id: `m-${i}`,
      originId: `m-${i}`,
      serverId: `S${i}`,
      body: `line ${i}`,
      ...over,
    });
  return {
    storage,
    accountId,
    clock,
    queries,
    login,
    /** Message i comes live at `at` on this machine's clock. */
    live(i: number, at: number): void {
      clock.now = at;
      messaging.handle(message(i, {}));
    },
    /** Message i comes as a result of query `queryId`, stamped `stamp` by the server. */
    archived(queryId: string, i: number, stamp: number, at: number): void {
      clock.now = at;
      messaging.handle(message(i, { serverId: null, archive: { queryId, id: `S${i}` }, delay: stamp }));
    },
    page(queryId: string, last: string | null): void {
      messaging.handle({ type: 'archive-page', queryId, complete: true, first: null, last, count: null });
    },
    /** The bodies' numbers in the order the chat shows them, with their times. */
    history(): { i: number; at: number }[] {
      return storage
        .history(accountId, 'alice@example.org', { limit: 100 })
        .map((m) => ({ i: Number(m.body.split(' ')[1]), at: m.at }));
    },
  };
}

test('messages fetched from the archive after a restart go after the live ones before them, and before the live ones after', (t) => {
  const r = rig(t);
  r.login();
  r.page('q-1', null);
  // 1..5 come live; the server archived them a few ms before each arrived here.
  for (let i = 1; i <= 5; i++) r.live(i, 1000 + 10 * i);
  // The server restarts: 6..8 (archived at 1020..1022 by its clock, ahead of ours) never came.
  r.login();
  assert.equal(r.queries.at(-1), 'S5', 'the catch-up reads after the last live message');
  // 9 and 10 come live before the catch-up's results.
  r.live(9, 2000);
  r.live(10, 2001);
  r.archived('q-2', 6, 1020, 2002);
  r.archived('q-2', 7, 1021, 2003);
  r.archived('q-2', 8, 1022, 2004);
  r.archived('q-2', 9, 1990, 2005);
  r.archived('q-2', 10, 1991, 2006);
  r.page('q-2', 'S10');
  const history = r.history();
  assert.deepEqual(
    history.map((m) => m.i),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  // Placed right after 5 (1050), not at the server's stamps nor at their arrival.
  assert.deepEqual(
    history.filter((m) => m.i >= 6 && m.i <= 8).map((m) => m.at),
    [1050, 1050, 1050],
  );
});

test('a copy already stored among the results moves the floor: what follows it in the archive goes after it', (t) => {
  const r = rig(t);
  r.login();
  r.page('q-1', null);
  r.live(1, 1000);
  r.login();
  // 3 came live (the new session's presence was out), 2 and 4 only to the archive.
  r.live(3, 1500);
  r.archived('q-2', 2, 1100, 1501);
  r.archived('q-2', 3, 1490, 1502);
  r.archived('q-2', 4, 1495, 1503);
  r.page('q-2', 'S4');
  assert.deepEqual(
    r.history().map((m) => [m.i, m.at]),
    [
      [1, 1000],
      [2, 1100],
      [3, 1500],
      [4, 1500],
    ],
  );
});

test('a first login keeps the archive order too, and the next catch-up starts after the newest position', (t) => {
  const r = rig(t);
  r.login();
  assert.equal(r.queries.at(-1), '-', 'no position: read from a time');
  r.archived('q-1', 1, 900, 1000);
  r.archived('q-1', 2, 800, 1001); // a server clock that stepped back: still after 1
  r.page('q-1', 'S2');
  assert.deepEqual(
    r.history().map((m) => [m.i, m.at]),
    [
      [1, 900],
      [2, 900],
    ],
  );
  assert.deepEqual(archiveStart(r.storage, r.accountId, 5000, 0).notBefore, 900);
});

test('the history time: the stamp, no earlier than the floor, never in the future', () => {
  assert.equal(historyTime({ sentAt: null, notBefore: null }, 50), 50);
  assert.equal(historyTime({ sentAt: 20, notBefore: null }, 50), 20);
  assert.equal(historyTime({ sentAt: 20, notBefore: 30 }, 50), 30);
  assert.equal(historyTime({ sentAt: 40, notBefore: 30 }, 50), 40);
  assert.equal(historyTime({ sentAt: 90, notBefore: 30 }, 50), 50, 'a stamp ahead of this clock');
  assert.equal(historyTime({ sentAt: 20, notBefore: 70 }, 50), 50, 'a floor ahead of this clock');
  assert.equal(historyTime({ sentAt: null, notBefore: 30 }, 50), 50);
});

test('the catch-up start: after the stored position, no earlier than the message there, else than when it moved', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const id = storage.addAccount({ jid: ACCOUNT }).id;
  assert.deepEqual(archiveStart(storage, id, 10_000_500, 2_000_500), {
    after: null,
    start: 1_999_000,
    notBefore: null,
  });
  storage.setArchivePosition(id, { lastId: 'gone', lastAt: 9_000_000, complete: true });
  assert.deepEqual(archiveStart(storage, id, 10_000_000, 0), {
    after: 'gone',
    start: 9_000_000 - 5 * 60 * 1000,
    notBefore: 9_000_000,
  });
  storage.insertMessage({
    accountId: id,
    peer: 'alice@example.org',
    direction: 'in',
    body: 'there',
    stanzaId: null,
    serverId: 'here',
    at: 8_500_000,
    state: 'received',
  });
  storage.setArchivePosition(id, { lastId: 'here', lastAt: 9_000_000, complete: true });
  assert.equal(archiveStart(storage, id, 10_000_000, 0).notBefore, 8_500_000);
});
