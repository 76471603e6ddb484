/**
 * SessionMessaging: what an account's session does with message events (receipts, carbons,
 * archive catch-up, chat states, client state), against a recording stand-in for the driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SessionMessaging,
  type IncomingMessage,
  type MessagingCallbacks,
  type CatchUpStart,
  type StoreOutcome,
} from '../../../app/connect/sessionMessaging.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import { messageEvent } from '../../support/messageEvent.ts';

const message = messageEvent;

function rig(options: { archive?: CatchUpStart | null; outcome?: StoreOutcome } = {}) {
  const calls: string[] = [];
  let queries = 0;
  const driver = {
    state: 'online',
    enableCarbons: () => (calls.push('carbons'), 'c-1'),
    setClientState: (s: string) => (calls.push(`csi ${s}`), true),
    queryArchive: (q: { after?: string | null; start?: number | null }) => {
      calls.push(`mam after=${q.after ?? '-'} start=${q.start ?? '-'}`);
      return `q-${++queries}`;
    },
    sendReceipt: (to: string, id: string) => (calls.push(`receipt ${to} ${id}`), 'r'),
    sendChatState: (to: string, state: string) => (calls.push(`state ${to} ${state}`), 's'),
  };
  const stored: IncomingMessage[] = [];
  const receipts: string[] = [];
  const states: string[] = [];
  const progress: string[] = [];
  const callbacks: MessagingCallbacks = {
    message: (m) => {
      stored.push(m);
      return { outcome: options.outcome ?? 'stored', at: null };
    },
    receipt: (from, id) => receipts.push(`${from} ${id}`),
    chatState: (from, state) => states.push(`${from} ${state}`),
    ...(options.archive === null
      ? {}
      : { archiveStart: () => options.archive ?? { after: 'A-0', start: null, floor: null } }),
    archiveProgress: (id, complete) => progress.push(`${id}${complete ? ' complete' : ''}`),
    log: () => undefined,
  };
  const messaging = new SessionMessaging('alice@example.org', callbacks);
  return { messaging, driver: driver as unknown as StreamDriver, calls, stored, receipts, states, progress };
}

test('a fresh stream enables carbons and reads the archive after the stored position, once the presence is out', () => {
  const r = rig();
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  assert.deepEqual(r.calls, ['carbons'], 'no archive query before the initial presence');
  r.messaging.readArchive();
  r.messaging.readArchive();
  assert.deepEqual(r.calls, ['carbons', 'mam after=A-0 start=-']);
});

test('carbons enabled inline with Bind 2 are not enabled again; a first login reads from a start time', () => {
  const r = rig({ archive: { after: null, start: 1000, floor: null } });
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: ['urn:xmpp:carbons:2'] });
  r.messaging.readArchive();
  assert.deepEqual(r.calls, ['mam after=- start=1000']);
});

test('a resumed stream after a finished catch-up asks for nothing but says the client state again', () => {
  const r = rig();
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle({ type: 'archive-page', queryId: 'q-1', complete: true, first: null, last: null, count: 0 });
  r.calls.length = 0;
  r.messaging.detach();
  r.messaging.attach(r.driver, { resumed: true, inlineEnabled: [] });
  // The resumed session's server may hold the state of before the drop: said again, forced.
  assert.deepEqual(r.calls, ['csi active']);
});

test('archive pages: each stored result moves the position, paging goes on until complete', () => {
  const r = rig();
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle({ type: 'carbons-enabled', id: 'c-1' });
  r.messaging.handle(message({ archive: { queryId: 'q-1', id: 'A-1' }, delay: 500, carbon: null }));
  r.messaging.handle({ type: 'archive-page', queryId: 'q-1', complete: false, first: 'A-1', last: 'A-1', count: 2 });
  assert.equal(r.calls.at(-1), 'mam after=A-1 start=-');
  r.messaging.handle(
    message({
      archive: { queryId: 'q-2', id: 'A-2' },
      from: 'alice@example.org/laptop',
      to: 'bob@example.org',
      carbon: 'sent',
    }),
  );
  r.messaging.handle({ type: 'archive-page', queryId: 'q-2', complete: true, first: 'A-2', last: 'A-2', count: 2 });
  assert.deepEqual(r.progress, ['A-1', 'A-2 complete']);
  assert.deepEqual(
    r.stored.map((m) => [m.via, m.direction, m.peer, m.serverId, m.sentAt]),
    [
      ['archive', 'in', 'bob@example.org/phone', 'A-1', 500],
      ['archive', 'out', 'bob@example.org', 'A-2', null],
    ],
  );
  // After the catch-up, a live message stamped by our server is the newest position.
  r.messaging.handle(message({ serverId: 'A-3' }));
  assert.equal(r.progress.at(-1), 'A-3 complete');
});

test('before the catch-up is complete, live messages do not move the archive position', () => {
  const r = rig();
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle(message({ serverId: 'A-9' }));
  assert.deepEqual(r.progress, []);
});

test('a receipt is sent for a requested live message once stored (and for a copy), never for carbons or archive results', () => {
  const r = rig({ archive: null });
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle(message({ receiptRequested: true }));
  r.messaging.handle(message({ receiptRequested: true, carbon: 'received' }));
  r.messaging.handle(message({ receiptRequested: true, archive: { queryId: 'q', id: 'A' } }));
  assert.deepEqual(
    r.calls.filter((c) => c.startsWith('receipt')),
    ['receipt bob@example.org/phone b-1'],
  );
  const refused = rig({ archive: null, outcome: 'refused' });
  refused.messaging.attach(refused.driver, { resumed: false, inlineEnabled: [] });
  refused.messaging.readArchive();
  refused.messaging.handle(message({ receiptRequested: true }));
  assert.deepEqual(
    refused.calls.filter((c) => c.startsWith('receipt')),
    [],
    'a message not kept is not confirmed',
  );
});

test('receipts and chat states are reported; a sent carbon is stored as ours to its recipient', () => {
  const r = rig({ archive: null });
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle(message({ body: null, receiptFor: 'm-7' }));
  r.messaging.handle(message({ body: null, chatState: 'composing' }));
  r.messaging.handle(message({ carbon: 'sent', from: 'alice@example.org/phone', to: 'bob@example.org' }));
  r.messaging.handle(message({ messageType: 'groupchat' }));
  assert.deepEqual(r.receipts, ['bob@example.org/phone m-7']);
  assert.deepEqual(r.states, ['bob@example.org/phone composing']);
  assert.deepEqual(
    r.stored.map((m) => [m.via, m.direction, m.peer]),
    [['carbon', 'out', 'bob@example.org']],
  );
});

test('the client state is kept and told to each fresh stream when not the default', () => {
  const r = rig({ archive: null });
  r.messaging.setClientState('inactive');
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  assert.ok(r.calls.includes('csi inactive'));
  r.messaging.setClientState('active');
  assert.equal(r.calls.at(-1), 'csi active');
});

test("without carbons, live messages never move the archive position (other devices' messages are only there)", () => {
  const r = rig();
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.readArchive();
  r.messaging.handle({ type: 'carbons-failed', id: 'c-1', condition: 'service-unavailable' });
  r.messaging.handle({ type: 'archive-page', queryId: 'q-1', complete: true, first: null, last: 'A-1', count: 1 });
  r.messaging.handle(message({ serverId: 'A-2' }));
  assert.deepEqual(r.progress, ['A-1 complete']);
});

test('XEP-0085: our chat states go only to a contact that sent one, never twice the same, and reset by a message', () => {
  const r = rig({ archive: null });
  r.messaging.attach(r.driver, { resumed: false, inlineEnabled: [] });
  r.messaging.sendChatState('bob@example.org', 'composing');
  assert.deepEqual(
    r.calls.filter((c) => c.startsWith('state')),
    [],
    'bob has not shown he understands chat states',
  );
  r.messaging.handle(message({ chatState: 'active' }));
  r.messaging.sendChatState('bob@example.org', 'composing');
  r.messaging.sendChatState('bob@example.org', 'composing');
  r.messaging.sendChatState('bob@example.org', 'paused');
  r.messaging.contentSent('bob@example.org');
  r.messaging.sendChatState('bob@example.org', 'composing');
  assert.deepEqual(
    r.calls.filter((c) => c.startsWith('state')),
    ['state bob@example.org composing', 'state bob@example.org paused', 'state bob@example.org composing'],
  );
});
